/**
 * Live: Relay `connect` / `connectAsync` / `disconnect` against a real Asterisk 22. The caller is an
 * inbound Relay call whose far leg (the harness) records what it hears and collects DTMF; the
 * devices are extensions of `[relay-outbound]` (the default device resolver's context) that really
 * are busy (`Busy()`), ring without answering (`Ringing()` + `Wait`), or answer and run harness far
 * steps (send DTMF, play a tone, record, hang up). The tests check what the far legs heard, which
 * device answered, the order of the `Dial` attempts and of the `connect.*` events. Skipped, with the
 * reason, when Docker or the image cannot be had.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it, type TestContext } from 'node:test';
import { ulawToLinear } from '../../src/media/audio.js';
import type { Call } from '../../src/relay/call.js';
import type { ConnectAction } from '../../src/relay/connect.js';
import { DEFAULT_DEVICE_CONTEXT } from '../../src/relay/devices.js';
import { CallNotControllableError, RelayCapabilityError } from '../../src/relay/errors.js';
import type { RecordResult } from '../../src/relay/results.js';
import { decodeRtp } from '../../src/relay/rtp.js';
import { AGIKIT_DIALPLAN, far } from '../../src/testing/asterisk.js';
import { callDialplan } from '../../src/testing/call-dialplan.js';
import { addExtensionCommand } from '../../src/testing/dialplan-text.js';
import type { FarStep } from '../../src/testing/far-steps.js';
import { Heard, shape } from './relay-audio.js';
import { MOUNT, RelayRig, live, skip } from './relay-rig.js';
import { newCallId } from './rig.js';
import { until, within } from '../support/settle.js';

/** The astdb family where each device writes the caller id it was called with, once reached. */
const REACHED = 'connect-reached';

/** A UDP socket on 127.0.0.1 counting the RTP (PCMU) packets it gets, and the loud ones (a 20 ms frame above RMS 300). */
class LoudPackets {
  packets = 0;
  loud = 0;
  private constructor(private readonly socket: Socket) {
    socket.on('message', (message) => {
      const packet = decodeRtp(message);
      if (!packet) return;
      this.packets += 1;
      let sum = 0;
      for (const byte of packet.payload) sum += ulawToLinear(byte) ** 2;
      if (Math.sqrt(sum / (packet.payload.length || 1)) > 300) this.loud += 1;
    });
  }

  static async open(): Promise<LoudPackets> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new LoudPackets(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  close(): void {
    this.socket.close();
  }
}

/** Polls astdb until `family`/`key` exists (bounded: fails with `message` after 15 s). */
async function dbUntil(r: RelayRig, family: string, key: string, message: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((await r.asterisk.dbGet(family, key)) === undefined) {
    assert.ok(Date.now() < deadline, `${message} (waited 15000 ms)`);
    await sleep(100);
  }
}

/** Polls Asterisk's channels until no channel of device `id` is left: `true`, or `false` after 10 s. */
async function ringingGone(r: RelayRig, id: string): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    // The channel names only: the caller's line shows its last application's data (the Dial string).
    const names = (await r.asterisk.cli('core show channels concise')).split('\n').map((line) => line.split('!')[0] ?? '');
    if (!names.some((name) => name.startsWith(`Local/${id}@${DEFAULT_DEVICE_CONTEXT}-`))) return true;
    await sleep(100);
  }
  return false;
}

/** The `connect.*` events of a call, in order (`stateChange` left out). */
function connectEvents(call: Call): string[] {
  const seen: string[] = [];
  for (const name of ['connect.connecting', 'connect.connected', 'connect.failed', 'connect.disconnected'] as const) call.on(name, () => seen.push(name));
  return seen;
}

/** {@link RelayRig.run} of a caller that answers, then runs `script` with its `connect.*` events (see {@link connectEvents}). */
function answered(r: RelayRig, script: (call: Call, events: string[]) => Promise<void>, options: Parameters<RelayRig['run']>[1]): ReturnType<RelayRig['run']> {
  return r.run(async (call) => {
    await call.answer();
    await script(call, connectEvents(call));
  }, options);
}

