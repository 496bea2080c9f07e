/**
 * Live: the Relay play family against a real Asterisk 22. The far leg records what it hears
 * (`Record()` into the mounted media directory) and each test measures that recording: lengths of
 * the loud and silent stretches, RMS ratios, the pitch of ringtones, a chirp's frequency on both
 * sides of a pause. With AMI (pause, resume, volume while playing) and without (the AGI-only
 * subset). Skipped, with the reason, when Docker or the image cannot be had.
 *
 * A recording holds the frames the far leg received, not wall time. What a whole file, a silence
 * file or a tone cadence contains is exact in frames, and is checked tightly. What lasts as long as
 * the test waits (a play stopped after 2 s, a 2 s pause, a ringtone's duration) is paced by
 * Asterisk's timer, and an Asterisk starved of CPU (tests of other worktrees share the machine)
 * drops timer ticks and sends fewer frames than the time that passed: those stretches are checked
 * with {@link waited}, at most the time waited (+ 200 ms) and at least half of it.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Call } from '../../src/relay/call.js';
import { RelayCapabilityError } from '../../src/relay/errors.js';
import type { PlayAction, PlayState } from '../../src/relay/play.js';
import { far } from '../../src/testing/asterisk.js';
import { chirpWav, Heard, MediaServer, shape, sineWav, type Run } from './relay-audio.js';
import { MOUNT, RelayRig, live, skip } from './relay-rig.js';

/** Test signals served over HTTP: a 600 Hz sine of 1, 2, 4 and 6 s, and a 6 s chirp from 300 to 900 Hz. */
const FILES = {
  '/sine1.wav': sineWav(1, 600),
  '/sine2.wav': sineWav(2, 600),
  '/sine4.wav': sineWav(4, 600),
  '/sine6.wav': sineWav(6, 600),
  '/chirp6.wav': chirpWav(6, 300, 900),
};

/** Relative tolerance of durations the far leg heard (the issue's 10 %). */
const DURATION_TOLERANCE = 0.1;

/** Records the play events of a call, in order (`stateChange` with the state it reports). */
function watchPlays(call: Call): string[] {
  const seen: string[] = [];
  call.on('play.stateChange', (action) => seen.push(`stateChange:${action.state}`));
  for (const name of ['play.playing', 'play.paused', 'play.error', 'play.finished'] as const) call.on(name, () => seen.push(name));
  return seen;
}

/** Waits (bounded) until `action` is in `state`. */
async function untilState(action: PlayAction, state: PlayState, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (action.state !== state) {
    if (Date.now() > deadline) throw new Error(`the play did not reach ${state} within ${ms} ms (it is ${action.state})`);
    await sleep(10);
  }
}

/** The far leg's recording `name` in the rig's media directory, once Asterisk has closed it. */
function recording(rig: RelayRig, name: string): Promise<Heard> {
  return Heard.closed(path.join(rig.dir, name));
}

/** Asserts `actual` is within `tolerance` (relative) of `expected`. */
function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= expected * tolerance, `${what}: ${actual.toFixed(0)}, expected ${expected.toFixed(0)} ± ${(tolerance * 100).toFixed(0)} %`);
}

/** Asserts `actual` is within `ms` of `expected`. */
function nearMs(actual: number, expected: number, ms: number, what: string, runs?: readonly Run[]): void {
  assert.ok(Math.abs(actual - expected) <= ms, `${what}: ${actual.toFixed(0)} ms, expected ${expected.toFixed(0)} ± ${ms} ms${runs ? ` (heard ${shape(runs)})` : ''}`);
}

/**
 * Asserts a stretch that lasted as long as the test waited (`waitedMs`): at most that (+ 200 ms),
 * at least half of it (see the module comment).
 */
function waited(actual: number, waitedMs: number, what: string, runs: readonly Run[]): void {
  assert.ok(actual <= waitedMs + 200 && actual >= waitedMs / 2, `${what}: ${actual.toFixed(0)} ms for ${waitedMs.toFixed(0)} ms waited (heard ${shape(runs)})`);
}

