/**
 * Live: Relay prompts against a real Asterisk 22. The far leg presses real keys (SendDTMF) during
 * and after the media and records what it heard (MixMonitor on its side), so the tests check both
 * what the prompt collected and what the caller heard: media stopped by the first key, a ringtone
 * stopped with it, the prompt's volume, TTS played in full. Speech goes through a test-only
 * recognizer that checks the WAV it gets holds the far leg's speech. Skipped, with the reason, when
 * Docker or the image cannot be had.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { analyseLevels, decodeWav, encodeWav, type PcmAudio } from '../../src/media/audio.js';
import type { Call } from '../../src/relay/call.js';
import { RelayCapabilityError } from '../../src/relay/errors.js';
import type { PromptAction } from '../../src/relay/prompt.js';
import type { PromptResult } from '../../src/relay/results.js';
import type { SpeechRecognizer } from '../../src/relay/runtime.js';
import { SPEECH_SUBDIRECTORY } from '../../src/relay/speech-capture.js';
import { far, type FarStep } from '../../src/testing/asterisk.js';
import { MOUNT, RelayRig, live, signalFar, skip } from './relay-rig.js';

const SAMPLE_RATE = 8000;
/** Level above which a 20 ms frame holds sound (Asterisk's silence threshold). */
const LOUD = 256;

/** An 8 kHz 16-bit WAV of a steady 440 Hz tone: a signal whose level is easy to compare. */
function toneWav(seconds: number, amplitude = 6000): Buffer {
  const samples = new Int16Array(Math.round(seconds * SAMPLE_RATE));
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(amplitude * Math.sin((2 * Math.PI * 440 * i) / SAMPLE_RATE));
  return encodeWav({ sampleRate: SAMPLE_RATE, samples }, 'pcm16');
}

/** Writes a tone file into the rig's media directory; returns its local path (what promptAudio takes). */
function tone(rig: RelayRig, name: string, seconds: number): string {
  const file = path.join(rig.dir, `${name}.wav`);
  if (!existsSync(file)) writeFileSync(file, toneWav(seconds));
  return file;
}

/** Far-leg step: record, in the background, everything the far leg receives from the call. */
function listenAs(name: string): FarStep {
  return far.app('MixMonitor', `${MOUNT}/${name}-mix.wav,r(${MOUNT}/${name}.wav)`);
}

/** What the far leg heard (see {@link listenAs}); waits, bounded, for MixMonitor to close the file. */
async function heard(rig: RelayRig, name: string): Promise<PcmAudio> {
  const file = path.join(rig.dir, `${name}.wav`);
  let size = -1;
  for (let waited = 0; ; waited += 100) {
    const now = existsSync(file) ? statSync(file).size : -1;
    if (now >= 44 && now === size) break;
    if (waited > 5000) throw new Error(`the far leg's recording ${name}.wav did not appear (or kept growing) within 5 s`);
    size = now;
    await sleep(100);
  }
  return decodeWav(readFileSync(file));
}

/** RMS of each 20 ms frame. */
function frameLevels(audio: PcmAudio): number[] {
  const frame = SAMPLE_RATE / 50;
  const levels: number[] = [];
  for (let start = 0; start + frame <= audio.samples.length; start += frame) {
    let sum = 0;
    for (let i = start; i < start + frame; i++) sum += (audio.samples[i] as number) ** 2;
    levels.push(Math.sqrt(sum / frame));
  }
  return levels;
}

/** Stretches of sound separated by at least 300 ms of silence: start and end (ms) and mean level. */
function bursts(audio: PcmAudio): Array<{ startMs: number; endMs: number; rms: number }> {
  const out: Array<{ startMs: number; endMs: number; sum: number; n: number }> = [];
  frameLevels(audio).forEach((level, i) => {
    if (level < LOUD) return;
    const current = out[out.length - 1];
    if (current && i * 20 - current.endMs < 300) {
      current.endMs = (i + 1) * 20;
      current.sum += level;
      current.n += 1;
    } else out.push({ startMs: i * 20, endMs: (i + 1) * 20, sum: level, n: 1 });
  });
  return out.map(({ startMs, endMs, sum, n }) => ({ startMs, endMs, rms: sum / n }));
}

