/**
 * Live: outbound calls against a real Asterisk 22: `consumer.client.calling.dial()`,
 * `calling.newCall()` + `call.dial()`, and a connected `Client` with its own FastAGI listener. The
 * call is an AMI Originate into `[relay-dial]` with a `ChannelId` agikit chose; its AGI session
 * comes back to the process that dialed and attaches to the very `Call` that `dial()` resolves
 * with. Far legs answer and record (the test checks what they heard agikit play), are busy, ring
 * and never answer, or reject the call; each time the result, the reason and the state events are
 * checked. Skipped, with the reason, when Docker or the image cannot be had.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Call } from '../../src/relay/call.js';
import { Client } from '../../src/relay/client.js';
import { DEFAULT_DEVICE_CONTEXT } from '../../src/relay/devices.js';
import { RelayArgumentError, RelayError } from '../../src/relay/errors.js';
import { AGIKIT_DIALPLAN, far } from '../../src/testing/asterisk.js';
import { addExtensionCommand } from '../../src/testing/dialplan-text.js';
import { Heard, shape } from './relay-audio.js';
import { MOUNT, RelayRig, live, skip } from './relay-rig.js';
import { newCallId } from './rig.js';
import { within } from '../support/settle.js';
import { spawnNode } from '../support/child.js';
import { freeLocalPort } from '../../src/testing/live-ami.js';

const bin = fileURLToPath(new URL('../../../bin/agikit', import.meta.url));
const clickToCall = fileURLToPath(new URL('../../examples/click-to-call.js', import.meta.url));

/** Far legs that do not answer, in the default resolver's context (`Local/<name>@relay-outbound/n`). */
const FAR_LEGS: ReadonlyArray<readonly [exten: string, steps: ReadonlyArray<readonly [string, string]>]> = [
  ['busy', [['Ringing', ''], ['Wait', '1'], ['Busy', '5']]],
  ['ring', [['Ringing', ''], ['Wait', '60']]],
  ['reject', [['Hangup', '21']]],
  ['congested', [['Congestion', '5']]],
];

/** Every state event of a call, in order. */
function watch(call: Call): string[] {
  const seen: string[] = [];
  for (const name of ['created', 'ringing', 'answered', 'ending', 'ended'] as const) call.on(name, () => seen.push(name));
  return seen;
}

/** The far leg's recording: one loud stretch of `ms` at `hz` (±10 %). */
async function assertHeard(rig: RelayRig, name: string, ms: number, hz: number): Promise<Heard> {
  const recording = await Heard.closed(path.join(rig.dir, name));
  const loud = recording.loudRuns();
  assert.equal(loud.length, 1, `one loud stretch (${shape(recording.runs())})`);
  const run = loud[0]!;
  assert.ok(Math.abs(run.durationMs - ms) <= ms * 0.1, `heard ${run.durationMs} ms, expected ${ms} (${shape(recording.runs())})`);
  assert.equal(recording.peaks(run.startMs + 100, run.startMs + run.durationMs - 100, { count: 1 })[0], hz);
  return recording;
}