/** The `DialStatus` of every `DialEnd` of the caller's `Dial`s, in order (the caller's own AMI events). */
function dialEnds(call: Call): string[] {
  const statuses: string[] = [];
  call.ami?.onEvents(['DialEnd'], (event) => {
    if (event.get('Uniqueid') === call.id) statuses.push(`${event.get('DestChannel')?.split('@')[0]?.slice('Local/'.length) ?? ''}:${event.get('DialStatus') ?? ''}`);
  });
  return statuses;
}

/** The single loud stretch at the end of a recording: its length and strongest frequency. */
function lastLoud(recording: Heard): { durationMs: number; hz: number | undefined } {
  const loud = recording.loudRuns().at(-1);
  assert.ok(loud, `nothing loud was heard (${shape(recording.runs())})`);
  return { durationMs: loud.durationMs, hz: recording.peaks(loud.startMs + 100, loud.startMs + loud.durationMs - 100, { count: 1 })[0] };
}

/** Asserts `actual` is within 10 % of `expected`. */
function near(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= expected * 0.1, `${what}: ${actual.toFixed(0)}, expected ${expected.toFixed(0)} ± 10 %`);
}

/** A device that is busy: `[relay-outbound]` writes who called it, then `Busy()`. */
async function busy(r: RelayRig): Promise<string> {
  const id = newCallId();
  await r.asterisk.cliMany([reachedCommand(id, 1), addExtensionCommand(DEFAULT_DEVICE_CONTEXT, id, 2, 'Busy', '5')]);
  return id;
}

/** A device that rings and never answers. */
async function ringing(r: RelayRig): Promise<string> {
  const id = newCallId();
  await r.asterisk.cliMany([reachedCommand(id, 1), addExtensionCommand(DEFAULT_DEVICE_CONTEXT, id, 2, 'Ringing', ''), addExtensionCommand(DEFAULT_DEVICE_CONTEXT, id, 3, 'Wait', '60')]);
  return id;
}

/** A device that answers (after ringing `ringSeconds`) and runs the harness far `steps` (then hangs up). */
async function answering(r: RelayRig, steps: readonly FarStep[], ringSeconds = 0): Promise<string> {
  const id = newCallId();
  const plan = callDialplan(id, { agi: 'agi://127.0.0.1:1/unused', far: steps });
  const ring = ringSeconds > 0 ? [addExtensionCommand(DEFAULT_DEVICE_CONTEXT, id, 2, 'Ringing', ''), addExtensionCommand(DEFAULT_DEVICE_CONTEXT, id, 3, 'Wait', String(ringSeconds))] : [];
  await r.asterisk.cliMany([
    ...plan.adds.filter((command) => command.endsWith(`into ${AGIKIT_DIALPLAN.farContext}`)),
    reachedCommand(id, 1),
    ...ring,
    addExtensionCommand(DEFAULT_DEVICE_CONTEXT, id, 2 + ring.length, 'Goto', `${AGIKIT_DIALPLAN.farContext},${id},1`),
  ]);
  return id;
}

function reachedCommand(id: string, priority: number): string {
  return addExtensionCommand(DEFAULT_DEVICE_CONTEXT, id, priority, 'Set', `DB(${REACHED}/${id})=from:\${CALLERID(num)}`);
}

/** The caller id device `id` was called with, or `undefined` when it was never reached. */
function reached(r: RelayRig, id: string): Promise<string | undefined> {
  return r.asterisk.dbGet(REACHED, id);
}

