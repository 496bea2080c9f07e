/**
 * Live: the Relay infrastructure against a real Asterisk 22: a call leaving its AGI session
 * (Redirect) and coming back to the same Call through `[relay-resume]`, also with two consumers on
 * one Asterisk; an `EXEC`'d application stopped that way (D3); a call that does not come back in
 * time; helper ("spy") channels that hear the far party beside the call's own lane; and calls known
 * through AMI only. The far leg does real things (plays tones, records, hangs up busy) and the tests
 * measure what it heard and what the helper heard. Skipped, with the reason, when Docker or the
 * image cannot be had.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Call } from '../../src/relay/call.js';
import { RELAY_CONTEXTS } from '../../src/relay/dialplan.js';
import { CallNotControllableError } from '../../src/relay/errors.js';
import { AGIKIT_DIALPLAN, far } from '../../src/testing/asterisk.js';
import { callDialplan } from '../../src/testing/call-dialplan.js';
import { addExtensionCommand } from '../../src/testing/dialplan-text.js';
import type { FarStep } from '../../src/testing/far-steps.js';
import { Heard, shape } from './relay-audio.js';
import { MOUNT, RelayRig, live, skip } from './relay-rig.js';
import { newCallId } from './rig.js';
import { within } from '../support/settle.js';

/** A context where a channel agikit originates waits (it is known through AMI only there). */
const WAIT_CONTEXT = 'relay-test-wait';

/** Every state event of a call, in order. */
function watch(call: Call): string[] {
  const seen: string[] = [];
  for (const name of ['created', 'ringing', 'answered', 'ending', 'ended'] as const) call.on(name, () => seen.push(name));
  return seen;
}

/** Asserts `actual` is within 10 % of `expected`. */
function near(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= expected * 0.1, `${what}: ${actual.toFixed(0)}, expected ${expected.toFixed(0)} ± 10 %`);
}

/** The far leg's recording `name` (in the media directory), once closed. */
function heard(rig: RelayRig, name: string): Promise<Heard> {
  return Heard.closed(path.join(rig.dir, name));
}

/** The single loud stretch at the end of a recording: its length and strongest frequency. */
function lastLoud(recording: Heard): { durationMs: number; hz: number | undefined } {
  const loud = recording.loudRuns().at(-1);
  assert.ok(loud, `nothing loud was heard (${shape(recording.runs())})`);
  return { durationMs: loud.durationMs, hz: recording.peaks(loud.startMs + 100, loud.startMs + loud.durationMs - 100, { count: 1 })[0] };
}

/**
 * Adds the far leg `farId` (in the harness's far context) for a channel originated over AMI:
 * `Local/<farId>@agikit-far/n`, whose `;2` half runs `steps` and whose `;1` half is the call.
 */
async function addFarLeg(rig: RelayRig, farId: string, steps: readonly FarStep[]): Promise<void> {
  const plan = callDialplan(farId, { agi: 'agi://127.0.0.1:1/unused', far: steps });
  await rig.asterisk.cliMany(plan.adds.filter((command) => command.endsWith(`into ${AGIKIT_DIALPLAN.farContext}`)));
}