/** The mean of some levels. */
const mean = (list: number[]): number => list.reduce((a, b) => a + b, 0) / Math.max(1, list.length);

/** How long the far leg heard sound, in ms. */
const loudMs = (audio: PcmAudio): number => analyseLevels(audio).audioMs;

/**
 * Places a call that raises the far-leg signal `go` and runs `prompt` on it: resolves with the
 * prompt's result and how long it took (the far leg's steps usually start with `far.waitFor('go')`).
 */
async function runPrompt(rig: RelayRig, prompt: (call: Call) => Promise<PromptResult>, farSteps: FarStep[] = []): Promise<{ result: PromptResult; tookMs: number }> {
  let outcome: { result: PromptResult; tookMs: number } | undefined;
  await rig.run(
    async (call) => {
      await signalFar(call, 'go');
      const started = Date.now();
      const result = await prompt(call);
      outcome = { result, tookMs: Date.now() - started };
    },
    { far: farSteps },
  );
  assert.ok(outcome, 'the prompt ran');
  return outcome;
}

/** The seed's fields of a result. */
function fields(result: PromptResult | undefined): Omit<PromptResult, 'event'> | undefined {
  if (!result) return undefined;
  const { successful, type, result: value, terminator, confidence } = result;
  return { successful, type, result: value, terminator, confidence };
}

/**
 * A recognizer for tests only (no engine ships): checks it got the caller's speech and answers a
 * fixed text, or nothing when the hints ask for that. Tests find their calls by a hint of their own.
 */
class CheckingRecognizer implements SpeechRecognizer {
  readonly calls: Array<{ file: string; durationMs: number; audioMs: number; language: string; hints: string[] }> = [];

  async recognize(file: string, options: { readonly language: string; readonly hints: readonly string[] }): Promise<{ text: string; confidence: number } | null> {
    const levels = analyseLevels(decodeWav(readFileSync(file)));
    this.calls.push({ file, durationMs: levels.durationMs, audioMs: levels.audioMs, language: options.language, hints: [...options.hints] });
    if (!levels.audioDetected) throw new Error(`the recognizer got a silent recording (${levels.durationMs} ms)`);
    return options.hints.includes(NO_MATCH) ? null : { text: 'hello world', confidence: 0.9 };
  }

  /** The calls made for prompts with this hint. */
  callsFor(hint: string): CheckingRecognizer['calls'] {
    return this.calls.filter((call) => call.hints.includes(hint));
  }
}

/** The far leg speaking after the media: two seconds of silence, then `hello-world`, then silence. */
const SPEAKING: FarStep[] = [far.waitFor('go'), far.silence(2), far.playback('hello-world'), far.silence(3)];

/** The hint that makes {@link CheckingRecognizer} recognise nothing. */
const NO_MATCH = 'test:no-match';

