/**
 * Relay prompts on a scripted fake Asterisk: the exact AGI commands of each step (STREAM FILE with
 * every key, the WAIT FOR DIGIT timeouts, PlayTones/StopPlayTones, VOLUME(TX) set and reset,
 * RECORD FILE segments), how results map, and what stopping needs: a speech prompt's stop() needs
 * AMI (PlayDTMF of the stop key), its signal still ends it after the recording. Capability and
 * argument errors come before any command.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AmiClient } from '../../src/ami/client.js';
import { encodeWav } from '../../src/media/audio.js';
import type { MediaOptions } from '../../src/media/options.js';
import { Call } from '../../src/relay/call.js';
import { CallBusyError, RelayArgumentError, RelayCapabilityError } from '../../src/relay/errors.js';
import type { PromptResult } from '../../src/relay/results.js';
import { RelayRuntime, type RelayOptions, type SpeechRecognizer } from '../../src/relay/runtime.js';
import { SPEECH_SUBDIRECTORY } from '../../src/relay/speech-capture.js';
import type { FakeCall, ReceivedCommand } from '../../src/testing/fake-asterisk.js';
import { isStatusWrite, startTestServer, type TestServer } from '../support/fake-server.js';

const KEYS = '0123456789*#ABCD';

/** An 8 kHz WAV: a tone (speech stands in) or silence. */
function wav(seconds: number, amplitude: number): Buffer {
  const samples = new Int16Array(Math.round(seconds * 8000));
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(amplitude * Math.sin((2 * Math.PI * 300 * i) / 8000));
  return encodeWav({ sampleRate: 8000, samples }, 'pcm16');
}

/** The fields of a result besides its event. */
function fields(result: PromptResult | undefined): Omit<PromptResult, 'event'> | undefined {
  if (!result) return undefined;
  const { event: _, ...rest } = result;
  return rest;
}

/** A recognizer that records what it was given. */
class ScriptedRecognizer implements SpeechRecognizer {
  answer: () => Promise<{ text: string; confidence: number } | null> = async () => ({ text: 'yes', confidence: 0.8 });
  readonly files: string[] = [];
  async recognize(file: string): Promise<{ text: string; confidence: number } | null> {
    this.files.push(file);
    return this.answer();
  }
}

/** Just enough of an AMI client: records PlayDTMF and Setvar. */
function fakeAmi(): { ami: AmiClient; sent: string[] } {
  const sent: string[] = [];
  const ami = {
    action: async (name: string, fields: Record<string, unknown>) => {
      sent.push(`${name} ${JSON.stringify(fields)}`);
      return {};
    },
    playDtmf: async (channel: string, digit: string, options: { receive?: boolean }) => {
      sent.push(`PlayDTMF ${channel} ${digit} receive=${String(options.receive)}`);
    },
    channel: (id: string) => ({ id, active: true, unsubscribe: () => undefined }),
  };
  return { ami: ami as unknown as AmiClient, sent };
}

