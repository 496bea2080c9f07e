/**
 * Live: the Relay Call's record() / recordAsync() against a real Asterisk 22, with and without AMI.
 * The far leg speaks (Playback of Asterisk's sounds), sends real silence frames and DTMF; the tests
 * read the recordings agikit reports (url, duration, size) and check what they hold: non-silent,
 * durations within 10 % of what was played, the two channels of a stereo recording apart.
 *
 * Durations of the sounds played (GSM, 1650 bytes/s): vm-intro 5.66 s, hello-world 1.42 s,
 * tt-weasels 2.96 s.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { decodeS16le, parseWav } from '../../src/media/audio.js';
import type { Call } from '../../src/relay/call.js';
import { RelayCapabilityError } from '../../src/relay/errors.js';
import { RECORDINGS_SUBDIRECTORY, type RecordAction } from '../../src/relay/record.js';
import type { RecordDirection, RecordOptions } from '../../src/relay/record-options.js';
import type { RecordResult } from '../../src/relay/results.js';
import { agikitPackageRoot, far, type FarStep } from '../../src/testing/asterisk.js';
import { wavStats } from '../../src/testing/wav.js';
import { MOUNT, RelayRig, live, signalFar, skip } from './relay-rig.js';
import { waitSignal } from './rig.js';
import { within } from '../support/settle.js';

const VM_INTRO = 9339 / 1650;
const HELLO_WORLD = 2343 / 1650;
const TT_WEASELS = 4884 / 1650;

/** `actual` is within 10 % of `expected`. */
function near(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= expected * 0.1, `${what}: ${actual.toFixed(3)} s, expected ${expected.toFixed(3)} s ± 10 %`);
}

/** The recording a result names: its path, after checking url, size and that it lies in the recordings directory. */
function recordedFile(rig: RelayRig, result: RecordResult): string {
  assert.equal(result.successful, true, `unsuccessful: ${JSON.stringify(result)}`);
  assert.match(result.url, /^file:\/\//);
  const file = fileURLToPath(result.url);
  assert.equal(path.dirname(file), path.join(rig.dir, RECORDINGS_SUBDIRECTORY));
  assert.equal(statSync(file).size, result.size, 'size is the file size');
  return file;
}

/** Per-channel samples of a 16-bit WAV. */
function channels(file: string): { rate: number; channels: Int16Array[] } {
  const info = parseWav(readFileSync(file));
  const all = decodeS16le(info.data);
  const out = Array.from({ length: info.channels }, (_, c) => all.filter((_, i) => i % info.channels === c));
  return { rate: info.sampleRate, channels: out };
}

/** Which 20 ms windows of `samples` are louder than Asterisk's silence threshold (RMS 256). */
function activeWindows(samples: Int16Array, rate: number): boolean[] {
  const size = rate / 50;
  const out: boolean[] = [];
  for (let start = 0; start + size <= samples.length; start += size) {
    let sum = 0;
    for (let i = start; i < start + size; i++) sum += (samples[i] as number) ** 2;
    out.push(Math.sqrt(sum / size) > 256);
  }
  return out;
}

/** Seconds from the start to the end of the last active window. */
function lastActive(windows: boolean[]): number {
  return (windows.lastIndexOf(true) + 1) * 0.02;
}

/** Records every record.* event of a call as `event:state`. */
function watchRecord(call: Call): string[] {
  const seen: string[] = [];
  for (const name of ['record.stateChange', 'record.recording', 'record.no_input', 'record.finished'] as const) {
    call.on(name, (action) => seen.push(`${name}:${action.state}`));
  }
  return seen;
}

/**
 * Places a call that records with `options` once the far leg (waiting for the signal `go`) starts
 * on `farSteps`, and returns the result. `watch` sees the call first (to listen to its events).
 */
async function recordCall(rig: RelayRig, options: RecordOptions, farSteps: FarStep[], watch?: (call: Call) => void): Promise<RecordResult> {
  let result: RecordResult | undefined;
  await rig.run(
    async (call) => {
      watch?.(call);
      await signalFar(call, 'go');
      result = await call.record(options);
    },
    { far: [far.waitFor('go'), ...farSteps] },
  );
  assert.ok(result, 'the call recorded');
  return result;
}

/**
 * Records with a beep (`direction`) while the far leg records what it hears for 2 s, then hangs up;
 * resolves with how long the far leg heard sound.
 */
async function beepHeard(rig: RelayRig, direction: RecordDirection): Promise<number> {
  const name = `heard-beep-${direction}-${Date.now()}.wav`;
  await rig.run(
    async (call) => {
      await call.record({ direction, beep: true, initialTimeout: 0, endSilenceTimeout: 0 });
    },
    { far: [far.record(`${MOUNT}/${name}`, { maxSeconds: 2 }), far.hangup()] },
  );
  const { rate, channels: [heard] } = channels(path.join(rig.dir, name));
  assert.ok(heard);
  return activeWindows(heard, rate).filter(Boolean).length * 0.02;
}

/** Installs lame (the MP3 encoder) with the project's script; the reason when it cannot. */
function lameUnavailable(): string | false {
  const root = agikitPackageRoot() ?? process.cwd();
  const r = spawnSync('bash', [path.join(root, 'scripts', 'install-command.sh'), 'lame'], { encoding: 'utf8' });
  return r.status === 0 ? false : `lame unavailable, so mp3 cannot be encoded: ${r.stderr.trim() || `install-command.sh exited ${r.status}`}`;
}

/** Files of the recordings directory whose name starts with `controlId`. */
function filesOf(rig: RelayRig, controlId: string): string[] {
  const dir = path.join(rig.dir, RECORDINGS_SUBDIRECTORY);
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith(controlId)) : [];
}

