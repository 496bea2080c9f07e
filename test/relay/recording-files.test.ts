/**
 * Finishing a recording: MixMonitor's raw interleaved stereo becomes a 2-channel WAV (one channel
 * silenced on request, across chunk boundaries), a WAV's length from its header and size, and the
 * wait for a file Asterisk still has open.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { parseWav } from '../../src/media/audio.js';
import { measureWav, SilenceChannel, stereoWavFromRaw, waitUntilClosed, wavHeader, wavSeconds } from '../../src/relay/recording-files.js';

const dir = mkdtempSync('/tmp/agikit-recording-files-');
after(() => rmSync(dir, { recursive: true, force: true }));

/** Interleaved frames (left, right) as raw 16-bit little-endian bytes. */
function raw(frames: Array<[number, number]>): Buffer {
  const out = Buffer.alloc(frames.length * 4);
  frames.forEach(([l, r], i) => {
    out.writeInt16LE(l, i * 4);
    out.writeInt16LE(r, i * 4 + 2);
  });
  return out;
}

describe('recording files', () => {
  it('wavHeader: a 44-byte PCM header that parseWav reads back', () => {
    const file = Buffer.concat([wavHeader(2, 8000, 8), Buffer.alloc(8)]);
    const info = parseWav(file);
    assert.deepEqual([info.channels, info.sampleRate, info.bitsPerSample, info.byteRate, info.blockAlign, info.data.length], [2, 8000, 16, 32000, 4, 8]);
    assert.equal(wavSeconds(file, 44 + 32000), 1);
  });

  it('stereoWavFromRaw: a 2-channel WAV of the raw frames; the raw file is removed; a half frame at the end is dropped', async () => {
    const rawFile = path.join(dir, 'a.raw');
    writeFileSync(rawFile, Buffer.concat([raw([[100, -100], [200, -200], [300, -300]]), Buffer.from([1, 2])]));
    const wav = path.join(dir, 'a.wav');
    await stereoWavFromRaw(rawFile, wav);
    const info = parseWav(readFileSync(wav));
    assert.equal(info.channels, 2);
    assert.deepEqual(info.data, raw([[100, -100], [200, -200], [300, -300]]));
    assert.equal(existsSync(rawFile), false);
    assert.deepEqual(await measureWav(wav), { duration: 3 / 8000, size: 44 + 12 });
  });

  it('stereoWavFromRaw with a silenced channel; an empty raw file gives an empty WAV', async () => {
    const rawFile = path.join(dir, 'b.raw');
    writeFileSync(rawFile, raw([[1000, 2000], [3000, 4000]]));
    await stereoWavFromRaw(rawFile, path.join(dir, 'b.wav'), 'right');
    assert.deepEqual(parseWav(readFileSync(path.join(dir, 'b.wav'))).data, raw([[1000, 0], [3000, 0]]));
    writeFileSync(path.join(dir, 'c.raw'), Buffer.alloc(0));
    await stereoWavFromRaw(path.join(dir, 'c.raw'), path.join(dir, 'c.wav'), 'left');
    assert.deepEqual(await measureWav(path.join(dir, 'c.wav')), { duration: 0, size: 44 });
  });

  it('SilenceChannel: silences the left samples across odd chunk boundaries', async () => {
    const input = raw([[1, 2], [3, 4], [5, 6], [7, 8]]);
    const silence = new SilenceChannel('left');
    const chunks: Buffer[] = [];
    const sink = new PassThrough();
    sink.on('data', (chunk: Buffer) => chunks.push(chunk));
    silence.pipe(sink);
    for (const [start, end] of [
      [0, 3],
      [3, 5],
      [5, 11],
      [11, 16],
    ] as const) {
      silence.write(input.subarray(start, end));
    }
    silence.end();
    await new Promise((resolve) => sink.on('end', resolve));
    assert.deepEqual(Buffer.concat(chunks), raw([[0, 2], [0, 4], [0, 6], [0, 8]]));
  });

  it('waitUntilClosed: a WAV once its RIFF size is written, a raw file once its size stays put, a missing file until the time limit', async () => {
    const wav = path.join(dir, 'open.wav');
    const header = wavHeader(1, 8000, 0);
    header.writeUInt32LE(0, 4);
    writeFileSync(wav, header);
    setTimeout(() => writeFileSync(wav, wavHeader(1, 8000, 0)), 250);
    let started = Date.now();
    await waitUntilClosed(wav, 'wav', 3000);
    const tookWav = Date.now() - started;
    assert.ok(tookWav >= 200 && tookWav < 1500, `took ${tookWav} ms`);
    writeFileSync(path.join(dir, 'done.raw'), Buffer.alloc(8));
    started = Date.now();
    await waitUntilClosed(path.join(dir, 'done.raw'), 'raw', 3000);
    const tookRaw = Date.now() - started;
    assert.ok(tookRaw >= 250 && tookRaw < 1500, `took ${tookRaw} ms`);
    started = Date.now();
    await waitUntilClosed(path.join(dir, 'missing.wav'), 'wav', 400);
    assert.ok(Date.now() - started >= 400);
  });
});
