/**
 * Live: where FilePlayer and FileRecorder once differed from the Aculab seeds, tried against a real
 * Asterisk 22 as a user would.
 *
 * - stop() and waitUntilFinished() on a channel that is not answered raise, like play() and record().
 * - maxBytes is never exceeded, although Asterisk checks RECORD FILE's time limit once per frame;
 *   the WAV headers of a cut file are exact.
 * - A recording is "a WAV file" whose codec is the file format: A-law (the default) and µ-law
 *   recordings are WAV files with that codec, RIFF and data sizes exact.
 * - A leg that sends no audio frames at all is silence to WaitForNoise (msInitialSilence gives
 *   SILENCE), and never silence to RECORD FILE's detector (only the time limit ends it).
 *
 * The recordings go to a host directory mounted into the container.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Agi } from '../../src/agi/agi.js';
import { AgiHangupError } from '../../src/errors.js';
import { decodeWav, parseWav, WavFormatTag } from '../../src/media/audio.js';
import { MediaStateError } from '../../src/media/errors.js';
import { FilePlayer } from '../../src/media/file-player.js';
import { FileRecorder, RecordCause } from '../../src/media/file-recorder.js';
import type { MediaOptions } from '../../src/media/options.js';
import { far } from '../../src/testing/asterisk.js';
import { settle, within } from '../support/settle.js';
import { LiveRig, live, signal, skip } from './rig.js';

const MOUNT = '/agikit-media';
const UNANSWERED_CONTEXT = 'agikit-live-unanswered';

/** The chunks of a RIFF/WAVE file, with their declared sizes, and the RIFF size it declares. */
function riffChunks(file: Buffer): { riffSize: number; chunks: Map<string, { size: number; body: Buffer }> } {
  assert.equal(file.toString('ascii', 0, 4), 'RIFF');
  assert.equal(file.toString('ascii', 8, 12), 'WAVE');
  const chunks = new Map<string, { size: number; body: Buffer }>();
  let offset = 12;
  while (offset + 8 <= file.length) {
    const id = file.toString('ascii', offset, offset + 4);
    const size = file.readUInt32LE(offset + 4);
    chunks.set(id, { size, body: file.subarray(offset + 8, offset + 8 + size) });
    offset += 8 + size + (size % 2);
  }
  assert.equal(offset, file.length, 'the chunks fill the file exactly');
  return { riffSize: file.readUInt32LE(4), chunks };
}

/** Asserts a WAV file's sizes are exact: RIFF = file − 8, data = the bytes that follow it. */
function assertExactWav(file: Buffer, what: string): void {
  const { riffSize, chunks } = riffChunks(file);
  assert.equal(riffSize, file.length - 8, `${what}: RIFF size`);
  const data = chunks.get('data');
  assert.ok(data, `${what}: a data chunk`);
  assert.equal(data.body.length, data.size, `${what}: data chunk size`);
}