/** Places a call whose far leg records into `<name>.wav` while `script` runs; returns the recording. */
async function heardDuring(rig: RelayRig, name: string, script: (call: Call) => Promise<void>, extraFar: Parameters<RelayRig['run']>[1] = {}): Promise<Heard> {
  await rig.run(script, { far: [far.record(`${MOUNT}/${name}.wav`, { maxSeconds: 40 }), ...(extraFar.far ?? [])], timeoutMs: 60_000 });
  return recording(rig, `${name}.wav`);
}

describe('live: Relay play with AMI', () => {
  let rig: RelayRig | undefined;
  let media: MediaServer | undefined;
  before(async () => {
    if (!live.ok) return;
    media = await MediaServer.start(FILES);
    rig = await RelayRig.start();
  });
  after(async () => {
    await rig?.stop();
    await media?.stop();
  });

  it('playAudio of an http URL: the far leg hears 4 s of it (± 10 %); events playing then finished', { skip }, async (t) => {
    assert.ok(rig && media);
    let seen: string[] = [];
    let result: unknown;
    const url = media.url('/sine4.wav');
    const heard = await heardDuring(rig, 'url', async (call) => {
      seen = watchPlays(call);
      const played = await call.playAudio(url);
      result = played.successful;
    });
    assert.equal(result, true);
    assert.deepEqual(seen, ['stateChange:playing', 'play.playing', 'stateChange:finished', 'play.finished']);
    const loud = heard.loudRuns();
    assert.equal(loud.length, 1, shape(heard.runs()));
    near(loud[0]!.durationMs, 4000, DURATION_TOLERANCE, 'loud ms');
    near(heard.rmsBetween(loud[0]!.startMs + 200, loud[0]!.startMs + 3800), 5000 / Math.SQRT2, 0.1, 'RMS of the sine');
    t.diagnostic(`heard: ${shape(heard.runs())}`);
  });

  it('playTTS: the far leg hears speech as long as the synthesized file (± 10 %)', { skip }, async (t) => {
    assert.ok(rig);
    const text = 'Welcome to agikit. This is a test of text to speech over Relay.';
    const speech = await rig.media.tts!.synthesize(text, { language: 'en', voice: 'm3' });
    let successful: boolean | undefined;
    const heard = await heardDuring(rig, 'tts', async (call) => {
      successful = (await call.playTTS({ text, gender: 'male' })).successful;
    });
    assert.equal(successful, true);
    assert.ok(speech.durationMs && speech.durationMs > 2000, `synthesized ${speech.durationMs} ms`);
    near(heard.durationMs, speech.durationMs, DURATION_TOLERANCE, 'recording ms');
    const loudMs = heard.loudRuns().reduce((sum, run) => sum + run.durationMs, 0);
    assert.ok(loudMs > speech.durationMs * 0.5, `speech heard for ${loudMs} of ${speech.durationMs} ms`);
    t.diagnostic(`synthesized ${speech.durationMs} ms, recording ${heard.durationMs} ms, ${shape(heard.runs())}`);
  });

  it('playSilence(2) between two files, and play() of [audio, silence 1, audio]: silences of 2 s and 1 s (± 0.2 s)', { skip }, async (t) => {
    assert.ok(rig && media);
    const one = media.url('/sine1.wav');
    const results: boolean[] = [];
    const heard = await heardDuring(rig, 'silence', async (call) => {
      results.push((await call.playAudio(one)).successful);
      results.push((await call.playSilence(2)).successful);
      results.push((await call.play([{ type: 'audio', url: one }, { type: 'silence', duration: 1 }, { type: 'audio', url: one }])).successful);
    });
    assert.deepEqual(results, [true, true, true]);
    const runs = heard.runs();
    assert.deepEqual(runs.map((r) => r.loud), [true, false, true, false, true], shape(runs));
    for (const i of [0, 2, 4]) nearMs(runs[i]!.durationMs, 1000, 100, `tone ${i / 2 + 1}`, runs);
    nearMs(runs[1]!.durationMs, 2000, 200, 'playSilence(2)', runs);
    nearMs(runs[3]!.durationMs, 1000, 200, 'the silence item of play()', runs);
    t.diagnostic(`heard: ${shape(runs)}`);
  });

  it('playRingtone us and de: the far leg hears 440+480 Hz for 2 s of 6, then 425 Hz for 1 s of 5', { skip }, async (t) => {
    assert.ok(rig);
    const heard = await heardDuring(rig, 'ringtones', async (call) => {
      assert.equal((await call.playRingtone({ name: 'us' })).successful, true);
      assert.equal((await call.playRingtone({ name: 'de', duration: 5 })).successful, true);
    });
    const runs = heard.runs();
    assert.deepEqual(runs.map((r) => r.loud).slice(0, 4), [true, false, true, false], shape(runs));
    const [us, usOff, de] = runs as [Run, Run, Run];
    nearMs(us.durationMs, 2000, 100, 'us: tone on', runs);
    waited(usOff.durationMs, 4000, 'us: tone off (one cadence: 2 s on, 4 s off)', runs);
    nearMs(de.durationMs, 1000, 100, 'de: tone on', runs);
    waited(heard.durationMs, 11_000, 'both ringtones (6 s and 5 s)', runs);
    const usPeaks = heard.peaks(us.startMs + 100, us.startMs + us.durationMs - 100).sort((a, b) => a - b);
    const dePeaks = heard.peaks(de.startMs + 100, de.startMs + de.durationMs - 100, { count: 1 });
    assert.deepEqual(usPeaks, [440, 480], `us peaks ${usPeaks}`);
    assert.deepEqual(dePeaks, [425], `de peak ${dePeaks}`);
    t.diagnostic(`heard: ${shape(runs)}; us peaks ${usPeaks} Hz, de peak ${dePeaks} Hz`);
  });

  it("playRingtone us: the far leg's ToneScan(us) reports RINGING; with silence it times out", { skip }, async () => {
    assert.ok(rig);
    const scan = [far.app('ToneScan', 'us,4'), far.app('Set', 'DB(agikit-result/${EXTEN}/far-read-tonescan)=${TONESCANSTATUS}')];
    const ringing = await rig.run(async (call) => {
      await call.playRingtone({ name: 'us', duration: 5 });
    }, { far: scan });
    assert.equal(ringing.result.farDigits['tonescan'], 'RINGING');
    const silent = await rig.run(async (call) => {
      await call.playSilence(5);
    }, { far: scan });
    assert.equal(silent.result.farDigits['tonescan'], 'TIMEOUT');
  });

  it('volume: +6 dB is twice as loud as 0 (RMS ratio 2 ± 0.2), -6 dB half; PlayAction.volume(6) mid-play doubles it; reset after', { skip }, async (t) => {
    assert.ok(rig && media);
    const two = media.url('/sine2.wav');
    const four = media.url('/sine4.wav');
    const controls: boolean[] = [];
    const heard = await heardDuring(rig, 'volume', async (call) => {
      await call.playAudio(two);
      await call.playSilence(1);
      await call.playAudio(two, { volume: 6 });
      await call.playSilence(1);
      await call.playAudio(two, { volume: -6 });
      await call.playSilence(1);
      const action = await call.playAudioAsync(four);
      await untilState(action, 'playing');
      await sleep(2000);
      controls.push((await action.volume(6)).successful);
      await action.done;
      await call.playSilence(1);
      await call.playAudio(two);
    });
    assert.deepEqual(controls, [true]);
    const loud = heard.loudRuns();
    assert.equal(loud.length, 5, shape(heard.runs()));
    const level = (run: Run, from = 200, to = run.durationMs - 200): number => heard.rmsBetween(run.startMs + from, run.startMs + to);
    const [zero, plus6, minus6, changed, after] = loud as [Run, Run, Run, Run, Run];
    const base = level(zero);
    const ratios = {
      plus6: level(plus6) / base,
      minus6: level(minus6) / base,
      before: level(changed, 200, 1800) / base,
      changed: level(changed, 2400, changed.durationMs - 200) / base,
      after: level(after) / base,
    };
    assert.ok(Math.abs(ratios.plus6 - 2) <= 0.2, `+6 dB: ratio ${ratios.plus6}`);
    assert.ok(Math.abs(ratios.minus6 - 0.5) <= 0.05, `-6 dB: ratio ${ratios.minus6}`);
    assert.ok(Math.abs(ratios.before - 1) <= 0.1, `before volume(6): ratio ${ratios.before}`);
    assert.ok(Math.abs(ratios.changed - 2) <= 0.2, `after volume(6): ratio ${ratios.changed}`);
    assert.ok(Math.abs(ratios.after - 1) <= 0.1, `the next play (volume reset): ratio ${ratios.after}`);
    t.diagnostic(`RMS ratios to 0 dB: ${JSON.stringify(ratios)}`);
  });

  it('pause 2 s into a 6 s chirp, resume 2 s later: a silent gap, exactly 6 s of chirp heard in all, going on where it stopped', { skip }, async (t) => {
    assert.ok(rig && media);
    let seen: string[] = [];
    const controls: Record<string, boolean> = {};
    let pausedMs = 0;
    let final: unknown;
    const heard = await heardDuring(rig, 'pause', async (call) => {
      seen = watchPlays(call);
      const action = await call.playAudioAsync(media!.url('/chirp6.wav'));
      await untilState(action, 'playing');
      await sleep(2000);
      controls['pause'] = (await action.pause()).successful;
      const pausedAt = Date.now();
      controls['pauseAgain'] = (await action.pause()).successful;
      controls['statePaused'] = action.state === 'paused';
      await sleep(2000);
      controls['resume'] = (await action.resume()).successful;
      pausedMs = Date.now() - pausedAt;
      final = { result: (await action.done).successful, state: action.state, completed: action.completed };
    });
    assert.deepEqual(controls, { pause: true, pauseAgain: true, statePaused: true, resume: true });
    assert.deepEqual(final, { result: true, state: 'finished', completed: true });
    assert.deepEqual(seen, [
      'stateChange:playing', 'play.playing',
      'stateChange:paused', 'play.paused',
      'stateChange:playing', 'play.playing',
      'stateChange:finished', 'play.finished',
    ]);
    const runs = heard.runs();
    assert.deepEqual(runs.map((r) => r.loud), [true, false, true], shape(runs));
    const [before, gap, rest] = runs as [Run, Run, Run];
    waited(gap.durationMs, pausedMs, 'the gap vs the time paused', runs);
    nearMs(before.durationMs + rest.durationMs, 6000, 100, 'the chirp heard in all', runs);
    nearMs(heard.durationMs, 6000 + gap.durationMs, 100, 'the whole recording (file + gap)', runs);
    // 300 -> 900 Hz over 6 s, 100 Hz a second: its frequency is its position. 0.2 s windows 0.12 s
    // before and after the gap hear the positions the loud runs say, so it went on where it paused.
    const end = heard.peaks(before.startMs + before.durationMs - 220, before.startMs + before.durationMs - 20, { count: 1 })[0]!;
    const start = heard.peaks(rest.startMs + 20, rest.startMs + 220, { count: 1 })[0]!;
    const hzAt = (ms: number): number => 300 + ms / 10;
    assert.ok(Math.abs(end - hzAt(before.durationMs - 120)) <= 10, `before the pause: ${end} Hz, expected ${hzAt(before.durationMs - 120)}`);
    assert.ok(Math.abs(start - hzAt(before.durationMs + 120)) <= 10, `after the pause: ${start} Hz, expected ${hzAt(before.durationMs + 120)}`);
    t.diagnostic(`heard: ${shape(runs)}; paused ${pausedMs} ms; chirp ${end} Hz -> ${start} Hz`);
  });

  it('pause and resume a ringtone: 1 s of tone, the pause, then the second of tone that was left', { skip }, async (t) => {
    assert.ok(rig);
    let pausedMs = 0;
    const heard = await heardDuring(rig, 'pause-tones', async (call) => {
      const action = await call.playRingtoneAsync({ name: 'us' });
      await untilState(action, 'playing');
      await sleep(1000);
      assert.equal((await action.pause()).successful, true);
      const pausedAt = Date.now();
      await sleep(1500);
      assert.equal((await action.resume()).successful, true);
      pausedMs = Date.now() - pausedAt;
      assert.equal((await action.done).successful, true);
    });
    const runs = heard.runs();
    assert.deepEqual(runs.map((r) => r.loud).slice(0, 4), [true, false, true, false], shape(runs));
    waited(runs[0]!.durationMs + runs[2]!.durationMs, 2000, 'tone heard in all', runs);
    waited(runs[1]!.durationMs, pausedMs, 'the gap vs the time paused', runs);
    waited(heard.durationMs, 6000 + pausedMs, 'the whole recording (cadence + pause)', runs);
    t.diagnostic(`heard: ${shape(runs)}; paused ${pausedMs} ms`);
  });

  it('stop() 2 s into a 6 s file, and 0.5 s into a 30 s ringtone: the far leg hears no more than that; aborting the signal stops too', { skip }, async (t) => {
    assert.ok(rig && media);
    const outcomes: unknown[] = [];
    const heard = await heardDuring(rig, 'stop', async (call) => {
      const file = await call.playAudioAsync(media!.url('/sine6.wav'));
      await untilState(file, 'playing');
      await sleep(2000);
      outcomes.push({ stop: (await file.stop()).successful, result: (await file.done).successful, state: file.state });
      await call.playSilence(1);
      const tones = await call.playRingtoneAsync({ name: 'de', duration: 30 });
      await untilState(tones, 'playing');
      await sleep(500);
      outcomes.push({ stop: (await tones.stop()).successful, result: (await tones.done).successful, state: tones.state });
      await call.playSilence(1);
      const aborted = await call.playAudio(media!.url('/sine6.wav'), { signal: AbortSignal.timeout(1500) });
      outcomes.push({ aborted: aborted.successful });
    });
    assert.deepEqual(outcomes, [
      { stop: true, result: false, state: 'finished' },
      { stop: true, result: false, state: 'finished' },
      { aborted: false },
    ]);
    const runs = heard.runs();
    assert.deepEqual(runs.map((r) => r.loud), [true, false, true, false, true], shape(runs));
    waited(runs[0]!.durationMs, 2000, 'the stopped file', runs);
    waited(runs[2]!.durationMs, 500, 'the stopped ringtone (no tone after the stop)', runs);
    nearMs(runs[3]!.durationMs, 1000, 100, 'the silence after the ringtone', runs);
    waited(runs[4]!.durationMs, 1500, 'the play aborted by its signal', runs);
    t.diagnostic(`heard: ${shape(runs)}`);
  });
});