describe('live: Relay record with AMI', { concurrency: true }, () => {
  let rig: RelayRig | undefined;
  before(async () => {
    if (live.ok) rig = await RelayRig.start();
  });
  after(async () => {
    await rig?.stop();
  });

  it('record() with the seed defaults: the far leg speaks, then sends silence; 1 s of it ends the recording', { skip }, async () => {
    assert.ok(rig);
    let seen: string[] = [];
    const result = await recordCall(rig, {}, [far.playback('vm-intro'), far.silence(10)], (call) => {
      seen = watchRecord(call);
    });
    const file = recordedFile(rig, result);
    // RECORD FILE keeps about 1 s of the silence that ended it.
    near(result.duration, VM_INTRO + 1, 'duration');
    const stats = wavStats(readFileSync(file));
    near(stats.durationSeconds, result.duration, 'duration of the samples');
    assert.ok(stats.rms > 300, `the caller's speech is in the recording (rms ${stats.rms.toFixed(0)})`);
    assert.equal(result.event?.payload['command'], 'RECORD FILE');
    assert.equal(result.event?.payload['result'], 'timeout');
    assert.deepEqual(seen, ['record.stateChange:recording', 'record.recording:recording', 'record.stateChange:finished', 'record.finished:finished']);
  });

  it('record(): the terminator # ends it at once (long before the end silence would)', { skip }, async () => {
    assert.ok(rig);
    const result = await recordCall(rig, { endSilenceTimeout: 8 }, [far.playback('hello-world'), far.dtmf('#'), far.silence(10)]);
    recordedFile(rig, result);
    assert.deepEqual([result.event?.payload['result'], result.event?.payload['digit']], ['dtmf', '#']);
    // The speech (less its quiet start, which WaitForNoise skips), not the 8 s of silence after it.
    assert.ok(result.duration > 0.5 && result.duration < HELLO_WORLD + 0.5, `duration ${result.duration}`);
  });

  it('record(): nothing heard within initialTimeout: record.no_input, unsuccessful, no file left', { skip }, async () => {
    assert.ok(rig);
    let seen: string[] = [];
    let controlId = '';
    const result = await recordCall(rig, { initialTimeout: 2 }, [far.silence(10)], (call) => {
      seen = watchRecord(call);
      call.on('record.recording', (action) => {
        controlId = action.controlId;
      });
    });
    assert.deepEqual(result, { successful: false, event: result.event, url: '', duration: 0, size: 0 });
    assert.equal(result.event?.payload['WAITSTATUS'], 'TIMEOUT');
    assert.deepEqual(seen, ['record.stateChange:recording', 'record.recording:recording', 'record.stateChange:no_input', 'record.no_input:no_input']);
    assert.ok(controlId);
    assert.deepEqual(filesOf(rig, controlId), []);
  });

  it('recordAsync() of the caller (RECORD FILE): RecordAction.stop() ends it over AMI; what was recorded is kept', { skip }, async () => {
    assert.ok(rig);
    let result: RecordResult | undefined;
    let stoppedAfter = 0;
    let states: string[] = [];
    await rig.run(
      async (call) => {
        // Recorded while the far leg sends frames: a Local channel sends none while idle.
        await waitSignal(call.requireAgi('test'), 'speaking');
        const action = await call.recordAsync({ initialTimeout: 0, endSilenceTimeout: 0 });
        const started = Date.now();
        await new Promise((resolve) => setTimeout(resolve, 2000));
        states = [action.state, String(action.completed)];
        assert.deepEqual(await action.stop(), { successful: true });
        stoppedAfter = (Date.now() - started) / 1000;
        result = action.result;
        assert.equal(action.url, result?.url);
      },
      { far: [far.signal('speaking'), far.playback('vm-intro'), far.silence(10)] },
    );
    assert.ok(result);
    const file = recordedFile(rig, result);
    assert.deepEqual(states, ['recording', 'false']);
    assert.equal(result.event?.payload['result'], 'stopped');
    // The far leg speaks for 5.66 s, then sends 10 s of silence: only the stop can have ended it this
    // early. (Media time, not wall time: on a loaded machine Asterisk's playback runs behind the clock.)
    assert.ok(result.duration > 0.5 && result.duration <= stoppedAfter, `stopped after ${stoppedAfter} s: ${result.duration} s recorded`);
    assert.ok(wavStats(readFileSync(file)).rms > 300);
  });

  it('recordAsync({ direction: both, stereo: true }): left channel the far leg, right channel what the call played; stop()', { skip }, async () => {
    assert.ok(rig);
    let result: RecordResult | undefined;
    let took = 0;
    await rig.run(
      async (call) => {
        const agi = call.requireAgi('test');
        // Recorded while the far leg sends frames (silence, then speech): a Local channel sends none while idle.
        await waitSignal(agi, 'sending');
        const started = Date.now();
        const action = await call.recordAsync({ direction: 'both', stereo: true, initialTimeout: 0, endSilenceTimeout: 0 });
        await waitSignal(agi, 'spoke');
        // The lane is free while MixMonitor records: the call plays meanwhile.
        await agi.streamFile('tt-weasels', '');
        await action.stop();
        took = (Date.now() - started) / 1000;
        result = await action.done;
      },
      { far: [far.signal('sending'), far.silence(1), far.playback('hello-world'), far.signal('spoke'), far.silence(10)] },
    );
    assert.ok(result);
    const file = recordedFile(rig, result);
    const { rate, channels: [left, right] } = channels(file);
    assert.ok(left && right && rate === 8000, 'a 2-channel WAV at 8 kHz');
    // From recordAsync to stop the far leg sent under 1 s of silence and its speech, then the call
    // played tt-weasels (media time: a loaded machine plays behind the clock, so not `took`).
    assert.ok(result.duration >= (HELLO_WORLD + TT_WEASELS) * 0.9 && result.duration <= took + 0.1, `duration ${result.duration} s (took ${took} s)`);
    const l = activeWindows(left, rate);
    const r = activeWindows(right, rate);
    const seconds = (w: boolean[]): number => w.filter(Boolean).length * 0.02;
    assert.ok(seconds(l) > HELLO_WORLD * 0.4 && seconds(l) <= HELLO_WORLD + 0.1, `left (far leg) active ${seconds(l)} s`);
    assert.ok(seconds(r) > TT_WEASELS * 0.4 && seconds(r) <= TT_WEASELS + 0.1, `right (call) active ${seconds(r)} s`);
    // The far leg spoke first, then the call played: each channel holds its own side only.
    assert.ok(lastActive(l) <= r.indexOf(true) * 0.02 + 0.1, `far speech ends at ${lastActive(l)} s, call audio starts at ${r.indexOf(true) * 0.02} s`);
    assert.ok(l.filter((active, i) => active && r[i]).length <= 3, 'the channels do not carry the same audio');
  });

  it('record({ direction: both }) (MixMonitor): TALK_DETECT over AMI ends it 1 s after the caller stops talking', { skip }, async () => {
    assert.ok(rig);
    const result = await recordCall(rig, { direction: 'both' }, [far.playback('hello-world'), far.silence(10)]);
    const file = recordedFile(rig, result);
    assert.equal(result.event?.name, 'ami.ChannelTalkingStop');
    const { rate, channels: [mono] } = channels(file);
    assert.ok(mono);
    const trailing = result.duration - lastActive(activeWindows(mono, rate));
    assert.ok(trailing >= 0.9 && trailing <= 1.4, `ended ${trailing.toFixed(2)} s after the last speech`);
    near(result.duration, HELLO_WORLD + 1, 'duration');
  });

  it('recordAsync({ direction: listen }): what the call plays; the far leg\'s # (DTMFEnd over AMI) ends it while the play goes on', { skip }, async () => {
    assert.ok(rig);
    let result: RecordResult | undefined;
    let playEndedAfterRecord = false;
    await rig.run(
      async (call) => {
        const action: RecordAction = await call.recordAsync({ direction: 'listen', initialTimeout: 0, endSilenceTimeout: 0 });
        await signalFar(call, 'go');
        const play = call.requireAgi('test').streamFile('tt-weasels', '');
        result = await within(action.done, 10_000, 'the # to end the recording');
        await play;
        playEndedAfterRecord = true;
      },
      { far: [far.waitFor('go'), far.silence(1), far.dtmf('#'), far.silence(10)] },
    );
    assert.ok(result && playEndedAfterRecord);
    const file = recordedFile(rig, result);
    assert.deepEqual([result.event?.name, result.event?.payload['Digit']], ['ami.DTMFEnd', '#']);
    assert.ok(result.duration > 0.8 && result.duration < 2.2, `ended by the # after about 1 s: ${result.duration} s`);
    assert.ok(wavStats(readFileSync(file)).rms > 300, 'the call\'s audio is in it');
  });

  it('the far leg hangs up while it is recorded (a voicemail): what was recorded is kept, RECORD FILE and MixMonitor alike', { skip }, async () => {
    assert.ok(rig);
    for (const direction of ['speak', 'both'] as const) {
      const result = await recordCall(rig, { direction, initialTimeout: 0, endSilenceTimeout: 8 }, [far.playback('hello-world'), far.hangup()]);
      const file = recordedFile(rig, result);
      assert.equal(result.event?.name, 'call.ended', direction);
      near(result.duration, HELLO_WORLD, `${direction}: duration`);
      // Asterisk closed the file (format_wav writes the sizes on close) before agikit measured it.
      const info = parseWav(readFileSync(file));
      assert.equal(info.data.length, result.size - 44, `${direction}: the header's data size is the file's`);
      assert.ok(wavStats(readFileSync(file)).rms > 300);
    }
  });

  it('beep: the far leg hears Asterisk\'s beep (0.44 s) when the recording starts: RECORD FILE, and MixMonitor over AMI', { skip }, async () => {
    assert.ok(rig);
    for (const direction of ['speak', 'both'] as const) {
      const seconds = await beepHeard(rig, direction);
      assert.ok(seconds >= 0.2 && seconds <= 0.6, `${direction}: the far leg heard ${seconds} s of sound`);
    }
  });

  const lameMissing = lameUnavailable();
  it('record({ format: mp3 }): encoded by lame; decoded again it is the caller\'s speech, of the right length', { skip: skip || lameMissing }, async () => {
    assert.ok(rig);
    const result = await recordCall(rig, { format: 'mp3', endSilenceTimeout: 2 }, [far.playback('vm-intro'), far.silence(10)]);
    const file = recordedFile(rig, result);
    assert.ok(file.endsWith('.mp3') && !existsSync(file.replace(/\.mp3$/, '.wav')), 'only the MP3 is left');
    const scratch = mkdtempSync('/tmp/agikit-mp3-');
    try {
      const decoded = path.join(scratch, 'decoded.wav');
      assert.equal(spawnSync('lame', ['--quiet', '--decode', file, decoded]).status, 0);
      const stats = wavStats(readFileSync(decoded));
      near(stats.durationSeconds, result.duration, 'decoded duration');
      near(result.duration, VM_INTRO + 1, 'duration');
      assert.ok(stats.rms > 300);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});

describe('live: Relay record without AMI (the AGI-only subset)', { concurrency: true }, () => {
  let rig: RelayRig | undefined;
  before(async () => {
    if (live.ok) rig = await RelayRig.start({ ami: false });
  });
  after(async () => {
    await rig?.stop();
  });

  it('record(): ended by silence, and by the terminator', { skip }, async () => {
    assert.ok(rig);
    const results: RecordResult[] = [];
    await rig.run(
      async (call) => {
        await signalFar(call, 'first');
        results.push(await call.record());
        await signalFar(call, 'second');
        results.push(await call.record({ endSilenceTimeout: 8, terminators: '#' }));
      },
      { far: [far.waitFor('first'), far.playback('hello-world'), far.silence(3), far.waitFor('second'), far.playback('hello-world'), far.dtmf('#'), far.silence(10)] },
    );
    const [bySilence, byTerminator] = results;
    assert.ok(bySilence && byTerminator);
    near(bySilence.duration, HELLO_WORLD + 1, 'ended by silence');
    assert.ok(wavStats(readFileSync(recordedFile(rig, bySilence))).rms > 300);
    recordedFile(rig, byTerminator);
    assert.equal(byTerminator.event?.payload['digit'], '#');
    assert.ok(byTerminator.duration < HELLO_WORLD + 1, `ended by #: ${byTerminator.duration} s`);
  });

  it('RecordAction.stop() of a RECORD FILE throws RelayCapabilityError, and so does a signal; the recording ends by its terminator', { skip }, async () => {
    assert.ok(rig);
    let result: RecordResult | undefined;
    await rig.run(
      async (call) => {
        await assert.rejects(call.record({ signal: new AbortController().signal }), (e: unknown) => e instanceof RelayCapabilityError && e.capability === 'ami');
        const action = await call.recordAsync({ initialTimeout: 0, endSilenceTimeout: 0 });
        await signalFar(call, 'go');
        await assert.rejects(action.stop(), (e: unknown) => e instanceof RelayCapabilityError && /RecordAction\.stop needs an AMI connection/.test(e.message));
        result = await action.done;
      },
      { far: [far.waitFor('go'), far.playback('hello-world'), far.dtmf('*'), far.silence(10)] },
    );
    assert.ok(result);
    recordedFile(rig, result);
    assert.equal(result.event?.payload['digit'], '*');
  });

  it('record({ direction: both }): MixMonitor, with a RECORD FILE watching the silence in the lane', { skip }, async () => {
    assert.ok(rig);
    const result = await recordCall(rig, { direction: 'both', initialTimeout: 0 }, [far.playback('hello-world'), far.silence(10)]);
    const file = recordedFile(rig, result);
    near(result.duration, HELLO_WORLD + 1, 'duration');
    assert.ok(wavStats(readFileSync(file)).rms > 300);
    assert.deepEqual(readdirSync(path.dirname(file)).filter((f) => f.includes('-watch')), [], 'the watcher\'s scratch file is gone');
  });

  it('beep without AMI: RECORD FILE, and MixMonitor\'s own p option (listen: MixMonitor with no main file)', { skip }, async () => {
    assert.ok(rig);
    for (const direction of ['speak', 'both', 'listen'] as const) {
      const seconds = await beepHeard(rig, direction);
      assert.ok(seconds >= 0.2 && seconds <= 0.6, `${direction}: the far leg heard ${seconds} s of sound`);
    }
  });

  it('recordAsync({ stereo: true, direction: both }) with no end conditions: the far leg hangs up; StopMixMonitor in dead AGI keeps the file', { skip }, async () => {
    assert.ok(rig);
    let result: RecordResult | undefined;
    await rig.run(
      async (call) => {
        const action = await call.recordAsync({ stereo: true, direction: 'both', initialTimeout: 0, endSilenceTimeout: 0, terminators: '' });
        await signalFar(call, 'speak');
        result = await within(action.done, 10_000, 'the recording to end with the call');
      },
      { far: [far.waitFor('speak'), far.playback('hello-world'), far.hangup()] },
    );
    assert.ok(result);
    const file = recordedFile(rig, result);
    assert.equal(result.event?.name, 'call.ended');
    near(result.duration, HELLO_WORLD, 'duration');
    const { rate, channels: [left] } = channels(file);
    assert.ok(left && activeWindows(left, rate).filter(Boolean).length > 20, 'the far leg is on the left');
  });

  it('recordAsync({ stereo: true }) with no end conditions: stop() without AMI (StopMixMonitor in the lane); speak only: the right channel is silent', { skip }, async () => {
    assert.ok(rig);
    let result: RecordResult | undefined;
    await rig.run(
      async (call) => {
        const action = await call.recordAsync({ stereo: true, initialTimeout: 0, endSilenceTimeout: 0, terminators: '' });
        await signalFar(call, 'speak');
        await waitSignal(call.requireAgi('test'), 'spoke');
        await call.requireAgi('test').streamFile('hello-world', '');
        assert.deepEqual(await action.stop(), { successful: true });
        result = await action.done;
      },
      { far: [far.waitFor('speak'), far.playback('hello-world'), far.signal('spoke'), far.silence(10)] },
    );
    assert.ok(result);
    const { rate, channels: [left, right] } = channels(recordedFile(rig, result));
    assert.ok(left && right);
    assert.ok(activeWindows(left, rate).filter(Boolean).length > 20, 'the far leg is on the left');
    assert.ok(right.every((s) => s === 0), 'the right channel (what the call played) is silent for direction speak');
  });
});