describe('live: FilePlayer/FileRecorder as the Aculab seeds say', { concurrency: true }, () => {
  let rig: LiveRig | undefined;
  let dir = '';
  let media: MediaOptions = {};
  const unanswered = new Map<string, (agi: Agi) => Promise<void>>();

  before(async () => {
    if (!live.ok) return;
    dir = mkdtempSync('/tmp/agikit-media-seeds-');
    rig = await LiveRig.start({ bindMounts: [{ source: dir, target: MOUNT, readOnly: false }] });
    media = { directory: { local: dir, asterisk: MOUNT } };
    rig.server.route('/unanswered/:ext', async (agi) => {
      const handler = unanswered.get(agi.params['ext'] ?? '');
      if (!handler) throw new Error(`no handler for ${agi.path}`);
      await handler(agi);
    });
  });
  after(async () => {
    await rig?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let n = 0;
  const name = (what: string): string => `seed-${what}-${++n}`;

  /**
   * Runs `handler` as the AGI of a channel that is ringing, not answered: a Local channel's ;2 half
   * runs AGI() straight from the dialplan (the originating ;1 half waits for it to answer).
   */
  async function runUnanswered(handler: (agi: Agi) => Promise<void>): Promise<void> {
    assert.ok(rig);
    const ext = `un${++n}`;
    const done = new Promise<void>((resolve, reject) => {
      unanswered.set(ext, async (agi) => {
        try {
          await handler(agi);
          resolve();
        } catch (error) {
          reject(error);
        }
      });
    });
    await rig.addExtension(UNANSWERED_CONTEXT, ext, [
      ['AGI', rig.url(`unanswered/${ext}`)],
      ['Hangup', ''],
    ]);
    assert.equal((await rig.asterisk.cli(`channel originate Local/${ext}@${UNANSWERED_CONTEXT}/n application Wait 30`)).trim(), '');
    await within(done, 20_000, `the unanswered call ${ext} did not run its handler`);
  }

  it('stop() and waitUntilFinished() on a channel that is not answered raise MediaStateError, like play() and record()', { skip }, async () => {
    const got: Record<string, unknown> = {};
    await runUnanswered(async (agi) => {
      got['channel state'] = await agi.channelStatus();
      const player = new FilePlayer(agi, media);
      const recorder = new FileRecorder(agi, media);
      got['play'] = (await settle(player.play('beep'))).error;
      got['player.stop'] = (await settle(player.stop())).error;
      got['player.waitUntilFinished'] = (await settle(player.waitUntilFinished())).error;
      got['record'] = (await settle(recorder.record(name('unanswered')))).error;
      got['recorder.stop'] = (await settle(recorder.stop())).error;
      got['recorder.waitUntilFinished'] = (await settle(recorder.waitUntilFinished())).error;
      got['still ringing'] = await agi.channelStatus();
    });
    assert.equal(got['channel state'], 4, 'the AGI channel rings (state 4), it is not answered');
    assert.equal(got['still ringing'], 4, 'nothing answered it');
    for (const what of ['play', 'player.stop', 'player.waitUntilFinished', 'record', 'recorder.stop', 'recorder.waitUntilFinished']) {
      const error = got[what];
      assert.ok(error instanceof MediaStateError, `${what}: ${String(error)}`);
      assert.match(error.message, /not answered/, what);
    }
  });

  it('stop() and waitUntilFinished() after the caller hung up raise AgiHangupError', { skip }, async () => {
    assert.ok(rig);
    const got: Record<string, unknown> = {};
    await rig.run(
      async (agi) => {
        await signal(agi, 'ready');
        await agi.hungUp;
        const player = new FilePlayer(agi, media);
        const recorder = new FileRecorder(agi, media);
        got['player.stop'] = (await settle(player.stop())).error;
        got['player.waitUntilFinished'] = (await settle(player.waitUntilFinished())).error;
        got['recorder.stop'] = (await settle(recorder.stop())).error;
        got['recorder.waitUntilFinished'] = (await settle(recorder.waitUntilFinished())).error;
      },
      { far: [far.waitFor('ready'), far.hangup()] },
    );
    for (const [what, error] of Object.entries(got)) assert.ok(error instanceof AgiHangupError, `${what}: ${String(error)}`);
  });

  it('maxBytes is never exceeded: recordings cut by the limit are at most maxBytes, cause SIZE, headers exact', { skip }, async () => {
    assert.ok(rig);
    // 16-bit WAV at 8 kHz: 44 header bytes and 16000 bytes a second, so 8044 bytes is 0.5 s (25
    // frames of 20 ms); Asterisk, checking its time limit once per frame, often writes a 26th.
    const limits = [
      { fileFormat: 's16bit' as const, maxBytes: 8044 },
      { fileFormat: 's16bit' as const, maxBytes: 8044 },
      { fileFormat: 's16bit' as const, maxBytes: 8044 },
      { fileFormat: 's16bit' as const, maxBytes: 8044 },
      { fileFormat: 's16bit' as const, maxBytes: 9001 },
      { fileFormat: 'alaw' as const, maxBytes: 4100 },
      { fileFormat: 'ulaw' as const, maxBytes: 4100 },
    ];
    const got: Array<{ cause: unknown; file: string | null }> = [];
    await rig.run(
      async (agi) => {
        const recorder = new FileRecorder(agi, media);
        await signal(agi, 'recording');
        for (const limit of limits) {
          const cause = await recorder.record(name('size'), { ...limit, secondsTimeout: 10, msMaxSilence: 0 });
          got.push({ cause, file: recorder.recordedFile() });
        }
      },
      { far: [far.waitFor('recording'), far.playback('tt-monkeys')], timeoutMs: 60_000 },
    );
    const sizes = got.map(({ file }) => (file === null ? -1 : statSync(file).size));
    const report = JSON.stringify(limits.map((l, i) => `${l.fileFormat} ${l.maxBytes}: ${sizes[i]} bytes, ${String(got[i]?.cause)}`));
    limits.forEach((limit, i) => {
      const { cause, file } = got[i] ?? { cause: undefined, file: null };
      assert.equal(cause, RecordCause.SIZE, `recording ${i} (${limit.fileFormat}, ${limit.maxBytes} bytes)`);
      assert.ok(file !== null);
      const bytes = readFileSync(file);
      assert.ok(bytes.length <= limit.maxBytes, `recording ${i} (${limit.fileFormat}): ${bytes.length} bytes > maxBytes ${limit.maxBytes}; all: ${report}`);
      // Ended by the limit, not long before it (frames come late on a busy machine: half, at least).
      assert.ok(bytes.length > limit.maxBytes / 2, `recording ${i}: ${bytes.length} bytes, far below ${limit.maxBytes}; all: ${report}`);
      if (file.endsWith('.wav')) assertExactWav(bytes, `recording ${i}`);
    });
    // 9001 is odd: 16-bit samples never split.
    assert.equal(((sizes[4] ?? 0) - 44) % 2, 0);
  });

  it('a recording is a WAV file whose codec is the file format: A-law by default, µ-law, 16-bit PCM; sizes exact', { skip }, async () => {
    assert.ok(rig);
    const files: Array<string | null> = [];
    const causes: unknown[] = [];
    await rig.run(
      async (agi) => {
        const recorder = new FileRecorder(agi, media);
        await signal(agi, 'recording');
        causes.push(await recorder.record(name('default'), { secondsTimeout: 1 }));
        files.push(recorder.recordedFile());
        causes.push(await recorder.record(name('ulaw'), { fileFormat: 'ulaw', secondsTimeout: 1 }));
        files.push(recorder.recordedFile());
        causes.push(await recorder.record(name('s16'), { fileFormat: 's16bit', secondsTimeout: 1 }));
        files.push(recorder.recordedFile());
      },
      { far: [far.waitFor('recording'), far.playback('tt-monkeys')] },
    );
    assert.deepEqual(causes, [RecordCause.TIMEOUT, RecordCause.TIMEOUT, RecordCause.TIMEOUT]);
    const expected = [
      { tag: WavFormatTag.Alaw, bits: 8 },
      { tag: WavFormatTag.Ulaw, bits: 8 },
      { tag: WavFormatTag.Pcm, bits: 16 },
    ];
    files.forEach((file, i) => {
      assert.ok(file !== null && file.endsWith('.wav'), `recording ${i}: ${String(file)}`);
      assert.ok(file.startsWith(dir));
      const bytes = readFileSync(file);
      assertExactWav(bytes, `recording ${i}`);
      const info = parseWav(bytes);
      const want = expected[i] ?? expected[0];
      assert.deepEqual(
        [info.formatTag, info.channels, info.sampleRate, info.bitsPerSample, info.blockAlign, info.byteRate],
        [want?.tag, 1, 8000, want?.bits, (want?.bits ?? 8) / 8, (8000 * (want?.bits ?? 8)) / 8],
        `recording ${i}: fmt chunk`,
      );
      if (info.formatTag !== WavFormatTag.Pcm) {
        const fact = riffChunks(bytes).chunks.get('fact');
        assert.ok(fact, `recording ${i}: a fact chunk`);
        assert.equal(fact.body.readUInt32LE(0), info.data.length, `recording ${i}: fact sample count`);
      }
      const audio = decodeWav(bytes);
      assert.ok(audio.samples.length > 8000 * 0.8, `recording ${i}: ${audio.samples.length} samples`);
    });
    // Nothing else is left beside the recordings (no headerless .alaw/.ulaw, no temporary file).
    for (const file of files) {
      const base = (file ?? '').slice(0, -'.wav'.length);
      for (const ext of ['alaw', 'ulaw']) assert.throws(() => statSync(`${base}.${ext}`), /ENOENT/);
    }
  });

  it('a leg sending no audio frames: silence to WaitForNoise (msInitialSilence: SILENCE), never to RECORD FILE (TIMEOUT)', { skip }, async () => {
    assert.ok(rig);
    const got: unknown[] = [];
    const file = name('no-frames');
    await rig.run(
      async (agi) => {
        const recorder = new FileRecorder(agi, media);
        await signal(agi, 'quiet');
        // Had WaitForNoise taken the missing frames for sound, RECORD FILE would have run to its
        // 10 s limit (TIMEOUT) and left a file.
        got.push(await recorder.record(file, { msInitialSilence: 1000, secondsTimeout: 10 }), recorder.audioDetectedInRecording());
        // RECORD FILE's silence detector sees only frames: with none, only the time limit ends it.
        // (This also shows the far leg really sends none: silent frames would end it with SILENCE.)
        got.push(await recorder.record(name('no-frames-silence'), { fileFormat: 's16bit', msMaxSilence: 1000, secondsTimeout: 3 }));
      },
      // far.wait(): Wait() on the far leg, which sends no frames at all (unlike far.silence()).
      { far: [far.waitFor('quiet'), far.wait(15)] },
    );
    assert.deepEqual(got, [RecordCause.SILENCE, false, RecordCause.TIMEOUT]);
    assert.throws(() => statSync(path.join(dir, `${file}.wav`)), /ENOENT/, 'nothing was recorded');
  });
});