describe('live: Relay play without AMI (the AGI-only subset)', () => {
  let rig: RelayRig | undefined;
  let media: MediaServer | undefined;
  before(async () => {
    if (!live.ok) return;
    media = await MediaServer.start(FILES);
    rig = await RelayRig.start({ ami: false });
  });
  after(async () => {
    await rig?.stop();
    await media?.stop();
  });

  it('play, volume +6 and stop work (STREAM FILE, interrupted); pause, resume and volume() throw RelayCapabilityError', { skip }, async (t) => {
    assert.ok(rig && media);
    const refusals: string[] = [];
    const outcomes: unknown[] = [];
    const heard = await heardDuring(rig, 'agi-only', async (call) => {
      outcomes.push((await call.playAudio(media!.url('/sine1.wav'))).successful);
      outcomes.push((await call.playAudio(media!.url('/sine1.wav'), { volume: 6 })).successful);
      await call.playSilence(1);
      const action = await call.playAudioAsync(media!.url('/sine6.wav'));
      await untilState(action, 'playing');
      for (const control of [() => action.pause(), () => action.resume(), () => action.volume(3)]) {
        await control().then(
          () => refusals.push('no error'),
          (error: unknown) => refusals.push(error instanceof RelayCapabilityError ? `${error.capability} ${error.method}` : String(error)),
        );
      }
      await sleep(2000);
      outcomes.push({ stop: (await action.stop()).successful, result: (await action.done).successful });
    });
    assert.deepEqual(refusals, ['ami PlayAction.pause', 'ami PlayAction.resume', 'ami PlayAction.volume']);
    assert.deepEqual(outcomes, [true, true, { stop: true, result: false }]);
    const runs = heard.runs();
    assert.deepEqual(runs.map((r) => r.loud), [true, false, true], shape(runs));
    const [tones, , stopped] = runs as [Run, Run, Run];
    nearMs(tones.durationMs, 2000, 100, 'two 1 s files back to back', runs);
    const ratio = heard.rmsBetween(tones.startMs + 1100, tones.startMs + 1900) / heard.rmsBetween(tones.startMs + 100, tones.startMs + 900);
    assert.ok(Math.abs(ratio - 2) <= 0.2, `+6 dB over AGI: ratio ${ratio}`);
    waited(stopped.durationMs, 2000, 'the stopped file', runs);
    t.diagnostic(`heard: ${shape(runs)}; +6 dB ratio ${ratio.toFixed(3)}`);
  });
});