describe('live: Relay connect (serial and parallel devices, remote leg, disconnect)', { concurrency: true }, () => {
  let rig: RelayRig | undefined;
  /** Local path of a 2 s 600 Hz sine the caller plays. */
  let sine2 = '';
  /** Local path of a 2 s 1000 Hz sine the remote leg plays after a disconnect. */
  let tone2 = '';

  before(async () => {
    if (!live.ok) return;
    rig = await RelayRig.start();
    sine2 = rig.writeSine('sine2.wav', 2, 600);
    tone2 = rig.writeSine('tone2.wav', 2, 1000);
    rig.writeSine('tone3k.wav', 3, 1000);
  });
  after(async () => {
    await rig?.stop();
  });

  it('serial [busy, no answer, answering]: tried in order, the third answers (fromNumber as its caller id), its DTMF crosses the bridge; when it hangs up the caller plays again and its far leg hears it', { skip }, async (t: TestContext) => {
    assert.ok(rig);
    const r = rig;
    const [b, n] = [await busy(r), await ringing(r)];
    const a = await answering(r, [far.wait(1), far.dtmf('159'), far.wait(0.5), far.hangup()]);
    const name = `serial-${newCallId()}.wav`;
    let report: Record<string, unknown> = {};
    const { result } = await answered(
      r,
      async (call, events) => {
        const dials = dialEnds(call);
        const connected = await call.connect([{ toNumber: b }, { type: 'phone', params: { toNumber: n, timeout: 2 } }, { type: 'phone', params: { toNumber: a, fromNumber: '5550123', timeout: 20 } }]);
        const remote = connected.call;
        assert.ok(remote, 'the remote leg');
        const remoteEnded = remote.waitForEnded();
        assert.equal(await within(remoteEnded, 15_000, 'the remote party to hang up'), true);
        await until(() => events.includes('connect.disconnected'), 'connect.disconnected', 10_000);
        const played = await call.playAudio(sine2);
        report = {
          successful: connected.successful,
          device: connected.device?.toNumber,
          remoteTo: remote.toNumber,
          remoteReason: remote.hangupReason,
          dialStatus: connected.dialStatus,
          events: [...events],
          dials: [...dials],
          played: played.successful,
          callerFrom: call.fromNumber,
        };
      },
      { far: [far.read('bridged', { maxDigits: 3, timeoutSeconds: 25 }), far.record(`${MOUNT}/${name}`, { maxSeconds: 10 })], timeoutMs: 60_000 },
    );
    assert.deepEqual(report, {
      successful: true,
      device: a,
      remoteTo: a,
      remoteReason: 'hangup',
      dialStatus: 'ANSWER',
      events: ['connect.connecting', 'connect.connected', 'connect.disconnected'],
      dials: [`${b}:BUSY`, `${n}:NOANSWER`, `${a}:ANSWER`],
      played: true,
      callerFrom: report['callerFrom'],
    });
    assert.equal(result.farDigits['bridged'], '159', "the caller's far leg heard the answering device's DTMF through the bridge");
    assert.deepEqual([await reached(r, b), await reached(r, a)], [`from:${String(report['callerFrom'])}`, 'from:5550123'], "a device without fromNumber gets the caller's number, one with it that number");
    assert.ok((await reached(r, n))?.startsWith('from:'), 'the unanswered device rang');
    const heard = await Heard.closed(path.join(r.dir, name));
    const loud = lastLoud(heard);
    near(loud.durationMs, 2000, "ms of the caller's play after the remote hung up");
    near(loud.hz ?? 0, 600, "Hz of the caller's play after the remote hung up");
    t.diagnostic(`dials ${String(report['dials'])}; caller's far leg heard ${shape(heard.runs())}`);
  });

  it('parallel [[no answer, answering]]: the answering one wins, the other is cancelled; its tone crosses the bridge; the remote leg is an AMI-only Call (records, taps, no play), remote.hangup() frees the caller', { skip }, async (t: TestContext) => {
    assert.ok(rig);
    const r = rig;
    const n = await ringing(r);
    const a = await answering(r, [far.wait(0.5), far.playback(`${MOUNT}/tone3k`), far.signal('played'), far.wait(30)]);
    const name = `parallel-${newCallId()}.wav`;
    let report: Record<string, unknown> = {};
    let recorded: RecordResult | undefined;
    const rtp = await LoudPackets.open();
    t.after(() => rtp.close());
    await answered(
      r,
      async (call, events) => {
        const dials = dialEnds(call);
        const connected = await call.connect([[{ toNumber: n }, { toNumber: a }]]);
        const remote = connected.call;
        assert.ok(remote);
        const states: string[] = [];
        for (const state of ['answered', 'ending', 'ended'] as const) remote.on(state, () => states.push(state));
        assert.equal(await remote.waitForAnswered(), true);
        await assert.rejects(remote.playAudio(sine2), (error: unknown) => error instanceof CallNotControllableError && error.why === 'no-agi');
        await assert.rejects(remote.connect([{ toNumber: n }]), (error: unknown) => error instanceof CallNotControllableError && error.why === 'no-agi');
        // The far leg's 3 s tone, heard by the caller's far leg through the bridge, and recorded on the remote leg (MixMonitor over AMI).
        const recording = await remote.recordAsync({ direction: 'both' });
        const tap = await remote.tapAsync({ audioDirection: 'speak', targetType: 'rtp', targetAddr: '127.0.0.1', targetPort: rtp.port });
        await dbUntil(r, `${AGIKIT_DIALPLAN.syncFamily}/${a}`, 'played', 'the remote far leg to play its tone');
        await Promise.all([recording.stop(), tap.stop()]);
        recorded = recording.result;
        const hungUp = await within(remote.hangup(), 10_000, 'remote hangup');
        await until(() => events.includes('connect.disconnected'), 'connect.disconnected', 10_000);
        // A silent second between the tone heard through the bridge and the caller's own play.
        await call.playSilence(1);
        const played = await call.playAudio(sine2);
        report = { device: connected.device?.toNumber, hungUp: hungUp.successful, states, events: [...events], dials: [...dials].sort(), played: played.successful };
      },
      { far: [far.record(`${MOUNT}/${name}`, { maxSeconds: 15 })], timeoutMs: 60_000 },
    );
    assert.deepEqual(report, {
      device: a,
      hungUp: true,
      states: ['ending', 'ended'],
      events: ['connect.connecting', 'connect.connected', 'connect.disconnected'],
      dials: [`${a}:ANSWER`, `${n}:CANCEL`].sort(),
      played: true,
    });
    const heard = await Heard.closed(path.join(r.dir, name));
    const runs = heard.loudRuns();
    assert.ok(runs.length >= 2, `the tone, then the caller's play (${shape(heard.runs())})`);
    const tone = runs[0]!;
    near(tone.durationMs, 3000, 'ms of the remote tone heard through the bridge');
    assert.equal(heard.peaks(tone.startMs + 100, tone.startMs + tone.durationMs - 100, { count: 1 })[0], 1000, 'Hz of the remote tone');
    assert.equal(lastLoud(heard).hz, 600, "the caller's play after the remote leg was hung up");
    assert.ok(recorded?.successful, `the remote leg's recording: ${JSON.stringify(recorded)}`);
    const onRemote = await Heard.closed(fileURLToPath(recorded.url));
    const remoteTone = lastLoud(onRemote);
    assert.equal(remoteTone.hz, 1000, `the remote leg's recording holds its party's tone (${shape(onRemote.runs())})`);
    assert.ok(remoteTone.durationMs > 1500, `most of the 3 s tone was recorded on the remote leg (${shape(onRemote.runs())})`);
    assert.ok(rtp.loud >= 50, `the tap of the remote leg streamed its party's tone: ${rtp.loud} loud RTP packets of ${rtp.packets}`);
    t.diagnostic(`caller's far leg heard ${shape(heard.runs())}; the remote leg's recording: ${shape(onRemote.runs())}; its tap: ${rtp.loud} loud RTP packets of ${rtp.packets}`);
  });

  it("per-device timeouts in a parallel group: the device with the shorter timeout is hung up unanswered before the other one answers", { skip }, async () => {
    assert.ok(rig);
    const r = rig;
    const n = await ringing(r);
    const a = await answering(r, [far.wait(1), far.hangup()], 3);
    let report: Record<string, unknown> = {};
    await answered(
      r,
      async (call) => {
        const dials = dialEnds(call);
        const connected = await call.connect([[{ toNumber: n, timeout: 1 }, { toNumber: a, timeout: 20 }]]);
        await connected.call?.waitForEnded();
        report = { device: connected.device?.toNumber, dials: [...dials] };
      },
      { timeoutMs: 30_000 },
    );
    assert.deepEqual(report, { device: a, dials: [`${n}:NOANSWER`, `${a}:ANSWER`] });
  });

  it('no device answers ([busy, [no answer, no answer]]): connect.failed with the last DIALSTATUS; the caller is usable', { skip }, async () => {
    assert.ok(rig);
    const r = rig;
    const [b, n1, n2] = [await busy(r), await ringing(r), await ringing(r)];
    let report: Record<string, unknown> = {};
    await answered(
      r,
      async (call, events) => {
        const outcome = await call.connect([{ toNumber: b }, [{ toNumber: n1, timeout: 2 }, { toNumber: n2, timeout: 1 }]]);
        const played = await call.playSilence(1);
        report = { successful: outcome.successful, call: outcome.call, dialStatus: outcome.dialStatus, events: [...events], played: played.successful };
      },
      { timeoutMs: 30_000 },
    );
    assert.deepEqual(report, { successful: false, call: null, dialStatus: 'NOANSWER', events: ['connect.connecting', 'connect.failed'], played: true });
    for (const id of [b, n1, n2]) assert.ok(await reached(r, id), `device ${id} was tried`);
  });

  it('connectAsync().stop() while the device rings: the ringing leg is hung up, no further device is tried, the caller plays', { skip }, async () => {
    assert.ok(rig);
    const r = rig;
    const [n, a] = [await ringing(r), await answering(r, [far.wait(10)])];
    let report: Record<string, unknown> = {};
    await answered(
      r,
      async (call, events) => {
        const action: ConnectAction = await call.connectAsync([{ toNumber: n, timeout: 30 }, { toNumber: a }]);
        await dbUntil(r, REACHED, n, 'the device to ring');
        const stopped = await within(action.stop(), 10_000, 'stop');
        const gone = await ringingGone(r, n);
        const played = await call.playSilence(1);
        report = {
          stopped: stopped.successful,
          completed: action.completed,
          successful: action.result?.successful,
          state: action.state,
          events: [...events],
          ringingGone: gone,
          played: played.successful,
        };
      },
      { timeoutMs: 30_000 },
    );
    assert.deepEqual(report, { stopped: true, completed: true, successful: false, state: 'disconnected', events: ['connect.connecting', 'connect.disconnected'], ringingGone: true, played: true });
    assert.equal(await reached(r, a), undefined, 'the next device was never tried');
  });

  it("a caller's method with preempt: true while bridged ends the connect: the remote leg is hung up and the caller's far leg hears the play", { skip }, async () => {
    assert.ok(rig);
    const r = rig;
    const a = await answering(r, [far.wait(30)]);
    const name = `preempt-${newCallId()}.wav`;
    let report: Record<string, unknown> = {};
    await answered(
      r,
      async (call, events) => {
        const action = await call.connectAsync([{ toNumber: a }]);
        const connected = await within(action.done, 15_000, 'connected');
        const queued = await call.playAudio(sine2, { queue: false }).catch((error: Error) => error.name);
        const played = await within(call.playAudio(sine2, { preempt: true }), 15_000, 'the preempting play');
        report = { queued, played: played.successful, remote: [connected.call?.ended, connected.call?.hangupReason], events: [...events] };
      },
      { far: [far.record(`${MOUNT}/${name}`, { maxSeconds: 15 })], timeoutMs: 40_000 },
    );
    assert.deepEqual(report, {
      queued: 'CallBusyError',
      played: true,
      remote: [true, 'hangup'],
      events: ['connect.connecting', 'connect.connected', 'connect.disconnected'],
    });
    const loud = lastLoud(await Heard.closed(path.join(r.dir, name)));
    near(loud.durationMs, 2000, "ms of the caller's preempting play its far leg heard");
    assert.equal(loud.hz, 600);
  });

  it('the caller hangs up while bridged: connect.disconnected, and Asterisk ends the remote leg', { skip }, async () => {
    assert.ok(rig);
    const r = rig;
    const a = await answering(r, [far.wait(30)]);
    let report: Record<string, unknown> = {};
    await answered(
      r,
      async (call, events) => {
        const connected = await call.connect([{ toNumber: a }]);
        await r.asterisk.dbPut(`${AGIKIT_DIALPLAN.syncFamily}/${call.toNumber}`, 'bridged', '1');
        const [callEnded, remoteEnded] = await within(Promise.all([call.waitForEnded(), connected.call!.waitForEnded()]), 15_000, 'both legs to end');
        await until(() => events.includes('connect.disconnected'), 'connect.disconnected', 10_000);
        report = { callEnded, remoteEnded, events: [...events] };
      },
      { far: [far.waitFor('bridged', { timeoutMs: 20_000 }), far.wait(1), far.hangup()], timeoutMs: 40_000 },
    );
    assert.deepEqual(report, { callEnded: true, remoteEnded: true, events: ['connect.connecting', 'connect.connected', 'connect.disconnected'] });
  });

  it('disconnect(): both legs stay up; the remote leg comes back on its own AGI session and plays (its far leg hears it) while the caller plays to its own far leg', { skip }, async (t: TestContext) => {
    assert.ok(rig);
    const r = rig;
    const remoteName = `disc-remote-${newCallId()}.wav`;
    const callerName = `disc-caller-${newCallId()}.wav`;
    const a = await answering(r, [far.record(`${MOUNT}/${remoteName}`, { maxSeconds: 12 })]);
    let report: Record<string, unknown> = {};
    await answered(
      r,
      async (call, events) => {
        const connected = await call.connect([{ toNumber: a }]);
        const remote = connected.call;
        assert.ok(remote);
        const agiBefore: unknown = remote.agi;
        assert.equal(agiBefore, null, 'no AGI session before the disconnect');
        const result = await within(call.disconnect(), 15_000, 'disconnect');
        const both = [call.active, remote.active, remote.agi?.path];
        const [callerPlay, remotePlay] = await Promise.all([call.playAudio(sine2), remote.playAudio(tone2)]);
        await remote.hangup();
        report = { disconnected: result.successful, both, events: [...events], callerPlay: callerPlay.successful, remotePlay: remotePlay.successful };
      },
      { far: [far.record(`${MOUNT}/${callerName}`, { maxSeconds: 12 })], timeoutMs: 40_000 },
    );
    assert.deepEqual(report, {
      disconnected: true,
      both: [true, true, '/relay/resume'],
      events: ['connect.connecting', 'connect.connected', 'connect.disconnected'],
      callerPlay: true,
      remotePlay: true,
    });
    const remoteHeard = lastLoud(await Heard.closed(path.join(r.dir, remoteName)));
    const callerHeard = lastLoud(await Heard.closed(path.join(r.dir, callerName)));
    near(remoteHeard.durationMs, 2000, "ms of the remote leg's own play its far leg heard");
    assert.equal(remoteHeard.hz, 1000, "the remote's far leg heard the remote's 1000 Hz play");
    near(callerHeard.durationMs, 2000, "ms of the caller's play its far leg heard");
    assert.equal(callerHeard.hz, 600, "the caller's far leg heard the caller's 600 Hz play, not the remote's");
    t.diagnostic(`remote heard ${remoteHeard.durationMs} ms at ${remoteHeard.hz} Hz; caller heard ${callerHeard.durationMs} ms at ${callerHeard.hz} Hz`);
  });
});

