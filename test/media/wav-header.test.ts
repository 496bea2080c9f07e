/**
 * The RIFF structure of every WAV file agikit writes ({@link encodeWav}: converted recordings and
 * converted prompts): the RIFF size is the file length minus 8, every chunk's size matches the bytes
 * it holds (plus the pad byte of an odd size), the data chunk holds exactly the encoded samples, and
 * the fact chunk of a non-PCM file counts them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeWav, imaBlockAlignFor, imaSamplesPerBlock, type WavEncoding } from '../../src/media/audio.js';
import { tone } from './tones.js';

const ENCODINGS: readonly WavEncoding[] = ['pcm16', 'pcm8', 'alaw', 'ulaw', 'ima-adpcm'];

/** Bytes the data chunk must hold for `samples` samples, worked out from the format itself. */
function dataBytes(encoding: WavEncoding, samples: number, rate: number): number {
  switch (encoding) {
    case 'pcm16':
      return samples * 2;
    case 'pcm8':
    case 'alaw':
    case 'ulaw':
      return samples;
    case 'ima-adpcm': {
      const block = imaBlockAlignFor(rate);
      return Math.ceil(samples / imaSamplesPerBlock(block)) * block;
    }
  }
}

/** The file's chunks after `RIFF <size> WAVE`, each with its stated size and the bytes it spans. */
function chunks(file: Buffer): Array<{ id: string; size: number; body: Buffer }> {
  const found: Array<{ id: string; size: number; body: Buffer }> = [];
  let offset = 12;
  while (offset < file.length) {
    assert.ok(offset + 8 <= file.length, `a truncated chunk header at byte ${offset}`);
    const id = file.toString('ascii', offset, offset + 4);
    const size = file.readUInt32LE(offset + 4);
    const end = offset + 8 + size;
    assert.ok(end <= file.length, `chunk '${id}' says ${size} bytes, only ${file.length - offset - 8} follow`);
    found.push({ id, size, body: file.subarray(offset + 8, end) });
    // A chunk of odd size is followed by one pad byte.
    offset = end + (size % 2);
  }
  assert.equal(offset, file.length, 'the chunks end exactly at the end of the file');
  return found;
}

describe('WAV files agikit writes', () => {
  for (const encoding of ENCODINGS) {
    it(`${encoding}: RIFF size = length - 8, chunk sizes match the bytes present, data holds every sample`, () => {
      // Empty, one sample, odd and even counts, and (for IMA) more than one block with a partial last one.
      for (const rate of [8000, 11025, 16000, 48000]) {
        for (const count of [0, 1, 2, 201, 1000, 2525]) {
          const audio = { sampleRate: rate, samples: tone(rate, 1000, 440, 6000).samples.subarray(0, count) };
          const file = encodeWav(audio, encoding);
          const what = `${encoding}, ${rate} Hz, ${count} samples`;
          assert.equal(file.toString('ascii', 0, 4), 'RIFF', what);
          assert.equal(file.toString('ascii', 8, 12), 'WAVE', what);
          assert.equal(file.readUInt32LE(4), file.length - 8, `${what}: the RIFF size`);
          const found = chunks(file);
          const ids = found.map((c) => c.id);
          assert.deepEqual(ids, encoding === 'pcm16' || encoding === 'pcm8' ? ['fmt ', 'data'] : ['fmt ', 'fact', 'data'], what);
          const data = found.at(-1);
          assert.equal(data?.size, dataBytes(encoding, count, rate), `${what}: the data chunk size`);
          assert.equal(data?.body.length, data?.size, `${what}: the data bytes present`);
          const fact = found.find((c) => c.id === 'fact');
          if (fact) assert.deepEqual([fact.size, fact.body.readUInt32LE(0)], [4, count], `${what}: the fact chunk's sample count`);
          const fmt = found[0];
          assert.equal(fmt?.size, { pcm16: 16, pcm8: 16, alaw: 18, ulaw: 18, 'ima-adpcm': 20 }[encoding], `${what}: the fmt chunk size`);
        }
      }
    });
  }
});
