/**
 * Live: the Relay Call's detectors against a real Asterisk 22, with AMI and without (the AGI-only
 * subset). The far leg does real things: it speaks (Asterisk's `vm-intro` greeting, `hello`), sends
 * real silent frames (`silence/N`), presses keys (SendDTMF), plays fax tones and a beep (PlayTones),
 * and records what it hears (MixMonitor), so the tests check the verdicts, the digits, the tones and
 * that a play ran beside an AMI detector. The times measured are logged with `t.diagnostic`.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Call } from '../../src/relay/call.js';
import type { DetectAction } from '../../src/relay/detect.js';
import { RelayCapabilityError } from '../../src/relay/errors.js';
import type { DetectResult } from '../../src/relay/results.js';
import { AGIKIT_DIALPLAN, far, type FarStep } from '../../src/testing/asterisk.js';
import { until } from '../support/settle.js';
import { Heard, sineWav } from './relay-audio.js';
import { MOUNT, RelayRig, live, signalFar, skip } from './relay-rig.js';

/** An update as seen: what, and when (ms after the detector started). */
interface Update {
  readonly detection: string;
  readonly atMs: number;
}

/** Collects the call's `detect.update`s (times from now) and its `detect.finished` / `detect.error` states. */
function watchDetect(call: Call): { updates: Update[]; ends: string[] } {
  const started = Date.now();
  const updates: Update[] = [];
  const ends: string[] = [];
  call.on('detect.update', (_action, detection) => updates.push({ detection, atMs: Date.now() - started }));
  call.on('detect.finished', (action) => ends.push(`finished:${action.state}`));
  call.on('detect.error', (action) => ends.push(`error:${action.state}`));
  return { updates, ends };
}

/** The seed's fields of a result. */
function fields(result: DetectResult | undefined): Omit<DetectResult, 'event'> | undefined {
  return result && { successful: result.successful, type: result.type, result: result.result };
}

/** Raises a far-leg signal from the test side (the call's lane may be busy). */
async function signalNow(rig: RelayRig, call: Call, name: string): Promise<void> {
  await rig.asterisk.dbPut(`${AGIKIT_DIALPLAN.syncFamily}/${call.toNumber}`, name, '1');
}

/** Far-leg step: record, in the background, what the far leg receives from the call. */
function listenAs(name: string): FarStep {
  return far.app('MixMonitor', `${MOUNT}/${name}-mix.wav,r(${MOUNT}/${name}.wav)`);
}

/** A 440 Hz tone file of `seconds` in the rig's media directory (what the call plays beside a detector). */
function toneFile(rig: RelayRig, seconds: number): string {
  const file = path.join(rig.dir, `tone-${seconds}.wav`);
  if (!existsSync(file)) writeFileSync(file, sineWav(seconds, 440));
  return file;
}

/** `AMDCAUSE` of an AMD result. */
const cause = (result: DetectResult | undefined): string => String(result?.event?.payload['AMDCAUSE'] ?? '');

/** Far legs: speech, silence, tones. */
const GREETING: FarStep[] = [far.waitFor('go'), far.playback('vm-intro'), far.silence(8)];
const HELLO: FarStep[] = [far.waitFor('go'), far.playback('hello'), far.silence(6)];
const SILENT: FarStep[] = [far.waitFor('go'), far.silence(8)];
const CED: FarStep[] = [far.waitFor('go'), far.app('PlayTones', '2100/3000'), far.wait(8)];
const CNG: FarStep[] = [far.waitFor('go'), far.app('PlayTones', '1100/500,0/3000'), far.wait(10)];
/** A greeting, then a 1 kHz beep of 0.5 s (played once), then silence. */
const GREETING_BEEP: FarStep[] = [far.waitFor('go'), far.playback('vm-intro'), far.app('PlayTones', '!1000/500'), far.wait(1), far.silence(5)];

/** Runs `detector` on a call right after the far leg was told to go; resolves with its result and how long it took. */
async function detectOn(
  rig: RelayRig,
  farSteps: FarStep[],
  detector: (call: Call) => Promise<DetectResult>,
): Promise<{ result: DetectResult; tookMs: number; updates: Update[]; ends: string[] }> {
  let outcome: { result: DetectResult; tookMs: number; updates: Update[]; ends: string[] } | undefined;
  await rig.run(
    async (call) => {
      await signalFar(call, 'go');
      const { updates, ends } = watchDetect(call);
      const started = Date.now();
      const result = await detector(call);
      outcome = { result, tookMs: Date.now() - started, updates, ends };
    },
    { far: farSteps, timeoutMs: 60_000 },
  );
  assert.ok(outcome, 'the detector ran');
  return outcome;
}