describe('live: Relay connect without AMI (the AGI-only subset)', { concurrency: true }, () => {
  let rig: RelayRig | undefined;
  before(async () => {
    if (!live.ok) return;
    rig = await RelayRig.start({ ami: false });
  });
  after(async () => {
    await rig?.stop();
  });

  it('Dial runs in the lane: the busy device then the answering one; known once the bridge ends, with no remote Call; its DTMF crossed the bridge; stop, signal and disconnect need AMI', { skip }, async () => {
    assert.ok(rig);
    const r = rig;
    const b = await busy(r);
    const a = await answering(r, [far.wait(1), far.dtmf('73'), far.wait(0.5), far.hangup()]);
    let report: Record<string, unknown> = {};
    const { result } = await answered(
      r,
      async (call, events) => {
        const outcome = await call.connect([{ toNumber: b }, { toNumber: a }]);
        await until(() => events.includes('connect.disconnected'), 'connect.disconnected', 10_000);
        const refusals = await Promise.all([
          call.disconnect().catch((error: unknown) => (error instanceof RelayCapabilityError ? error.capability : String(error))),
          call.connect([{ toNumber: a }], { signal: new AbortController().signal }).catch((error: unknown) => (error instanceof RelayCapabilityError ? error.capability : String(error))),
        ]);
        const played = await call.playSilence(1);
        report = { successful: outcome.successful, call: outcome.call, dialStatus: outcome.dialStatus, events: [...events], refusals, played: played.successful };
      },
      { far: [far.read('bridged', { maxDigits: 2, timeoutSeconds: 20 })], timeoutMs: 40_000 },
    );
    assert.deepEqual(report, {
      successful: true,
      call: null,
      dialStatus: 'ANSWER',
      events: ['connect.connecting', 'connect.connected', 'connect.disconnected'],
      refusals: ['ami', 'ami'],
      played: true,
    });
    assert.equal(result.farDigits['bridged'], '73', "the caller's far leg heard the answering device's DTMF");
    assert.ok(await reached(r, b), 'the busy device was tried first');
  });
});
