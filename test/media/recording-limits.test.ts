/**
 * FileRecorder's limits as Asterisk is asked to enforce them: `maxBytes` becomes a time limit that
 * must hold the finished file to `maxBytes` in every format and rate the recorder accepts, and the
 * silence options become whole seconds, rounded up.
 *
 * The size check models what happens to a recording that lasts exactly the time limit: the file
 * Asterisk writes for `RECORD FILE`'s format (its real byte rate, not the plan's), then agikit's
 * conversion when the plan has one. So a wrong bytes-per-second or header size in the plan shows
 * up as a finished file too big (or far too small) for `maxBytes`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeWav, encodeAlaw, encodeOkiAdpcm, encodeUlaw, encodeWav, imaBlockAlignFor, resample } from '../../src/media/audio.js';
import { MediaSetupError } from '../../src/media/errors.js';
import { FileRecorder, planRecording, RecordCause, sizeLimitMs, type RecordFileFormat, type RecordOptions } from '../../src/media/file-recorder.js';
import type { FakeCall } from '../../src/testing/fake-asterisk.js';
import { startTestServer, type TestServer } from '../support/fake-server.js';
import { tone } from './tones.js';

const FORMATS: readonly RecordFileFormat[] = ['alaw', 'ulaw', 's16bit', 'wav', 'gsm', 'u8bit', 'ima', 'oki'];
/** The usual rates and each boundary of the plan (8 kHz, 16 kHz, the IMA block sizes), up to the 48 kHz maximum. */
const RATES = [4000, 6000, 8000, 11000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000];
/** GSM 06.10 as Asterisk's format_gsm writes it: 33-byte frames of 20 ms. */
const GSM_FRAME = { bytes: 33, ms: 20 };

type Plan = ReturnType<typeof planRecording>;

/** The file Asterisk writes when `RECORD FILE` in the plan's format records `ms` of sound. */
function asteriskRecording(plan: Plan, ms: number): Buffer {
  const sound = tone(plan.asteriskRate, ms, 440, 6000);
  switch (plan.asteriskFormat) {
    case 'alaw':
      return encodeAlaw(sound.samples);
    case 'ulaw':
      return encodeUlaw(sound.samples);
    case 'wav':
    case 'wav16':
      // format_wav: a 44-byte header and 16-bit samples, at 8 kHz (wav) or 16 kHz (wav16).
      return encodeWav(sound, 'pcm16');
    case 'gsm':
      return Buffer.alloc(Math.floor(ms / GSM_FRAME.ms) * GSM_FRAME.bytes);
  }
}

/** The file agikit leaves once the recording ends: Asterisk's, or its conversion when the plan has one. */
function finishedFile(plan: Plan, recorded: Buffer): Buffer {
  if (!plan.convert) return recorded;
  const audio = resample(decodeWav(recorded), plan.convert.rate);
  return plan.convert.encoding === 'oki' ? encodeOkiAdpcm(audio.samples) : encodeWav(audio, plan.convert.encoding);
}

/** How far past `maxBytes` a file may end: formats written in blocks end within one block of the limit. */
function overshootAllowed(format: RecordFileFormat, rate: number): number {
  return format === 'ima' ? imaBlockAlignFor(rate) - 1 : 0;
}

describe('maxBytes holds the finished file to its size, in every format and rate', () => {
  for (const format of FORMATS) {
    it(`${format}: a recording as long as the size limit makes a file of about maxBytes, never more`, () => {
      const failures: string[] = [];
      for (const rate of RATES) {
        let plan: Plan;
        try {
          plan = planRecording(format, rate);
        } catch (error) {
          assert.ok(format === 'gsm' && rate !== 8000 && error instanceof MediaSetupError, `${format} at ${rate} Hz refused: ${String(error)}`);
          continue;
        }
        for (const maxBytes of [4000, 16_000]) {
          const limitMs = sizeLimitMs(maxBytes, plan);
          const size = finishedFile(plan, asteriskRecording(plan, limitMs)).length;
          const what = `${format} at ${rate} Hz, maxBytes ${maxBytes}: ${limitMs} ms (the size limit) makes ${size} bytes`;
          if (size > maxBytes + overshootAllowed(format, rate)) failures.push(`${what}, over maxBytes`);
          // Rounding and a partial GSM frame cost well under 5%; a wrong byte rate costs a factor.
          else if (size < maxBytes * 0.95) failures.push(`${what}, far under maxBytes (the limit is too short)`);
        }
      }
      assert.deepEqual(failures, []);
    });
  }
});

describe('silence options become whole seconds, rounded up', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  /** One record() per options object, on one call; `asterisk` plays Asterisk's side of each. Resolves with the causes. */
  async function recordEach(options: readonly RecordOptions[], asterisk: (fake: FakeCall, index: number) => Promise<void>): Promise<unknown[]> {
    const causes: unknown[] = [];
    const placed = await t.call(async (agi) => {
      const recorder = new FileRecorder(agi);
      for (const o of options) causes.push(await recorder.record('/tmp/silence', o));
    });
    for (let i = 0; i < options.length; i++) {
      await placed.fake.expectCommand('CHANNEL STATUS');
      placed.fake.reply('200 result=6');
      await asterisk(placed.fake, i);
    }
    placed.fake.respond(() => '200 result=1');
    assert.equal((await placed.ended).status, 'SUCCESS');
    return causes;
  }

  it('msMaxSilence: RECORD FILE s= is the value rounded up (1200 ms -> s=2), so no shorter pause ends it', async () => {
    const cases: ReadonlyArray<[number, string]> = [
      [1200, 's=2'],
      [1, 's=1'],
      [1000, 's=1'],
      [1001, 's=2'],
      [1500, 's=2'],
      [2000, 's=2'],
      [2500, 's=3'],
    ];
    const options = cases.map(([msMaxSilence]) => ({ msMaxSilence, secondsTimeout: 5, maxBytes: 0 }));
    const causes = await recordEach(options, async (fake, i) => {
      await fake.expectCommand('RECORD FILE', '/tmp/silence', 'alaw', '', '5000', cases[i]?.[1] ?? '');
      fake.reply('200 result=0 (timeout) endpos=800');
    });
    assert.deepEqual(causes, cases.map(() => RecordCause.SILENCE));
  });

  it('msInitialSilence: WaitForNoise waits the value rounded up, plus one second (1200 ms -> 3 s)', async () => {
    const cases: ReadonlyArray<[number, string]> = [
      [1200, '60,1,3'],
      [1, '60,1,2'],
      [2000, '60,1,3'],
      [2001, '60,1,4'],
    ];
    const causes = await recordEach(cases.map(([msInitialSilence]) => ({ msInitialSilence })), async (fake, i) => {
      await fake.expectCommand('EXEC', 'WaitForNoise', cases[i]?.[1] ?? '');
      fake.reply('200 result=0');
      await fake.expectCommand('GET VARIABLE', 'WAITSTATUS');
      fake.reply('200 result=1 (TIMEOUT)');
    });
    assert.deepEqual(causes, cases.map(() => RecordCause.SILENCE));
  });
});