function report(t: TestContext, what: string, run: { result: DetectResult; tookMs: number; updates: Update[] }): void {
  t.diagnostic(`${what}: ${JSON.stringify(fields(run.result))} after ${run.tookMs} ms; updates ${run.updates.map((u) => `${u.detection}@${u.atMs}`).join(' ')}; event ${JSON.stringify(run.result.event)}`);
}

describe('live: Relay detect with AMI', { concurrency: true }, () => {
  let rig: RelayRig | undefined;
  before(async () => {
    if (live.ok) rig = await RelayRig.start();
  });
  after(async () => {
    await rig?.stop();
  });

  it('AMD on a long greeting (vm-intro): MACHINE (LONGGREETING or MAXWORDS), one detect.update, detect.finished', { skip }, async (t) => {
    assert.ok(rig);
    const run = await detectOn(rig, GREETING, (call) => call.detectAnsweringMachine());
    report(t, 'vm-intro', run);
    assert.deepEqual(fields(run.result), { successful: true, type: 'machine', result: 'MACHINE' });
    assert.match(cause(run.result), /^(LONGGREETING|MAXWORDS)-/);
    assert.deepEqual(
      run.updates.map((u) => u.detection),
      ['MACHINE'],
    );
    assert.deepEqual(run.ends, ['finished:finished']);
    // machineVoiceThreshold 1.25 s of voice: far sooner than the 5.7 s greeting ends.
    assert.ok(run.tookMs < 4500, `MACHINE after ${run.tookMs} ms`);
  });

  it('AMD on "hello" then real silence: HUMAN; detectHuman is successful, detectMachine is not', { skip }, async (t) => {
    assert.ok(rig);
    const human = await detectOn(rig, HELLO, (call) => call.detectHuman());
    report(t, 'hello (detectHuman)', human);
    assert.deepEqual(fields(human.result), { successful: true, type: 'machine', result: 'HUMAN' });
    assert.match(cause(human.result), /^HUMAN-/);
    const machine = await detectOn(rig, HELLO, (call) => call.detectMachine());
    report(t, 'hello (detectMachine)', machine);
    assert.deepEqual(fields(machine.result), { successful: false, type: 'machine', result: 'HUMAN' });
    assert.deepEqual(
      machine.updates.map((u) => u.detection),
      ['HUMAN'],
    );
  });

  it('AMD on real silence: MACHINE (INITIALSILENCE) after initialTimeout (4.5 s; 2 s when asked)', { skip }, async (t) => {
    assert.ok(rig);
    const run = await detectOn(rig, SILENT, (call) => call.amd());
    report(t, 'silence', run);
    assert.deepEqual(fields(run.result), { successful: true, type: 'machine', result: 'MACHINE' });
    assert.match(cause(run.result), /^INITIALSILENCE-\d+-4500$/);
    assert.ok(run.tookMs >= 4400 && run.tookMs < 7000, `INITIALSILENCE after ${run.tookMs} ms`);
    const short = await detectOn(rig, SILENT, (call) => call.detect({ detectType: 'machine', initialTimeout: 2 }));
    report(t, 'silence, initialTimeout 2', short);
    assert.match(cause(short.result), /^INITIALSILENCE-\d+-2000$/);
    assert.ok(short.tookMs >= 1900 && short.tookMs < 4000, `INITIALSILENCE after ${short.tookMs} ms`);
  });

  it('waitForBeep: a greeting then a 1 kHz beep gives MACHINE then READY (after the greeting); no beep gives NOT_READY', { skip }, async (t) => {
    assert.ok(rig);
    const beep = await detectOn(rig, GREETING_BEEP, (call) => call.detectAnsweringMachine({ waitForBeep: true }));
    report(t, 'greeting + beep', beep);
    assert.deepEqual(fields(beep.result), { successful: true, type: 'machine', result: 'MACHINE' });
    assert.deepEqual(
      beep.updates.map((u) => u.detection),
      ['MACHINE', 'READY'],
    );
    assert.equal(beep.result.event?.payload['WAITFORTONESTATUS'], 'SUCCESS');
    // vm-intro lasts 5.7 s; the beep follows it.
    const ready = beep.updates[1]!.atMs;
    assert.ok(ready >= 5000 && ready < 8000, `READY at ${ready} ms`);
    const none = await detectOn(rig, GREETING, (call) => call.detectAnsweringMachine({ waitForBeep: true, timeout: 9 }));
    report(t, 'greeting, no beep', none);
    assert.deepEqual(fields(none.result), { successful: false, type: 'machine', result: 'MACHINE' });
    assert.deepEqual(
      none.updates.map((u) => u.detection),
      ['MACHINE', 'NOT_READY'],
    );
    assert.ok(none.tookMs >= 8500 && none.tookMs < 11_000, `NOT_READY after ${none.tookMs} ms (timeout 9 s)`);
  });

  it('amdAsync runs on a helper channel beside the call: a play runs meanwhile (the far leg hears it); the verdict is the far party\'s', { skip }, async (t) => {
    assert.ok(rig);
    const r = rig;
    let result: DetectResult | undefined;
    let playStartedAtMs = -1;
    let amdEndedAtMs = -1;
    let playResult: boolean | undefined;
    await r.run(
      async (call) => {
        const started = Date.now();
        const action = await call.amdAsync();
        assert.equal(action.type, 'machine');
        call.once('play.playing', () => (playStartedAtMs = Date.now() - started));
        const play = await call.playAudioAsync(toneFile(r, 3));
        await signalFar(call, 'go');
        result = await action.done;
        amdEndedAtMs = Date.now() - started;
        playResult = (await play.done).successful;
      },
      { far: [listenAs('amd-async'), ...HELLO], timeoutMs: 60_000 },
    );
    t.diagnostic(`amdAsync: ${JSON.stringify(fields(result))} at ${amdEndedAtMs} ms; the play started at ${playStartedAtMs} ms`);
    assert.deepEqual(fields(result), { successful: true, type: 'machine', result: 'HUMAN' });
    assert.ok(playStartedAtMs >= 0 && playStartedAtMs < amdEndedAtMs, `the play started at ${playStartedAtMs} ms, before AMD ended at ${amdEndedAtMs} ms`);
    assert.equal(playResult, true);
    const loud = (await Heard.closed(path.join(r.dir, 'amd-async.wav'))).loudRuns();
    const loudMs = loud.reduce((sum, run) => sum + run.durationMs, 0);
    assert.ok(loudMs >= 2700, `the far leg heard ${loudMs} ms of the 3 s play`);
  });

  it('stop() of an amdAsync hangs its helper up: the action ends at once, unsuccessful; the call is unharmed', { skip }, async (t) => {
    assert.ok(rig);
    let stopTookMs = -1;
    let result: DetectResult | undefined;
    let after: boolean | undefined;
    await rig.run(
      async (call) => {
        await signalFar(call, 'go');
        const action = await call.amdAsync();
        await sleep(800);
        const stopping = Date.now();
        assert.deepEqual(await action.stop(), { successful: true });
        stopTookMs = Date.now() - stopping;
        result = await action.done;
        after = (await call.playSilence(1)).successful;
      },
      { far: SILENT, timeoutMs: 60_000 },
    );
    t.diagnostic(`stop(): ${stopTookMs} ms, ${JSON.stringify(fields(result))}`);
    assert.ok(stopTookMs < 3000, `stop() took ${stopTookMs} ms (AMD of silence runs 4.5 s)`);
    assert.equal(result?.successful, false);
    assert.equal(after, true, 'the call plays on after its detector was stopped');
  });

  it('a blocking amd() is stopped by its signal: the call leaves the EXEC through [relay-resume] and carries on', { skip }, async (t) => {
    assert.ok(rig);
    let tookMs = -1;
    let result: DetectResult | undefined;
    let after: boolean | undefined;
    await rig.run(
      async (call) => {
        await signalFar(call, 'go');
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 800).unref();
        const started = Date.now();
        result = await call.amd({}, { signal: controller.signal });
        tookMs = Date.now() - started;
        after = (await call.playSilence(1)).successful;
      },
      { far: SILENT, timeoutMs: 60_000 },
    );
    t.diagnostic(`amd() stopped by its signal after ${tookMs} ms: ${JSON.stringify(fields(result))}`);
    assert.ok(tookMs < 3500, `amd() ended ${tookMs} ms after it started (stopped at 0.8 s; AMD of silence runs 4.5 s)`);
    assert.equal(result?.successful, false);
    assert.equal(after, true, 'the call is back on AGI and plays');
  });

  it('detectDigitAsync({ digits: "57" }) beside a playAsync: far sends 5, 7, 9; two detect.update, result 57; the far leg hears the play', { skip }, async (t) => {
    assert.ok(rig);
    const r = rig;
    let result: DetectResult | undefined;
    let updates: Update[] = [];
    let playingAtStop = false;
    let playResult: boolean | undefined;
    await r.run(
      async (call) => {
        ({ updates } = watchDetect(call));
        const action: DetectAction = await call.detectDigitAsync({ digits: '57', timeout: 20 });
        // The far leg's last digit, seen on the same AMI event stream as the detector's (in order).
        let nineSeen = false;
        const off = call.ami?.onEvents(['DTMFEnd'], (event) => {
          if (event.get('Digit') === '9' && event.get('Direction') === 'Received') nineSeen = true;
        });
        const play = await call.playAudioAsync(toneFile(r, 5));
        await signalNow(r, call, 'go');
        await until(() => nineSeen, "the far leg's 9 (DTMFEnd)", 10_000);
        off?.();
        playingAtStop = play.state === 'playing';
        assert.equal(action.completed, false, 'an async digit detector runs until its timeout or stop()');
        assert.equal((await action.stop()).successful, true);
        result = await action.done;
        playResult = (await play.done).successful;
      },
      { far: [listenAs('digits'), far.waitFor('go'), far.wait(1), far.dtmf('579'), far.silence(6)], timeoutMs: 60_000 },
    );
    t.diagnostic(`digits: ${JSON.stringify(fields(result))}; updates ${updates.map((u) => `${u.detection}@${u.atMs}`).join(' ')}`);
    assert.deepEqual(fields(result), { successful: true, type: 'digit', result: '57' });
    assert.deepEqual(
      updates.map((u) => u.detection),
      ['5', '7'],
    );
    assert.equal(result?.event?.name, 'detect.stop');
    assert.equal(playingAtStop, true, 'the play was still playing when the detector had both digits');
    assert.equal(playResult, true);
    const loud = (await Heard.closed(path.join(r.dir, 'digits.wav'))).loudRuns();
    const loudMs = loud.reduce((sum, run) => sum + run.durationMs, 0);
    assert.ok(loudMs >= 4500 && loudMs <= 5500, `the far leg heard ${loudMs} ms of the 5 s play`);
  });

  it('detectDigit({ digits: "5" }) resolves with the first matching digit (over DTMFEnd, the lane free)', { skip }, async (t) => {
    assert.ok(rig);
    const run = await detectOn(rig, [far.waitFor('go'), far.wait(0.5), far.dtmf('95'), far.silence(3)], (call) => call.detectDigit({ digits: '5' }));
    report(t, 'detectDigit 5', run);
    assert.deepEqual(fields(run.result), { successful: true, type: 'digit', result: '5' });
    assert.equal(run.result.event?.name, 'ami.DTMFEnd');
    assert.equal(run.result.event?.payload['Direction'], 'Received');
    assert.ok(run.tookMs < 3000, `after ${run.tookMs} ms`);
  });

  it('detectFax(): CED (PlayTones 2100) over TONE_DETECT polling; the detector is removed after', { skip }, async (t) => {
    assert.ok(rig);
    let toneDetectAfter: string | undefined;
    const run = await detectOn(rig, CED, async (call) => {
      const result = await call.detectFax();
      toneDetectAfter = await call.runtime.ami!.getVariable(call.channel, 'TONE_DETECT(rx)');
      return result;
    });
    report(t, 'CED', run);
    assert.deepEqual(fields(run.result), { successful: true, type: 'fax', result: 'CED' });
    assert.equal(run.result.event?.name, 'ami.Getvar');
    assert.deepEqual(
      run.updates.map((u) => u.detection),
      ['CED'],
    );
    assert.ok(run.tookMs < 3000, `CED after ${run.tookMs} ms`);
    assert.equal(toneDetectAfter, '', 'TONE_DETECT was removed from the channel');
  });

  it('detectFaxAsync({ tone: CNG }) beside a playAsync: CNG (PlayTones 1100/500,0/3000) while the play plays', { skip }, async (t) => {
    assert.ok(rig);
    const r = rig;
    let result: DetectResult | undefined;
    let playingAtDetection = false;
    let tookMs = 0;
    await r.run(
      async (call) => {
        const action = await call.detectFaxAsync({ tone: 'CNG' });
        const play = await call.playAudioAsync(toneFile(r, 5));
        const started = Date.now();
        await signalNow(r, call, 'go');
        result = await action.done;
        tookMs = Date.now() - started;
        playingAtDetection = play.state === 'playing';
        await play.done;
      },
      { far: [listenAs('cng'), ...CNG], timeoutMs: 60_000 },
    );
    t.diagnostic(`CNG async: ${JSON.stringify(fields(result))} after ${tookMs} ms`);
    assert.deepEqual(fields(result), { successful: true, type: 'fax', result: 'CNG' });
    assert.equal(playingAtDetection, true, 'the play was playing when CNG was detected');
    assert.ok(tookMs < 3000, `CNG after ${tookMs} ms`);
    const loudMs = (await Heard.closed(path.join(r.dir, 'cng.wav'))).loudRuns().reduce((sum, run) => sum + run.durationMs, 0);
    assert.ok(loudMs >= 4500, `the far leg heard ${loudMs} ms of the 5 s play`);
  });

  it('a CED detector does not take CNG for it: unsuccessful at its timeout, result null, detect.finished', { skip }, async (t) => {
    assert.ok(rig);
    const run = await detectOn(rig, CNG, (call) => call.detectFax({ tone: 'CED', timeout: 4 }));
    report(t, 'CED detector on CNG', run);
    assert.deepEqual(fields(run.result), { successful: false, type: 'fax', result: null });
    assert.equal(run.result.event?.name, 'detect.timeout');
    assert.deepEqual(run.updates, []);
    assert.deepEqual(run.ends, ['finished:finished']);
    assert.ok(run.tookMs >= 3900 && run.tookMs < 5500, `after ${run.tookMs} ms`);
  });
});