describe('live: Relay prompt', { concurrency: 4 }, () => {
  let rig: RelayRig | undefined;
  const recognizer = new CheckingRecognizer();
  before(async () => {
    if (live.ok) rig = await RelayRig.start({ connection: { speech: recognizer } });
  });
  after(async () => {
    try {
      if (rig) assert.deepEqual(readdirSync(path.join(rig.dir, SPEECH_SUBDIRECTORY)), [], 'no speech recording is left behind');
    } finally {
      await rig?.stop();
    }
  });

  it("the far leg presses 1 2 # during the media: result 12, terminator #; the action's state, payload and the prompt event", { skip }, async () => {
    assert.ok(rig);
    const media = tone(rig, 'tone8', 8);
    let result: PromptResult | undefined;
    let seen: Record<string, unknown> = {};
    await rig.run(
      async (call) => {
        const events: unknown[] = [];
        call.on('prompt', (action) => events.push(action));
        await signalFar(call, 'go');
        const action = await call.promptAudioAsync({ promptType: 'digits', url: media, digitsMax: 5, digitsTerminators: '#', digitsTimeout: 3 });
        const running = { state: action.state, completed: action.completed, result: action.result };
        result = await action.done;
        seen = {
          running,
          state: action.state,
          completed: action.completed,
          same: action.result === result,
          events: events.length,
          eventAction: events[0] === action,
          controlId: /^[0-9a-f-]{36}$/.test(action.controlId),
          payload: { promptType: action.payload['promptType'], digitsMax: action.payload['digitsMax'], mediaList: action.payload['mediaList'] },
        };
      },
      { far: [far.waitFor('go'), far.wait(1), far.dtmf('12#')] },
    );
    assert.deepEqual(fields(result), { successful: true, type: 'digit', result: '12', terminator: '#', confidence: null });
    assert.deepEqual(seen, {
      running: { state: 'prompting', completed: false, result: undefined },
      state: 'successful',
      completed: true,
      same: true,
      events: 1,
      eventAction: true,
      controlId: true,
      payload: { promptType: 'digits', digitsMax: 5, mediaList: [{ type: 'audio', url: media }] },
    });
    assert.equal(result?.event?.name, 'agi.reply');
  });

  it('the first key barges in: the far leg hears the 8 s media only until it presses 1, and the 1 is the first digit', { skip }, async () => {
    assert.ok(rig);
    const media = tone(rig, 'tone8', 8);
    const { result, tookMs } = await runPrompt(rig, (call) => call.promptAudio({ promptType: 'digits', url: media, digitsMax: 5, digitsTerminators: '#', digitsTimeout: 3 }), [
      listenAs('barge'),
      far.waitFor('go'),
      far.wait(1.5),
      far.dtmf('1'),
      far.wait(1),
      far.dtmf('2#'),
    ]);
    assert.deepEqual(fields(result), { successful: true, type: 'digit', result: '12', terminator: '#', confidence: null });
    const audio = await heard(rig, 'barge');
    const sound = loudMs(audio);
    assert.ok(sound > 1000 && sound < 2600, `the media played until the key at about 1.5 s, not its 8 s: heard ${sound} ms of sound`);
    assert.ok(tookMs < 5000, `the prompt ended with the keys, not after the media: ${tookMs} ms`);
  });

  it('digitsMax reached: 12345 with digitsMax 3 gives 123 and no terminator', { skip }, async () => {
    assert.ok(rig);
    const { result } = await runPrompt(rig, (call) => call.promptAudio({ promptType: 'digits', url: tone(rig!, 'tone1', 1), digitsMax: 3, digitsTerminators: '#', digitsTimeout: 3 }), [
      far.waitFor('go'),
      far.dtmf('12345'),
    ]);
    assert.deepEqual(fields(result), { successful: true, type: 'digit', result: '123', terminator: null, confidence: null });
  });

  it('initialTimeout: no key at all ends the prompt no_input about initialTimeout after the media', { skip }, async () => {
    assert.ok(rig);
    const { result, tookMs } = await runPrompt(rig, (call) => call.promptAudio({ promptType: 'digits', url: tone(rig!, 'tone1', 1), digitsMax: 4, initialTimeout: 2 }));
    assert.deepEqual(fields(result), { successful: false, type: 'no_input', result: null, terminator: null, confidence: null });
    assert.ok(tookMs >= 2900 && tookMs < 4500, `1 s of media, then 2 s for the first key: took ${tookMs} ms`);
  });

  it('digitsTimeout: a pause longer than it after a key ends the prompt with the digits so far; a longer digitsTimeout waits for the next key', { skip }, async () => {
    assert.ok(rig);
    const results: PromptResult[] = [];
    for (const digitsTimeout of [1, 4]) {
      const { result } = await runPrompt(rig, (call) => call.promptAudio({ promptType: 'digits', url: tone(rig!, 'tone1', 1), digitsMax: 4, digitsTerminators: '#', digitsTimeout }), [
        far.waitFor('go'),
        far.wait(1.5),
        far.dtmf('1'),
        far.wait(2.5),
        far.dtmf('2#'),
      ]);
      results.push(result);
    }
    assert.deepEqual(fields(results[0]), { successful: true, type: 'digit', result: '1', terminator: null, confidence: null }, 'digitsTimeout 1 s: ended before the 2');
    assert.deepEqual(fields(results[1]), { successful: true, type: 'digit', result: '12', terminator: '#', confidence: null }, 'digitsTimeout 4 s: the 2 came in time');
  });

  it('promptRingtone: the far leg hears the us ring until it presses 5, which is the result; the tone stops with the key', { skip }, async () => {
    assert.ok(rig);
    const { result } = await runPrompt(
      rig,
      async (call) => {
        const prompted = await call.promptRingtone({ promptType: 'digits', name: 'us', duration: 10, digitsMax: 1 });
        // Two more seconds on the line: a tone that was not stopped would still be heard.
        await call.agi?.exec('Wait', '2');
        return prompted;
      },
      [listenAs('ring'), far.waitFor('go'), far.wait(1.2), far.dtmf('5')],
    );
    assert.deepEqual(fields(result), { successful: true, type: 'digit', result: '5', terminator: null, confidence: null });
    const audio = await heard(rig, 'ring');
    const sound = loudMs(audio);
    assert.ok(sound > 800 && sound < 2000, `the ring (2 s on) was heard until the key at about 1.2 s, then stopped: ${sound} ms of sound`);
  });

  it('promptTTS: the far leg hears the whole synthesized text (its length within 10 %), then presses 7', { skip }, async () => {
    assert.ok(rig);
    const text = 'Please enter the number of your choice';
    const { result } = await runPrompt(rig, (call) => call.promptTTS({ promptType: 'digits', text, digitsMax: 1, initialTimeout: 6 }), [
      listenAs('tts'),
      far.waitFor('go'),
      far.wait(4),
      far.dtmf('7'),
    ]);
    assert.deepEqual(fields(result), { successful: true, type: 'digit', result: '7', terminator: null, confidence: null });
    const speech = await rig.media.tts?.synthesize(text, { language: 'en' });
    assert.ok(speech);
    const original = decodeWav(readFileSync(`${speech.file.replace(MOUNT, rig.dir)}.wav`));
    const span = (audio: PcmAudio): number => {
      const found = bursts(audio);
      return (found[found.length - 1]?.endMs ?? 0) - (found[0]?.startMs ?? 0);
    };
    const expected = span(original);
    const got = span(await heard(rig, 'tts'));
    assert.ok(expected > 1000, `the synthesized text lasts ${expected} ms`);
    assert.ok(Math.abs(got - expected) <= expected * 0.1, `heard ${got} ms of speech, synthesized ${expected} ms`);
  });

  it('stop() of a promptAsync: during the media (type stopped, the media ends at once) and during the digits (the digits so far)', { skip }, async () => {
    assert.ok(rig);
    const media = tone(rig, 'tone8', 8);
    const seen: Array<Record<string, unknown>> = [];
    const run = async (name: string, far_: FarStep[], afterMs: number): Promise<void> => {
      await rig!.run(
        async (call) => {
          await signalFar(call, 'go');
          const action: PromptAction = await call.promptAudioAsync({ promptType: 'digits', url: media, digitsMax: 5, digitsTimeout: 5 });
          await sleep(afterMs);
          const stoppedAt = Date.now();
          const stop = await action.stop();
          seen.push({ name, stop: stop.successful, stopMs: Date.now() - stoppedAt, state: action.state, result: fields(action.result) });
        },
        { far: [listenAs(name), far.waitFor('go'), ...far_] },
      );
    };
    await run('stop-media', [], 1500);
    await run('stop-digits', [far.wait(0.5), far.dtmf('4')], 2500);
    for (const entry of seen) assert.ok((entry['stopMs'] as number) < 1000, `stop() took ${String(entry['stopMs'])} ms`);
    assert.deepEqual(
      seen.map(({ stopMs: _, ...rest }) => rest),
      [
        { name: 'stop-media', stop: true, state: 'stopped', result: { successful: false, type: 'stopped', result: null, terminator: null, confidence: null } },
        { name: 'stop-digits', stop: true, state: 'stopped', result: { successful: false, type: 'stopped', result: '4', terminator: null, confidence: null } },
      ],
    );
    const sound = loudMs(await heard(rig, 'stop-media'));
    assert.ok(sound > 1000 && sound < 2500, `the media stopped with stop() at 1.5 s, not after 8 s: ${sound} ms of sound`);
  });

  it('the far leg hangs up during the media: the prompt resolves unsuccessful with type hangup', { skip }, async () => {
    assert.ok(rig);
    const { result } = await runPrompt(rig, (call) => call.promptAudio({ promptType: 'digits', url: tone(rig!, 'tone8', 8), digitsMax: 4 }), [
      far.waitFor('go'),
      far.wait(1),
      far.hangup(),
    ]);
    assert.deepEqual(fields(result), { successful: false, type: 'hangup', result: null, terminator: null, confidence: null });
  });

  it('volume: +6 dB makes the media about twice as loud, and the channel is back to normal after the prompt', { skip }, async () => {
    assert.ok(rig);
    const media = tone(rig, 'tone1', 1);
    await rig.run(
      async (call) => {
        await call.promptAudio({ promptType: 'digits', url: media, digitsMax: 1, initialTimeout: 1, volume: 6 });
        await call.agi?.streamFile(media.replace(rig!.dir, MOUNT).replace(/\.wav$/, ''));
      },
      { far: [listenAs('volume')] },
    );
    // No frames cross the Local channel while the prompt waits for a key: the two plays are adjacent in the recording.
    const levels = frameLevels(await heard(rig, 'volume')).filter((level) => level >= LOUD);
    assert.ok(levels.length > 90 && levels.length < 110, `1 s of tone twice: ${levels.length * 20} ms`);
    const ratio = mean(levels.slice(0, 40)) / mean(levels.slice(-40));
    assert.ok(ratio > 1.7 && ratio < 2.3, `+6 dB is a factor of 2 in level: ${ratio.toFixed(2)}`);
  });

  it('PromptAction.volume(+6) over AMI while the media plays: the rest of it is about twice as loud', { skip }, async () => {
    assert.ok(rig);
    const media = tone(rig, 'tone4', 4);
    let change: unknown;
    await rig.run(
      async (call) => {
        const action = await call.promptAudioAsync({ promptType: 'digits', url: media, digitsMax: 1, initialTimeout: 1 });
        await sleep(1500);
        change = await action.volume(6);
        await action.done;
      },
      { far: [listenAs('volume-live')] },
    );
    assert.deepEqual(change, { successful: true });
    const levels = frameLevels(await heard(rig, 'volume-live')).filter((level) => level >= LOUD);
    const early = mean(levels.slice(0, 40));
    const late = mean(levels.slice(-40));
    assert.ok(levels.length > 150, `about 4 s of tone: ${levels.length * 20} ms`);
    assert.ok(late / early > 1.7 && late / early < 2.3, `the last 0.8 s is +6 dB over the first: ${(late / early).toFixed(2)}`);
  });

  it('speech: the recognizer gets a WAV holding the far leg speaking after the media, and its text is the result', { skip }, async () => {
    assert.ok(rig);
    const { result } = await runPrompt(
      rig,
      (call) => call.promptAudio({ promptType: 'speech', url: tone(rig!, 'tone1', 1), speechLanguage: 'en-GB', speechHints: ['hello world', 'test:speech'] }),
      SPEAKING,
    );
    assert.deepEqual(fields(result), { successful: true, type: 'speech', result: 'hello world', terminator: null, confidence: 0.9 });
    assert.equal(result?.event?.name, 'speech.recognized');
    const got = recognizer.callsFor('test:speech');
    assert.equal(got.length, 1);
    assert.deepEqual({ language: got[0]?.language, hints: got[0]?.hints }, { language: 'en-GB', hints: ['hello world', 'test:speech'] });
    assert.ok((got[0]?.audioMs ?? 0) > 600, `the WAV holds the far leg's speech: ${got[0]?.audioMs} ms of sound in ${got[0]?.durationMs} ms`);
    assert.ok(!existsSync(got[0]?.file ?? ''), 'the WAV is removed once recognised');
  });

  it('speech: silence until initialTimeout is no_input (the recognizer is not asked); a text the recognizer does not make out is no_match', { skip }, async () => {
    assert.ok(rig);
    const { result: silent, tookMs } = await runPrompt(rig, (call) => call.promptAudio({ promptType: 'speech', url: tone(rig!, 'tone1', 1), initialTimeout: 2, speechHints: ['test:silence'] }), [
      far.silence(8),
    ]);
    assert.deepEqual(fields(silent), { successful: false, type: 'no_input', result: null, terminator: null, confidence: null });
    assert.equal(recognizer.callsFor('test:silence').length, 0, 'nothing to recognise');
    assert.ok(tookMs >= 2900 && tookMs < 5000, `1 s media, then about 2 s of silence: ${tookMs} ms`);

    const { result: unmatched } = await runPrompt(rig, (call) => call.promptAudio({ promptType: 'speech', url: tone(rig!, 'tone1', 1), speechHints: [NO_MATCH] }), SPEAKING);
    assert.deepEqual(fields(unmatched), { successful: false, type: 'no_match', result: null, terminator: null, confidence: null });
    assert.equal(recognizer.callsFor(NO_MATCH).length, 1, 'the recognizer heard it and made nothing of it');
  });

  it('both: a key while the prompt listens for speech switches to digits (42#)', { skip }, async () => {
    assert.ok(rig);
    const { result } = await runPrompt(
      rig,
      (call) => call.promptAudio({ promptType: 'both', url: tone(rig!, 'tone1', 1), digitsMax: 4, digitsTerminators: '#', digitsTimeout: 3, speechHints: ['test:both'] }),
      [far.waitFor('go'), far.silence(2), far.dtmf('42#')],
    );
    assert.deepEqual(fields(result), { successful: true, type: 'digit', result: '42', terminator: '#', confidence: null });
    assert.equal(recognizer.callsFor('test:both').length, 0, 'no speech to recognise');
  });

  it('stop() of a speech prompt while it records: AMI ends RECORD FILE at once', { skip }, async () => {
    assert.ok(rig);
    let seen: Record<string, unknown> = {};
    await rig.run(
      async (call) => {
        const action = await call.promptAudioAsync({ promptType: 'speech', url: tone(rig!, 'tone1', 1), initialTimeout: 20 });
        await sleep(2500);
        const stoppedAt = Date.now();
        const stop = await action.stop();
        seen = { stop: stop.successful, fast: Date.now() - stoppedAt < 1500, result: fields(action.result) };
      },
      { far: [far.silence(10)] },
    );
    assert.deepEqual(seen, { stop: true, fast: true, result: { successful: false, type: 'stopped', result: null, terminator: null, confidence: null } });
  });
});