describe('live: Relay infrastructure (redirect and re-attach, helper channels, AMI-only calls)', { concurrency: true }, () => {
  let rig: RelayRig | undefined;
  /** Local path of a 2 s 600 Hz sine in the media directory (the call plays it). */
  let sine2 = '';
  /** Asterisk's name of a 4 s 1000 Hz tone in the media directory (the far leg plays it). */
  let farTone = '';
  before(async () => {
    if (!live.ok) return;
    rig = await RelayRig.start();
    sine2 = rig.writeSine('sine2.wav', 2, 600);
    rig.writeSine('sine6.wav', 6, 600);
    rig.writeSine('tone1k.wav', 4, 1000);
    farTone = `${MOUNT}/tone1k`;
    await rig.asterisk.cliMany([addExtensionCommand(WAIT_CONTEXT, 's', 1, 'Wait', '30'), addExtensionCommand(WAIT_CONTEXT, 's', 2, 'Hangup', '')]);
  });
  after(async () => {
    await rig?.stop();
  });

  it('a Redirect mid-STREAM FILE: the call comes back on /relay/resume to the same Call, which then plays (the far leg hears it); no ending, no ended', { skip }, async (t: TestContext) => {
    assert.ok(rig);
    const r = rig;
    const name = `redirect-${newCallId()}.wav`;
    let report: Record<string, unknown> = {};
    await r.run(
      async (call) => {
        const seen = watch(call);
        await call.answer();
        const first = call.agi;
        assert.ok(first);
        const stream = first.streamFile('tt-monkeys', '').then(
          () => 'played to its end',
          (error: Error) => error.name,
        );
        await sleep(1000);
        const started = Date.now();
        await call.leaveAgi();
        const leftMs = Date.now() - started;
        assert.equal(call.agi === null, true, 'the old session let go');
        assert.equal(await within(call.reattached(), 5000, 'the call to come back'), true);
        const backMs = Date.now() - started;
        const second = call.agi;
        assert.ok(second && second !== first, 'a new session');
        assert.equal(r.runtime.call(call.id), call, 'the runtime holds the same Call');
        assert.deepEqual([second.env.uniqueid, second.path, second.env.context], [call.id, '/relay/resume', RELAY_CONTEXTS.resume]);
        assert.equal(await stream, 'AgiHangupError', 'the STREAM FILE on the old session ended with it');
        assert.equal(await second.getVariable('AGISTATUS'), 'HANGUP', 'relay-probes §5: AGISTATUS is HANGUP in [relay-resume]');
        assert.equal(await second.getVariable('RELAY_OWNER'), r.runtime.owner, 'RELAY_OWNER written before the Redirect');
        const played = await call.playAudio(sine2);
        report = { leftMs, backMs, played: played.successful, seen: [...seen], state: call.state };
      },
      { far: [far.record(`${MOUNT}/${name}`, { maxSeconds: 20 })], timeoutMs: 40_000 },
    );
    assert.deepEqual({ played: report['played'], seen: report['seen'], state: report['state'] }, { played: true, seen: [], state: 'answered' });
    const recording = await heard(r, name);
    const loud = lastLoud(recording);
    near(loud.durationMs, 2000, 'ms of the play after the call came back');
    near(loud.hz ?? 0, 600, 'Hz of the play after the call came back');
    assert.ok(recording.loudRuns().length >= 2, `the monkeys before the Redirect, then the sine (${shape(recording.runs())})`);
    t.diagnostic(`Redirect to detach ${String(report['leftMs'])} ms, to re-attach ${String(report['backMs'])} ms; heard ${shape(recording.runs())}`);
  });

  it('two consumers on one Asterisk: each redirected call comes back to the consumer that owns it', { skip }, async () => {
    assert.ok(rig);
    const a = rig;
    const b = await rig.addConsumer();
    assert.notEqual(a.runtime.owner, b.runtime.owner);
    const outcomes = new Map<string, unknown>();
    const roundTrip = (label: string, owner: () => string | undefined) => async (call: Call) => {
      await call.answer();
      await call.leaveAgi();
      const back = await within(call.reattached(), 5000, `${label}: the call to come back`);
      outcomes.set(label, {
        back,
        owner: await call.agi?.getVariable('RELAY_OWNER'),
        expectedOwner: owner(),
        path: call.agi?.path,
        played: (await call.playSilence(1)).successful,
      });
    };
    await Promise.all([a.run(roundTrip('A', () => a.runtime.owner)), b.run(roundTrip('B', () => b.runtime.owner))]);
    for (const label of ['A', 'B']) {
      const outcome = outcomes.get(label) as Record<string, unknown>;
      assert.deepEqual(outcome, { back: true, owner: outcome['expectedOwner'], expectedOwner: outcome['expectedOwner'], path: '/relay/resume', played: true }, label);
    }
  });

  it("returnToAgi() stops an EXEC'd application (D3): EXEC Wait(20) returns at once and the call runs on a fresh session", { skip }, async (t: TestContext) => {
    assert.ok(rig);
    let report: Record<string, unknown> = {};
    await rig.run(async (call) => {
      await call.answer();
      const exec = call.agi!.exec('Wait', '20').then(
        (code) => `returned ${code}`,
        (error: Error) => error.name,
      );
      await sleep(500);
      const started = Date.now();
      const back = await call.returnToAgi();
      report = { back, ms: Date.now() - started, exec: await exec, state: call.state, answered: (await call.answer()).successful };
    });
    assert.deepEqual({ ...report, ms: undefined }, { back: true, ms: undefined, exec: 'AgiHangupError', state: 'answered', answered: true });
    assert.ok((report['ms'] as number) < 5000, `Wait(20) was cut short (${String(report['ms'])} ms)`);
    t.diagnostic(`EXEC Wait stopped and the call back on AGI after ${String(report['ms'])} ms`);
  });

  it('a call that does not come back within the bound is known through AMI only, then hung up over AMI', { skip }, async () => {
    assert.ok(rig);
    let report: Record<string, unknown> = {};
    const { result } = await rig.run(async (call) => {
      const seen = watch(call);
      await call.answer();
      // Sent to a context that never runs AGI: the call does not come back.
      await call.leaveAgi({ context: WAIT_CONTEXT, exten: 's' }, { resumeWithinMs: 1000 });
      const back = await within(call.reattached(), 5000, 'reattached() to give up');
      const refused = await call.playSilence(1).then(
        () => 'played',
        (error: unknown) => (error instanceof CallNotControllableError ? error.why : String(error)),
      );
      const hangup = await call.hangup();
      report = { back, agi: call.agi, refused, hangup: hangup.successful, reason: call.hangupReason, seen };
    });
    assert.deepEqual(report, { back: false, agi: null, refused: 'no-agi', hangup: true, reason: 'hangup', seen: ['ending', 'ended'] });
    assert.equal(result.location?.context, WAIT_CONTEXT, 'the channel hung up where it waited');
  });

  it("a helper channel hears the far party while the call's lane plays (the far leg hears the play undisturbed)", { skip }, async (t: TestContext) => {
    assert.ok(rig);
    const r = rig;
    const id = newCallId();
    const farHeard = `helper-far-${id}.wav`;
    const helperHeard = `helper-${id}`;
    let report: Record<string, unknown> = {};
    await r.run(
      async (call) => {
        await call.answer();
        const play = await call.playAudioAsync(path.join(r.dir, 'sine6.wav'));
        const helper = await r.runtime.helperChannel(call);
        assert.equal(helper.agi.env.uniqueid, helper.id);
        assert.equal(helper.agi.path, '/relay/helper');
        await r.asterisk.dbPut(`${AGIKIT_DIALPLAN.syncFamily}/${call.toNumber}`, 'speak', '1');
        const recorded = await helper.agi.recordFile(`${MOUNT}/${helperHeard}`, 'wav', '#', 3000);
        await within(helper.stop(), 10_000, 'the helper to stop');
        const result = await play.done;
        report = { recorded: recorded.reason, played: result.successful, helperClosed: helper.agi.closed || helper.agi.hangupReason !== null, state: call.state };
      },
      {
        far: [
          far.app('MixMonitor', `${MOUNT}/helper-mix-${id}.wav,r(${MOUNT}/${farHeard})`),
          far.waitFor('speak'),
          far.playback(farTone),
          far.silence(3),
          far.app('StopMixMonitor'),
        ],
        timeoutMs: 40_000,
      },
    );
    assert.deepEqual(report, { recorded: 'timeout', played: true, helperClosed: true, state: 'answered' });
    const helper = await heard(r, `${helperHeard}.wav`);
    const helperLoud = lastLoud(helper);
    assert.equal(helperLoud.hz, 1000, `the helper heard the far party's 1000 Hz tone (${shape(helper.runs())})`);
    const farSide = await heard(r, farHeard);
    const play = lastLoud(farSide);
    near(play.durationMs, 6000, "ms of the call's play the far leg heard");
    assert.equal(play.hz, 600, "the far leg heard the call's 600 Hz play");
    t.diagnostic(`helper heard ${shape(helper.runs())}; far leg heard ${shape(farSide.runs())}`);
  });

  it('a channel originated over AMI is a Call known through AMI only (states, no AGI), becomes AGI-attached through /relay/resume, plays, hangs up', { skip }, async () => {
    assert.ok(rig);
    const farId = newCallId();
    const name = `amionly-${farId}.wav`;
    await addFarLeg(rig, farId, [far.record(`${MOUNT}/${name}`, { maxSeconds: 15 })]);
    const id = randomUUID();
    const call = rig.runtime.trackCall({ id, context: 'live', fromNumber: '', toNumber: farId });
    const seen = watch(call);
    const ami = rig.runtime.ami!;
    const placed = await ami.originate({ channel: `Local/${farId}@${AGIKIT_DIALPLAN.farContext}/n`, context: WAIT_CONTEXT, exten: 's', channelId: id, timeoutMs: 10_000 });
    assert.equal(placed.success, true, `Originate: reason ${placed.reason}`);
    assert.equal(await within(call.waitForAnswered(), 5000, 'answered (Newstate 6)'), true);
    assert.equal(call.agi === null, true, 'no AGI session');
    await assert.rejects(call.playSilence(1), (error: unknown) => error instanceof CallNotControllableError && error.why === 'no-agi');
    await assert.rejects(call.answer(), (error: unknown) => error instanceof CallNotControllableError && error.why === 'no-agi');
    assert.equal(await within(call.returnToAgi(), 10_000, 'the call to attach'), true);
    assert.deepEqual([call.agi?.env.uniqueid, call.agi?.path], [id, '/relay/resume']);
    assert.equal((await call.playAudio(sine2)).successful, true);
    const hangup = await within(call.hangup(), 10_000, 'hangup');
    assert.deepEqual([hangup.successful, call.state, call.hangupReason], [true, 'ended', 'hangup']);
    assert.deepEqual(seen.filter((state) => state !== 'ringing'), ['created', 'answered', 'ending', 'ended']);
    assert.equal(rig.runtime.call(id), undefined, 'an ended call is forgotten');
    const recording = await heard(rig, name);
    const loud = lastLoud(recording);
    near(loud.durationMs, 2000, 'ms the far leg heard');
    near(loud.hz ?? 0, 600, 'Hz the far leg heard');
  });

  it('an AMI-only call follows the far end hanging up busy: ending, then ended with reason busy, from AMI events alone', { skip }, async () => {
    assert.ok(rig);
    const farId = newCallId();
    await addFarLeg(rig, farId, [far.waitFor('hang-up'), far.hangup(17)]);
    const id = randomUUID();
    const call = rig.runtime.trackCall({ id, context: 'live', fromNumber: '', toNumber: farId });
    const seen = watch(call);
    const placed = await rig.runtime.ami!.originate({ channel: `Local/${farId}@${AGIKIT_DIALPLAN.farContext}/n`, context: WAIT_CONTEXT, exten: 's', channelId: id, timeoutMs: 10_000 });
    assert.equal(placed.success, true, `Originate: reason ${placed.reason}`);
    await call.refreshState();
    assert.equal(call.state, 'answered', 'CHANNEL(state) over AMI');
    await rig.asterisk.dbPut(`${AGIKIT_DIALPLAN.syncFamily}/${farId}`, 'hang-up', '1');
    assert.equal(await within(call.waitForEnded(), 10_000, 'the call to end'), true);
    assert.deepEqual([call.hangupReason, call.busy, call.agi], ['busy', true, null]);
    assert.deepEqual(seen.filter((state) => state !== 'ringing'), ['created', 'answered', 'ending', 'ended']);
  });
});