describe('live: Relay detect without AMI (the AGI-only subset)', { concurrency: true }, () => {
  let rig: RelayRig | undefined;
  before(async () => {
    if (live.ok) rig = await RelayRig.start({ ami: false });
  });
  after(async () => {
    await rig?.stop();
  });

  it('AMD: MACHINE on vm-intro, HUMAN on hello (EXEC AMD in the lane)', { skip }, async (t) => {
    assert.ok(rig);
    const machine = await detectOn(rig, GREETING, (call) => call.detectAnsweringMachine());
    report(t, 'vm-intro (AGI only)', machine);
    assert.deepEqual(fields(machine.result), { successful: true, type: 'machine', result: 'MACHINE' });
    const human = await detectOn(rig, HELLO, (call) => call.detectHuman());
    report(t, 'hello (AGI only)', human);
    assert.deepEqual(fields(human.result), { successful: true, type: 'machine', result: 'HUMAN' });
  });

  it('detectDigitAsync({ digits: "57" }) over WAIT FOR DIGIT: far sends 5, 7, 9; result 57 at the timeout; stop() interrupts an idle one', { skip }, async (t) => {
    assert.ok(rig);
    let firstTookMs = 0;
    const run = await detectOn(rig, [far.waitFor('go'), far.wait(0.5), far.dtmf('579'), far.silence(6)], async (call) => {
      const started = Date.now();
      const first = await (await call.detectDigitAsync({ digits: '57', timeout: 4 })).done;
      firstTookMs = Date.now() - started;
      const idle = await call.detectDigitAsync({ timeout: 30 });
      await sleep(300);
      const stopping = Date.now();
      assert.equal((await idle.stop()).successful, true);
      const stopped = await idle.done;
      t.diagnostic(`idle detector stopped in ${Date.now() - stopping} ms: ${JSON.stringify(fields(stopped))}`);
      assert.deepEqual(fields(stopped), { successful: false, type: 'digit', result: null });
      assert.ok(Date.now() - stopping < 1000);
      return first;
    });
    report(t, 'digits (AGI only)', run);
    assert.deepEqual(fields(run.result), { successful: true, type: 'digit', result: '57' });
    assert.deepEqual(
      run.updates.map((u) => u.detection),
      ['5', '7'],
    );
    assert.equal(run.result.event?.name, 'detect.timeout');
    assert.ok(firstTookMs >= 3900 && firstTookMs < 4600, `after ${firstTookMs} ms (timeout 4 s)`);
  });

  it('detectFax over WaitForTone: CED sync, CNG async; stop() and signal need AMI', { skip }, async (t) => {
    assert.ok(rig);
    const ced = await detectOn(rig, CED, (call) => call.detectFax());
    report(t, 'CED (AGI only)', ced);
    assert.deepEqual(fields(ced.result), { successful: true, type: 'fax', result: 'CED' });
    assert.equal(ced.result.event?.payload['WAITFORTONESTATUS'], 'SUCCESS');
    const cng = await detectOn(rig, CNG, async (call) => {
      await assert.rejects(call.detectFax({ tone: 'CNG' }, { signal: new AbortController().signal }), RelayCapabilityError);
      const action = await call.detectFaxAsync({ tone: 'CNG' });
      await assert.rejects(action.stop(), RelayCapabilityError);
      return action.done;
    });
    report(t, 'CNG async (AGI only)', cng);
    assert.deepEqual(fields(cng.result), { successful: true, type: 'fax', result: 'CNG' });
  });
});