describe('live: Relay prompt without AMI (the AGI-only subset)', () => {
  let rig: RelayRig | undefined;
  before(async () => {
    if (live.ok) rig = await RelayRig.start({ ami: false });
  });
  after(async () => {
    await rig?.stop();
  });

  it('digits (1 2 #) and stop() work without AMI; PromptAction.volume throws RelayCapabilityError (ami)', { skip }, async () => {
    assert.ok(rig);
    const media = tone(rig, 'tone8', 8);
    let result: PromptResult | undefined;
    let volumeError: unknown;
    let stopped: Record<string, unknown> = {};
    await rig.run(
      async (call) => {
        await signalFar(call, 'go');
        const action = await call.promptAudioAsync({ promptType: 'digits', url: media, digitsMax: 5, digitsTerminators: '#', digitsTimeout: 3 });
        volumeError = await action.volume(6).catch((error: unknown) => error);
        result = await action.done;
        const second = await call.promptAudioAsync({ promptType: 'digits', url: media, digitsMax: 5 });
        await sleep(1000);
        const stop = await second.stop();
        stopped = { stop: stop.successful, type: second.result?.type };
      },
      { far: [far.waitFor('go'), far.wait(1), far.dtmf('12#')] },
    );
    assert.deepEqual(fields(result), { successful: true, type: 'digit', result: '12', terminator: '#', confidence: null });
    assert.ok(volumeError instanceof RelayCapabilityError, String(volumeError));
    assert.equal(volumeError.capability, 'ami');
    assert.equal(volumeError.method, 'PromptAction.volume');
    assert.deepEqual(stopped, { stop: true, type: 'stopped' });
  });

  it('a speech prompt without a recognizer fails with RelayCapabilityError (speech-recognizer) before anything plays', { skip }, async () => {
    assert.ok(rig);
    const media = tone(rig, 'tone1', 1);
    let error: unknown;
    await rig.run(
      async (call) => {
        error = await call.promptAudio({ promptType: 'speech', url: media }).catch((e: unknown) => e);
        await call.agi?.exec('Wait', '1');
      },
      { far: [listenAs('no-recognizer')] },
    );
    assert.ok(error instanceof RelayCapabilityError, String(error));
    assert.equal(error.capability, 'speech-recognizer');
    assert.match(error.message, /promptAudio needs a speech recognizer \(RelayOptions\.speech\)/);
    assert.equal(loudMs(await heard(rig, 'no-recognizer')), 0, 'nothing was played');
  });
});