describe('live: Relay outbound calls (calling.dial, newCall + dial)', { concurrency: true }, () => {
  let rig: RelayRig | undefined;
  let sine = '';
  before(async () => {
    if (!live.ok) return;
    rig = await RelayRig.start();
    sine = rig.writeSine('dial-sine.wav', 2, 600);
    await rig.asterisk.cliMany(FAR_LEGS.flatMap(([exten, steps]) => steps.map(([app, data], index) => addExtensionCommand(DEFAULT_DEVICE_CONTEXT, exten, index + 1, app, data))));
  });
  after(async () => {
    await rig?.stop();
  });

  it('consumer.client.calling.dial() to an answering far leg: answered, the same Call on /relay/dialed, plays (the far leg hears it), hangs up', { skip }, async (t: TestContext) => {
    assert.ok(rig);
    const farId = newCallId();
    const name = `dial-${farId}.wav`;
    await rig.addOutboundFarLeg(farId, [far.record(`${MOUNT}/${name}`, { maxSeconds: 20 })]);
    const started = Date.now();
    const result = await within(rig.client.calling.dial({ type: 'phone', toNumber: farId, fromNumber: '+15550100', timeout: 10 }), 20_000, 'dial()');
    const dialMs = Date.now() - started;
    const call = result.call;
    const seen = watch(call);
    assert.equal(result.successful, true, `dial: ${JSON.stringify(result.event)}`);
    assert.deepEqual([call.state, call.answered, call.direction, call.toNumber, call.fromNumber], ['answered', true, 'outbound', farId, '+15550100']);
    assert.equal(rig.runtime.call(call.id), call, 'the runtime holds the Call dial() resolved with');
    const agi = call.agi;
    assert.ok(agi, 'attached to its AGI session');
    assert.deepEqual([agi.path, agi.env.uniqueid, agi.env.context, agi.env.callerid], ['/relay/dialed', call.id, 'relay-dial', '+15550100']);
    assert.equal(await agi.getVariable('RELAY_OWNER'), rig.runtime.owner);
    assert.equal((await call.playAudio(sine)).successful, true);
    // Out of AGI and back (a Redirect through [relay-resume], by the RELAY_OWNER the Originate set).
    assert.equal(await within(call.returnToAgi(), 10_000, 'the call to come back'), true);
    assert.deepEqual([call.agi?.path, call.agi === agi, rig.runtime.call(call.id) === call], ['/relay/resume', false, true]);
    const hangup = await within(call.hangup(), 10_000, 'hangup');
    assert.deepEqual([hangup.successful, call.state, call.hangupReason], [true, 'ended', 'hangup']);
    assert.deepEqual(seen, ['ending', 'ended']);
    assert.equal(rig.runtime.call(call.id), undefined, 'an ended call is forgotten');
    const heard = await assertHeard(rig, name, 2000, 600);
    t.diagnostic(`dial() answered after ${dialMs} ms; far leg heard ${shape(heard.runs())}`);
  });

  it('newCall() + call.dial() with listeners first: created, answered events; the far leg hears the play', { skip }, async () => {
    assert.ok(rig);
    const farId = newCallId();
    const name = `newcall-${farId}.wav`;
    await rig.addOutboundFarLeg(farId, [far.record(`${MOUNT}/${name}`, { maxSeconds: 20 })]);
    const call = rig.client.calling.newCall({ to: farId, from: '+15550101', timeout: 10 });
    const seen = watch(call);
    const changes: string[] = [];
    call.on('stateChange', (state, previous) => changes.push(`${previous}>${state}`));
    assert.equal(call.state, 'none');
    const result = await within(call.dial(), 20_000, 'dial()');
    assert.equal(result.successful, true);
    assert.equal(result.call, call, 'dial() resolves with the very Call');
    assert.deepEqual(seen.filter((state) => state !== 'ringing'), ['created', 'answered']);
    assert.deepEqual(changes.filter((change) => !change.includes('ringing')), ['none>created', 'created>answered']);
    await assert.rejects(call.dial(), RelayError, 'a call is dialed once');
    assert.equal((await call.playAudio(sine)).successful, true);
    await within(call.hangup(), 10_000, 'hangup');
    await assertHeard(rig, name, 2000, 600);
  });

  for (const [exten, reason, busy, failed, timeout] of [
    ['busy', 'busy', true, false, 10],
    ['ring', 'noAnswer', false, false, 2],
    ['reject', 'decline', false, true, 10],
    ['congested', 'error', false, true, 10],
  ] as const) {
    const what = { busy: 'busy', ring: 'ringing and never answers', reject: 'rejecting the call (Hangup 21)', congested: 'congested' }[exten];
    it(`a far leg that is ${what}: unsuccessful, ended, reason ${reason}`, { skip }, async (t: TestContext) => {
      assert.ok(rig);
      const call = rig.client.calling.newCall({ toNumber: exten, fromNumber: '+15550102', timeout });
      const seen = watch(call);
      const started = Date.now();
      const result = await within(call.dial(), 20_000, 'dial()');
      const ms = Date.now() - started;
      assert.equal(result.successful, false);
      assert.deepEqual(
        { state: call.state, reason: call.hangupReason, busy: call.busy, failed: call.failed, answered: call.answered, agi: call.agi },
        { state: 'ended', reason, busy, failed, answered: false, agi: null },
      );
      const rang = exten === 'busy' || exten === 'ring';
      assert.deepEqual(seen, rang ? ['created', 'ringing', 'ending', 'ended'] : ['created', 'ending', 'ended']);
      assert.equal(rig.runtime.call(call.id), undefined, 'the failed call is not held');
      if (exten === 'ring') assert.ok(ms >= 1800, `it rang for its timeout of 2 s (${ms} ms)`);
      t.diagnostic(`${exten}: ${reason} after ${ms} ms (Originate reason ${String(result.event?.payload['reason'])}), events ${seen.join(' ')}`);
    });
  }

  it('call.hangup() while the call rings: dial() resolves unsuccessful, reason hangup (ours), not failed', { skip }, async () => {
    assert.ok(rig);
    const call = rig.client.calling.newCall({ toNumber: 'ring', timeout: 20 });
    const seen = watch(call);
    const dialing = call.dial();
    assert.equal(await within(call.waitForRinging(), 10_000, 'ringing'), true);
    const hangup = await within(call.hangup(), 10_000, 'hangup');
    const result = await within(dialing, 10_000, 'dial() to resolve');
    assert.deepEqual(
      { successful: result.successful, hangup: hangup.successful, state: call.state, reason: call.hangupReason, busy: call.busy, failed: call.failed },
      { successful: false, hangup: true, state: 'ended', reason: 'hangup', busy: false, failed: false },
    );
    assert.deepEqual(seen, ['created', 'ringing', 'ending', 'ended']);
  });

  it('a connected Client (no consumer) dials with its own FastAGI listener and a resolveDevice option; the far leg hears the play', { skip }, async () => {
    assert.ok(rig);
    const farId = newCallId();
    const name = `client-${farId}.wav`;
    await rig.addOutboundFarLeg(farId, [far.record(`${MOUNT}/${name}`, { maxSeconds: 20 })]);
    const resolved: string[] = [];
    const settings = rig.peerSettings;
    const client = new Client({
      project: 'live',
      token: 'secret',
      ...settings,
      resolveDevice: (device) => {
        resolved.push(device.toNumber);
        return `Local/${device.toNumber}@${AGIKIT_DIALPLAN.farContext}/n`;
      },
    });
    await within(client.connect(), 10_000, 'connect()');
    try {
      assert.notEqual(client.runtime.owner, rig.runtime.owner, "the client's own FastAGI address");
      const result = await within(client.calling.dial({ toNumber: farId, timeout: 10 }), 20_000, 'dial()');
      assert.equal(result.successful, true);
      assert.deepEqual(resolved, [farId]);
      assert.equal(result.call.agi?.env.uniqueid, result.call.id);
      assert.equal(rig.runtime.call(result.call.id), undefined, 'the consumer does not hold it: the client does');
      assert.equal(client.runtime.call(result.call.id), result.call);
      assert.equal((await result.call.playAudio(sine)).successful, true);
      await within(result.call.hangup(), 10_000, 'hangup');
    } finally {
      await client.disconnect();
    }
    await assertHeard(rig, name, 2000, 600);
  });

  it('examples/click-to-call under `agikit serve`: a task from `agikit task` makes it dial; the far leg hears the message, then the hangup', { skip }, async (t: TestContext) => {
    assert.ok(rig?.asterisk.ami);
    const farId = newCallId();
    const name = `click-${farId}.wav`;
    await rig.addOutboundFarLeg(farId, [far.record(`${MOUNT}/${name}`, { maxSeconds: 30 })]);
    const { host, port, username, secret } = rig.asterisk.ami;
    const tasks = `http://127.0.0.1:${await freeLocalPort()}`;
    const env = { AGIKIT_PROJECT: 'live', AGIKIT_TOKEN: 'click-secret' };
    const consumer = spawnNode(
      t,
      [bin, 'serve', clickToCall, '--port', '0', '--ami', `ami://${username}:${secret}@${host}:${port}`, '--media-dir', rig.dir, '--asterisk-media-dir', MOUNT, '--tasks', tasks, '--log-level', 'debug'],
      env,
    );
    await consumer.waitFor(/relay consumer serving click-to-call/);
    const text = 'Your order has shipped. Thank you for calling.';
    const task = spawnNode(t, [bin, 'task', 'click-to-call', JSON.stringify({ uuid: farId, to: farId, from: '+15550199', text }), '--url', tasks], env);
    assert.equal(await task.exit('agikit task did not finish'), 0, task.stderr());
    const recording = await within(Heard.closed(path.join(rig.dir, name), 30_000), 40_000, 'the far leg recording to close');
    const loud = recording.loudRuns();
    const spoken = loud.reduce((sum, run) => sum + run.durationMs, 0);
    assert.ok(spoken >= 1500, `the far leg heard the message spoken (${shape(recording.runs())})`);
    await consumer.waitFor(/click to call: answered/);
    consumer.child.kill('SIGTERM');
    assert.equal(await consumer.exit('agikit serve did not stop on SIGTERM'), 0);
    t.diagnostic(`the far leg heard ${shape(recording.runs())}`);
  });

  it('bad input is a clear error and places nothing', { skip }, async () => {
    assert.ok(rig);
    const before = rig.runtime.size;
    assert.throws(() => rig!.client.calling.newCall({ toNumber: 'a b' }), RelayArgumentError);
    assert.throws(() => rig!.client.calling.newCall({ toNumber: '123', timeout: -1 }), RelayArgumentError);
    await assert.rejects(async () => rig!.client.calling.dial({ fromNumber: '1' }), RelayArgumentError);
    assert.equal(rig.runtime.size, before);
  });
});