describe('Relay prompt (fake Asterisk)', () => {
  let t: TestServer;
  let dir: string;
  let media: MediaOptions;

  before(async () => {
    dir = mkdtempSync('/tmp/agikit-prompt-unit-');
    media = { directory: { local: dir, asterisk: '/media' } };
    t = await startTestServer();
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Places a fake call whose Relay Call runs `script`; the status write at the end is answered. */
  async function place(options: RelayOptions, script: (call: Call) => Promise<void>): Promise<{ fake: FakeCall; done: Promise<void> }> {
    let finished!: (error?: unknown) => void;
    const done = new Promise<void>((resolve, reject) => {
      finished = (error) => (error === undefined ? resolve() : reject(error));
    });
    const runtime = new RelayRuntime({ media, ...options });
    const placed = await t.call(async (agi) => {
      const call = new Call(runtime, { id: agi.env.uniqueid, context: 'unit', fromNumber: '', toNumber: '', channel: agi.env.channel });
      call.attach(agi);
      try {
        await script(call);
        finished();
      } catch (error) {
        finished(error);
      }
    });
    placed.fake.respond((command) => (isStatusWrite(command.words) ? '200 result=1' : undefined));
    return { fake: placed.fake, done };
  }

  /** The next command, checked against a pattern of its words joined by spaces. */
  async function expect(fake: FakeCall, pattern: RegExp): Promise<ReceivedCommand> {
    const command = await fake.nextCommand();
    assert.match(command.words.join(' '), pattern);
    return command;
  }

  it('digits: every key stops the media and is the first digit; digitsTimeout between keys; the terminator ends it', async () => {
    let result: PromptResult | undefined;
    const { fake, done } = await place({}, async (call) => {
      result = await call.promptAudio({ promptType: 'digits', url: 'welcome', digitsMax: 5, digitsTerminators: '#', digitsTimeout: 3 });
    });
    await fake.expectCommand('STREAM FILE', 'welcome', KEYS);
    fake.reply('200 result=49 endpos=1234');
    await fake.expectCommand('WAIT FOR DIGIT', '3000');
    fake.reply('200 result=50');
    await fake.expectCommand('WAIT FOR DIGIT', '3000');
    fake.reply('200 result=35');
    await done;
    assert.deepEqual(fields(result), { successful: true, type: 'digit', result: '12', terminator: '#', confidence: null });
    assert.deepEqual(result?.event, { name: 'agi.reply', payload: { command: 'WAIT FOR DIGIT', timeoutMs: 3000, digit: '#' } });
  });

  it('digits: the media played to its end, then initialTimeout for the first key: none is no_input', async () => {
    let result: PromptResult | undefined;
    const { fake, done } = await place({}, async (call) => {
      result = await call.prompt({ promptType: 'digits', mediaList: [{ type: 'audio', url: 'one' }, { type: 'audio', url: 'two' }], digitsMax: 2, initialTimeout: 2.5 });
    });
    await fake.expectCommand('STREAM FILE', 'one', KEYS);
    fake.reply('200 result=0 endpos=8000');
    await fake.expectCommand('STREAM FILE', 'two', KEYS);
    fake.reply('200 result=0 endpos=8000');
    await fake.expectCommand('WAIT FOR DIGIT', '2500');
    fake.reply('200 result=0');
    await done;
    assert.deepEqual(fields(result), { successful: false, type: 'no_input', result: null, terminator: null, confidence: null });
  });

  it('a ringtone: PlayTones, WAIT FOR DIGIT for its duration, StopPlayTones; a key during it counts', async () => {
    let result: PromptResult | undefined;
    const { fake, done } = await place({}, async (call) => {
      result = await call.promptRingtone({ promptType: 'digits', name: 'uk', duration: 1.5, digitsMax: 1 });
    });
    await fake.expectCommand('EXEC', 'PlayTones', '400+450/400,0/200,400+450/400,0/2000');
    fake.reply('200 result=0');
    const wait = await expect(fake, /^WAIT FOR DIGIT \d+$/);
    const ms = Number(wait.words[3]);
    assert.ok(ms > 1400 && ms <= 1500, `waits out the ringtone's 1.5 s: ${ms}`);
    fake.reply('200 result=53');
    await fake.expectCommand('EXEC', 'StopPlayTones');
    fake.reply('200 result=0');
    await done;
    assert.deepEqual(fields(result), { successful: true, type: 'digit', result: '5', terminator: null, confidence: null });
  });

  it('volume: VOLUME(TX) is set to 10^(dB/20) for the media and reset to 0 (no adjustment) after it', async () => {
    const { fake, done } = await place({}, async (call) => {
      await call.promptAudio({ promptType: 'digits', url: 'welcome', digitsMax: 1, volume: 6 });
    });
    await fake.expectCommand('SET VARIABLE', 'VOLUME(TX)', '1.9953');
    fake.reply('200 result=1');
    await fake.expectCommand('STREAM FILE', 'welcome', KEYS);
    fake.reply('200 result=55 endpos=100');
    await fake.expectCommand('SET VARIABLE', 'VOLUME(TX)', '0');
    fake.reply('200 result=1');
    await done;
  });

  it('a hangup during the media ends it with type hangup', async () => {
    let result: PromptResult | undefined;
    const { fake, done } = await place({}, async (call) => {
      result = await call.promptAudio({ promptType: 'digits', url: 'welcome', digitsMax: 1 });
    });
    fake.respond((command) => {
      const line = command.words.join(' ');
      if (line.startsWith('STREAM FILE')) return ['HANGUP', '200 result=-1 endpos=0'];
      return line.startsWith('GET VARIABLE HANGUPCAUSE') ? '200 result=1 (16)' : '511 Command Not Permitted on a dead channel or intercept routine';
    });
    await done;
    assert.deepEqual(fields(result), { successful: false, type: 'hangup', result: null, terminator: null, confidence: null });
  });

  it('speech: a silent RECORD FILE segment is dropped and the next one waits out the rest of initialTimeout; speech goes to the recognizer', async () => {
    const recognizer = new ScriptedRecognizer();
    let result: PromptResult | undefined;
    const { fake, done } = await place({ speech: recognizer }, async (call) => {
      result = await call.promptAudio({ promptType: 'speech', url: 'welcome', initialTimeout: 5, endSilenceTimeout: 2 });
    });
    await fake.expectCommand('STREAM FILE', 'welcome', '');
    fake.reply('200 result=0 endpos=100');
    const first = await expect(fake, /^RECORD FILE \/media\/\.agikit-speech\/[0-9a-f-]+-1 wav {2}\d+ s=2$/);
    const firstLimit = Number(first.words[5]);
    assert.ok(firstLimit > 4800 && firstLimit <= 5000, `the first segment may last initialTimeout: ${firstLimit}`);
    writeFileSync(path.join(dir, `${first.words[2]?.slice('/media/'.length)}.wav`), wav(2, 20));
    fake.reply('200 result=0 (timeout) endpos=16000');
    const second = await expect(fake, /^RECORD FILE \/media\/\.agikit-speech\/[0-9a-f-]+-2 wav {2}\d+ s=2$/);
    assert.ok(Number(second.words[5]) < firstLimit, 'the second segment only has what is left of initialTimeout');
    writeFileSync(path.join(dir, `${second.words[2]?.slice('/media/'.length)}.wav`), wav(1.5, 8000));
    fake.reply('200 result=0 (timeout) endpos=12000');
    await done;
    assert.deepEqual(fields(result), { successful: true, type: 'speech', result: 'yes', terminator: null, confidence: 0.8 });
    assert.equal(recognizer.files.length, 1);
    assert.deepEqual(readdirSync(path.join(dir, SPEECH_SUBDIRECTORY)), [], 'segments and the joined WAV are removed');
  });

  it("both: a key during RECORD FILE is the first digit; the recognizer's null is no_match, its error is error", async () => {
    const recognizer = new ScriptedRecognizer();
    const results: PromptResult[] = [];
    const { fake, done } = await place({ speech: recognizer }, async (call) => {
      results.push(await call.promptAudio({ promptType: 'both', url: 'welcome', digitsMax: 3, digitsTerminators: '#' }));
      recognizer.answer = async () => null;
      results.push(await call.promptAudio({ promptType: 'speech', url: 'welcome' }));
      recognizer.answer = async () => {
        throw new Error('engine down');
      };
      results.push(await call.promptAudio({ promptType: 'speech', url: 'welcome' }));
    });
    await fake.expectCommand('STREAM FILE', 'welcome', KEYS);
    fake.reply('200 result=0 endpos=100');
    await expect(fake, new RegExp(`^RECORD FILE \\S+ wav ${KEYS.replace('*', '\\*')} \\d+ s=1$`));
    fake.reply('200 result=52 (dtmf) endpos=800');
    await fake.expectCommand('WAIT FOR DIGIT', '1000');
    fake.reply('200 result=35');
    for (let i = 0; i < 2; i++) {
      await fake.expectCommand('STREAM FILE', 'welcome', '');
      fake.reply('200 result=0 endpos=100');
      const record = await expect(fake, /^RECORD FILE \S+ wav {2}\d+ s=1$/);
      writeFileSync(path.join(dir, `${record.words[2]?.slice('/media/'.length)}.wav`), wav(1, 8000));
      fake.reply('200 result=0 (timeout) endpos=8000');
    }
    await done;
    assert.deepEqual(
      results.map((r) => [r.type, r.result, r.terminator]),
      [
        ['digit', '4', '#'],
        ['no_match', null, null],
        ['error', null, null],
      ],
    );
  });

  it('a speech prompt on a call without AMI: stop() throws RelayCapabilityError while it records; its signal ends it after the recording', async () => {
    const recognizer = new ScriptedRecognizer();
    let stopError: unknown;
    let result: PromptResult | undefined;
    const controller = new AbortController();
    let recording!: () => void;
    const recordingNow = new Promise<void>((resolve) => (recording = resolve));
    const { fake, done } = await place({ speech: recognizer }, async (call) => {
      const action = await call.promptAudioAsync({ promptType: 'speech', url: 'welcome' }, { signal: controller.signal });
      await recordingNow;
      stopError = await action.stop().catch((error: unknown) => error);
      controller.abort();
      result = await action.done;
    });
    await fake.expectCommand('STREAM FILE', 'welcome', '');
    fake.reply('200 result=0 endpos=100');
    const record = await expect(fake, /^RECORD FILE \S+ wav {2}\d+ s=1$/);
    recording();
    await new Promise((resolve) => setTimeout(resolve, 50));
    writeFileSync(path.join(dir, `${record.words[2]?.slice('/media/'.length)}.wav`), wav(1, 8000));
    fake.reply('200 result=0 (timeout) endpos=8000');
    await done;
    assert.ok(stopError instanceof RelayCapabilityError && stopError.capability === 'ami' && stopError.method === 'PromptAction.stop', String(stopError));
    assert.equal(result?.type, 'stopped');
    assert.equal(recognizer.files.length, 0, 'a stopped prompt does not recognise');
  });

  it('with AMI, stop() of a recording speech prompt has Asterisk receive the stop key (PlayDTMF D); PromptAction.volume is Setvar', async () => {
    const { ami, sent } = fakeAmi();
    let result: PromptResult | undefined;
    let stop: unknown;
    let recording!: () => void;
    const recordingNow = new Promise<void>((resolve) => (recording = resolve));
    const { fake, done } = await place({ speech: new ScriptedRecognizer(), ami }, async (call) => {
      const action = await call.promptAudioAsync({ promptType: 'speech', url: 'welcome' });
      await recordingNow;
      const stopping = action.stop();
      await new Promise((resolve) => setTimeout(resolve, 50));
      fake.reply('200 result=68 (dtmf) endpos=800');
      stop = await stopping;
      result = action.result;
      const digits = await call.promptAudioAsync({ promptType: 'digits', url: 'welcome', digitsMax: 1 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(await digits.volume(-6), { successful: true });
      fake.reply('200 result=49 endpos=100');
      await digits.done;
    });
    await fake.expectCommand('STREAM FILE', 'welcome', '');
    fake.reply('200 result=0 endpos=100');
    await expect(fake, /^RECORD FILE \S+ wav D \d+ s=1$/);
    recording();
    await fake.expectCommand('STREAM FILE', 'welcome', KEYS);
    await fake.expectCommand('SET VARIABLE', 'VOLUME(TX)', '0');
    fake.reply('200 result=1');
    await done;
    assert.deepEqual(stop, { successful: true });
    assert.equal(result?.type, 'stopped');
    assert.match(sent[0] ?? '', /^PlayDTMF \S+ D receive=true$/);
    assert.match(sent[1] ?? '', /^Setvar \{"Channel":"\S+","Variable":"VOLUME\(TX\)","Value":"0\.5012"\}$/);
  });

  it('refused before any command: a speech prompt without a recognizer or media directory, TTS without a provider, bad parameters, queue: false while busy', async () => {
    const errors: unknown[] = [];
    const { fake, done } = await place({}, async (call) => {
      const attempts: Array<() => Promise<unknown>> = [
        () => call.promptAudio({ promptType: 'speech', url: 'welcome' }),
        () => call.promptTTS({ promptType: 'digits', text: 'hi', digitsMax: 1 }),
        () => call.promptAudio({ promptType: 'digits', url: 'welcome' }),
        () => new Call(new RelayRuntime({ speech: new ScriptedRecognizer() }), { id: 'x', context: 'unit', fromNumber: '', toNumber: '' }).promptAudio({ promptType: 'both', url: 'welcome', digitsMax: 1 }),
      ];
      for (const attempt of attempts) errors.push(await attempt().catch((error: unknown) => error));
      const first = await call.promptAudioAsync({ promptType: 'digits', url: 'welcome', digitsMax: 1 });
      errors.push(await call.promptAudio({ promptType: 'digits', url: 'welcome', digitsMax: 1 }, { queue: false }).catch((error: unknown) => error));
      await first.stop();
    });
    await fake.expectCommand('STREAM FILE', 'welcome', KEYS);
    // stop(): the interrupt marker; Asterisk stops the playback silently and answers the marker.
    const marker = await fake.expectCommand('GET FULL VARIABLE', 'agikit-interrupt-1');
    fake.reply(`200 result=1 (${marker.words[3] ?? ''})`);
    await done;
    assert.equal(fake.commands.filter((c) => c.words[0] === 'STREAM').length, 1, 'only the one prompt that was allowed played');
    const [speech, tts, args, directory, busy] = errors;
    assert.ok(speech instanceof RelayCapabilityError && speech.capability === 'speech-recognizer' && speech.method === 'promptAudio', String(speech));
    assert.ok(tts instanceof RelayCapabilityError && tts.capability === 'tts' && tts.method === 'promptTTS', String(tts));
    assert.ok(args instanceof RelayArgumentError && /digitsMax is required/.test(args.message), String(args));
    assert.ok(directory instanceof RelayCapabilityError && directory.capability === 'media-directory', String(directory));
    assert.ok(busy instanceof CallBusyError && busy.holder.startsWith('prompt '), String(busy));
  });
});
