/**
 * The pure audio layer: G.711 both ways over every code, ADPCM round trips, WAV parsing and
 * writing in every encoding, resampling (level kept, no aliasing), level analysis, Asterisk format
 * knowledge, and the cipher.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  alawToLinear,
  analyseLevels,
  decodeImaAdpcm,
  decodeOkiAdpcm,
  decodeU8,
  decodeWav,
  encodeImaAdpcm,
  encodeOkiAdpcm,
  encodeU8,
  encodeWav,
  IMA_STEP_TABLE,
  linearToAlaw,
  linearToUlaw,
  OKI_STEP_TABLE,
  parseWav,
  resample,
  truncateWav,
  ulawToLinear,
  wavIsComplete,
  wrapWav,
  WavFormatTag,
  type PcmAudio,
  type WavEncoding,
} from '../../src/media/audio.js';
import { AgiArgumentError } from '../../src/errors.js';
import { decryptRecording, encryptRecording } from '../../src/media/cipher.js';
import { AudioFormatError } from '../../src/media/errors.js';
import { asteriskPlaysAsIs, audioDurationMs, audioExtension, decodeAudioFile, truncateAudioFile, withoutAudioExtension } from '../../src/media/formats.js';
import { concat, rms, silence, tone } from './tones.js';

/** Largest absolute difference between two signals over their common length. */
function maxError(a: Int16Array, b: Int16Array): number {
  let worst = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

/** RMS of the difference between two signals, relative to the first's RMS. */
function relativeError(reference: Int16Array, other: Int16Array, skip = 0): number {
  let err = 0;
  let ref = 0;
  for (let i = skip; i < Math.min(reference.length, other.length); i++) {
    const d = (reference[i] as number) - (other[i] as number);
    err += d * d;
    ref += (reference[i] as number) ** 2;
  }
  return Math.sqrt(err / ref);
}

describe('G.711', () => {
  it('A-law: every code decodes to a value that encodes back to the same code', () => {
    for (let code = 0; code < 256; code++) assert.equal(linearToAlaw(alawToLinear(code)), code, `code 0x${code.toString(16)}`);
  });

  it('µ-law: every code round-trips, except 0x7f (negative zero) which becomes 0xff', () => {
    for (let code = 0; code < 256; code++) {
      assert.equal(linearToUlaw(ulawToLinear(code)), code === 0x7f ? 0xff : code, `code 0x${code.toString(16)}`);
    }
  });

  it('known values: A-law 0xd5 = +8, 0x55 = -8, full scale ±32256; µ-law 0xff = 0, 0x80 = +32124, 0x00 = -32124', () => {
    assert.deepEqual([alawToLinear(0xd5), alawToLinear(0x55), alawToLinear(0xaa), alawToLinear(0x2a)], [8, -8, 32256, -32256]);
    assert.deepEqual([ulawToLinear(0xff), ulawToLinear(0x80), ulawToLinear(0x00)], [0, 32124, -32124]);
    assert.equal(linearToAlaw(0), 0xd5);
    assert.equal(linearToUlaw(0), 0xff);
  });

  it('encoding every 16-bit value is monotonic and stays within the segment step of the input', () => {
    let previousA = -Infinity;
    let previousU = -Infinity;
    for (let x = -32768; x <= 32767; x++) {
      const a = alawToLinear(linearToAlaw(x));
      const u = ulawToLinear(linearToUlaw(x));
      assert.ok(a >= previousA && u >= previousU, `monotonic at ${x}`);
      previousA = a;
      previousU = u;
      // The quantisation step grows with the magnitude: at most 1/16 of it plus the smallest step.
      const limit = Math.abs(x) / 16 + 16;
      assert.ok(Math.abs(a - x) <= limit + 16, `A-law error at ${x}: ${a}`);
      assert.ok(Math.abs(u - x) <= limit + 140, `µ-law error at ${x}: ${u}`);
    }
  });
});

describe('8-bit PCM and ADPCM', () => {
  it('8-bit unsigned: 128 is zero, and every byte round-trips', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const samples = decodeU8(bytes);
    assert.equal(samples[128], 0);
    assert.equal(samples[0], -32768);
    assert.deepEqual([...encodeU8(samples)], [...bytes]);
  });

  it('the step tables: IMA has 89 steps from 7 to 32767, OKI 49 from 16 to 1552', () => {
    assert.equal(IMA_STEP_TABLE.length, 89);
    assert.deepEqual([IMA_STEP_TABLE[0], IMA_STEP_TABLE[88]], [7, 32767]);
    assert.equal(OKI_STEP_TABLE.length, 49);
    assert.deepEqual([OKI_STEP_TABLE[0], OKI_STEP_TABLE[48]], [16, 1552]);
    for (let i = 1; i < IMA_STEP_TABLE.length; i++) assert.ok((IMA_STEP_TABLE[i] as number) > (IMA_STEP_TABLE[i - 1] as number));
  });

  it('IMA ADPCM: a tone round-trips within a few percent; blocks restart from their first sample', () => {
    const signal = tone(8000, 1000, 440, 10_000).samples;
    const encoded = encodeImaAdpcm(signal, 256);
    assert.equal(encoded.length, Math.ceil(signal.length / 505) * 256);
    const decoded = decodeImaAdpcm(encoded, 256);
    assert.ok(decoded.length >= signal.length);
    assert.ok(relativeError(signal, decoded) < 0.05, `error ${relativeError(signal, decoded)}`);
    // The first sample of each block is stored exactly.
    for (let b = 0; b * 505 < signal.length; b++) assert.equal(decoded[b * 505], signal[b * 505]);
  });

  it('IMA ADPCM decodes a hand-made block: header sample, then nibbles low first', () => {
    // First sample 1000, step index 0 (step 7); codes 4 (+7+0) then 0xC (-(step after +2 = 9 ... ))
    const block = Uint8Array.from([0xe8, 0x03, 0, 0, 0xc4]);
    const out = decodeImaAdpcm(block, 5);
    // code 4: diff = 7>>3 + 7 = 7 -> 1007, index 0+2 = 2 (step 9); code 0xC: -(9>>3 + 9) = -10 -> 997.
    assert.deepEqual([...out], [1000, 1007, 997]);
  });

  it('OKI ADPCM: a tone round-trips (12-bit codec) within a few percent; silence stays near zero', () => {
    const signal = tone(8000, 1000, 300, 8000).samples;
    const decoded = decodeOkiAdpcm(encodeOkiAdpcm(signal));
    assert.equal(decoded.length, signal.length);
    assert.ok(relativeError(signal, decoded, 200) < 0.08, `error ${relativeError(signal, decoded, 200)}`);
    const quiet = decodeOkiAdpcm(encodeOkiAdpcm(new Int16Array(800)));
    assert.ok(rms(quiet) < 64, `silence rms ${rms(quiet)}`);
  });

  it('OKI ADPCM decodes hand-made codes, high nibble first, clamped to 12 bits', () => {
    // code 7 at step 16: 2+16+8+4 = 30 -> 30<<4 = 480; index 0+8 = 8 (step 37)... then code 0 at step 37: +4.
    const out = decodeOkiAdpcm(Uint8Array.from([0x70]));
    assert.deepEqual([...out], [480, (30 + (OKI_STEP_TABLE[8] as number >> 3)) << 4]);
    const loud = decodeOkiAdpcm(new Uint8Array(200).fill(0x77));
    assert.equal(Math.max(...loud), 2047 << 4);
  });
});

describe('WAV', () => {
  const signal = tone(8000, 500, 440, 6000);

  it('writes and reads back every encoding at its rate, mono', () => {
    const limits: Record<WavEncoding, number> = { pcm16: 0, pcm8: 128, alaw: 200, ulaw: 200, 'ima-adpcm': 0 };
    for (const encoding of Object.keys(limits) as WavEncoding[]) {
      for (const rate of [6000, 8000, 11025]) {
        const input: PcmAudio = { sampleRate: rate, samples: tone(rate, 300, 440, 6000).samples };
        const file = encodeWav(input, encoding);
        const back = decodeWav(file);
        assert.equal(back.sampleRate, rate, `${encoding} ${rate}`);
        assert.ok(back.samples.length >= input.samples.length, `${encoding} ${rate} length`);
        if (encoding === 'ima-adpcm') {
          assert.ok(relativeError(input.samples, back.samples) < 0.1, `${encoding} ${rate}: ${relativeError(input.samples, back.samples)}`);
        } else {
          assert.ok(maxError(input.samples, back.samples) <= (limits[encoding] as number), `${encoding} ${rate}: ${maxError(input.samples, back.samples)}`);
        }
      }
    }
  });

  it('the header says what it holds: format tag, rate, byte rate, block size', () => {
    const cases: Array<[WavEncoding, number, number, number]> = [
      ['pcm16', WavFormatTag.Pcm, 16000, 2],
      ['pcm8', WavFormatTag.Pcm, 8000, 1],
      ['alaw', WavFormatTag.Alaw, 8000, 1],
      ['ulaw', WavFormatTag.Ulaw, 8000, 1],
      ['ima-adpcm', WavFormatTag.ImaAdpcm, Math.floor((8000 * 256) / 505), 256],
    ];
    for (const [encoding, tag, byteRate, blockAlign] of cases) {
      const info = parseWav(encodeWav(signal, encoding));
      assert.deepEqual([info.formatTag, info.channels, info.sampleRate, info.byteRate, info.blockAlign], [tag, 1, 8000, byteRate, blockAlign], encoding);
    }
    assert.equal(encodeWav(signal, 'pcm16').length, 44 + 8000);
  });

  it('reads stereo (mixed to mono), 24-bit, 32-bit float, WAVE_FORMAT_EXTENSIBLE and an oversized streaming header', () => {
    const frames = 4;
    // Stereo 16-bit: left 1000, right 3000 -> mono 2000.
    const stereo = Buffer.alloc(frames * 4);
    for (let i = 0; i < frames; i++) {
      stereo.writeInt16LE(1000, i * 4);
      stereo.writeInt16LE(3000, i * 4 + 2);
    }
    assert.deepEqual([...decodeWav(rawWav(1, 2, 8000, 16, stereo)).samples], [2000, 2000, 2000, 2000]);
    // 24-bit: 0x123456 -> top 16 bits 0x1234.
    const wide = Buffer.from([0x56, 0x34, 0x12]);
    assert.deepEqual([...decodeWav(rawWav(1, 1, 8000, 24, wide)).samples], [0x1234]);
    const float = Buffer.alloc(8);
    float.writeFloatLE(0.5, 0);
    float.writeFloatLE(-1, 4);
    assert.deepEqual([...decodeWav(rawWav(3, 1, 8000, 32, float)).samples], [16384, -32767]);
    const ext = rawWav(0xfffe, 1, 8000, 16, Buffer.from([1, 0, 2, 0]), 40);
    assert.deepEqual([...decodeWav(ext).samples], [1, 2]);
    // espeak-ng --stdout writes 0x7ffff000 as the data size; the data is what is there.
    const streaming = encodeWav(signal, 'pcm16');
    streaming.writeUInt32LE(0x7ffff000, 40);
    assert.equal(decodeWav(streaming).samples.length, signal.samples.length);
  });

  it('refuses what is not a WAV it can read', () => {
    assert.throws(() => parseWav(Buffer.from('not a wav file at all')), AudioFormatError);
    assert.throws(() => decodeWav(rawWav(0x31, 1, 8000, 0, Buffer.alloc(65))), /0x31/);
    assert.throws(() => decodeWav(rawWav(1, 1, 8000, 12, Buffer.alloc(4))), /12 bits/);
  });

  it('truncateWav: whole samples within maxBytes, RIFF and data sizes rewritten, trailing chunks dropped', () => {
    const pcm = encodeWav(tone(8000, 600), 'pcm16');
    assert.equal(pcm.length, 44 + 9600);
    const cut = truncateWav(pcm, 8044);
    assert.equal(cut.length, 8044);
    assertExactWav(cut);
    assert.deepEqual(decodeWav(cut).samples, decodeWav(pcm).samples.subarray(0, 4000));
    // An odd limit: 16-bit samples are never split.
    assert.equal(truncateWav(pcm, 9001).length, 9000);
    // A chunk after the data (a LIST chunk, say) is dropped rather than kept half.
    const withList = Buffer.concat([pcm, Buffer.from('LIST'), Buffer.from([4, 0, 0, 0]), Buffer.from('INFO')]);
    withList.writeUInt32LE(withList.length - 8, 4);
    assertExactWav(truncateWav(withList, 8044));
    // Already within the limit: the same bytes.
    assert.equal(truncateWav(pcm, pcm.length), pcm);
    assert.throws(() => truncateWav(pcm, 40), /header of 44 bytes/);
  });

  it('truncateWav: A-law keeps its fact chunk true and pads an odd data chunk within maxBytes; IMA cuts whole blocks', () => {
    const alaw = encodeWav(tone(8000, 500), 'alaw');
    assert.equal(alaw.length, 58 + 4000);
    // 1001 bytes of data would need a pad byte past the limit: 1000 are kept.
    const even = truncateWav(alaw, 58 + 1001);
    assert.equal(even.length, 58 + 1000);
    assertExactWav(even);
    assert.equal(even.readUInt32LE(46), 1000, 'fact: 1000 samples');
    // Odd data cut short by a dropped trailing chunk keeps its pad byte.
    const oddAlaw = encodeWav(tone(8000, 999 / 8), 'alaw');
    const withList = Buffer.concat([oddAlaw, Buffer.from('LIST'), Buffer.from([4, 0, 0, 0]), Buffer.from('INFO')]);
    withList.writeUInt32LE(withList.length - 8, 4);
    const padded = truncateWav(withList, oddAlaw.length);
    assert.deepEqual([padded.length, padded.readUInt32LE(54)], [58 + 1000, 999]);
    assertExactWav(padded);
    const ima = encodeWav(tone(8000, 1000), 'ima-adpcm');
    const imaCut = truncateWav(ima, 60 + 256 * 10 + 100);
    assert.equal(imaCut.length, 60 + 256 * 10);
    assertExactWav(imaCut);
    assert.equal(parseWav(imaCut).data.length, 2560);
    assert.equal(imaCut.readUInt32LE(48), 10 * 505, 'fact: 10 blocks of 505 samples');
    assert.equal(decodeWav(imaCut).samples.length, 10 * 505);
  });

  it('wrapWav: a WAV container around encoded bytes, kept as they are (what encodeWav writes for the same audio)', () => {
    const audio = tone(8000, 250);
    for (const encoding of ['alaw', 'ulaw', 'pcm16'] as const) {
      const encoded = encodeWav(audio, encoding);
      const data = parseWav(encoded).data;
      assert.ok(wrapWav(data, encoding, 8000).equals(encoded), encoding);
    }
    const odd = wrapWav(Buffer.from([1, 2, 3]), 'ulaw', 8000);
    assert.deepEqual([odd.length, odd.readUInt32LE(4), parseWav(odd).data.length], [58 + 4, 58 + 4 - 8, 3]);
  });

  it('wavIsComplete: the data chunk declares exactly what follows (a writer that has not updated its header yet: no)', () => {
    const pcm = encodeWav(tone(8000, 100), 'pcm16');
    assert.equal(wavIsComplete(pcm), true);
    const stale = Buffer.from(pcm);
    stale.writeUInt32LE(0, 40);
    assert.equal(wavIsComplete(stale), false);
    assert.equal(wavIsComplete(pcm.subarray(0, pcm.length - 2)), false);
    assert.equal(wavIsComplete(Buffer.from('not a wav')), false);
  });
});

/** Asserts the RIFF size is the file length less 8 and the data chunk (last) ends the file. */
function assertExactWav(file: Buffer): void {
  assert.equal(file.readUInt32LE(4), file.length - 8, 'RIFF size');
  assert.equal(wavIsComplete(file), true, 'data size');
}

/** A minimal WAV with the given fmt fields (an extensible fmt puts the sub-format tag 1 at 24). */
function rawWav(tag: number, channels: number, rate: number, bits: number, data: Buffer, fmtSize = 16): Buffer {
  const fmt = Buffer.alloc(fmtSize);
  fmt.writeUInt16LE(tag, 0);
  fmt.writeUInt16LE(channels, 2);
  fmt.writeUInt32LE(rate, 4);
  fmt.writeUInt32LE((rate * channels * bits) / 8, 8);
  fmt.writeUInt16LE(Math.max(1, (channels * bits) / 8), 12);
  fmt.writeUInt16LE(bits, 14);
  if (fmtSize >= 40) fmt.writeUInt16LE(1, 24);
  const head = Buffer.alloc(12);
  head.write('RIFF', 0);
  head.writeUInt32LE(4 + 8 + fmtSize + 8 + data.length, 4);
  head.write('WAVE', 8);
  const fh = Buffer.alloc(8);
  fh.write('fmt ', 0);
  fh.writeUInt32LE(fmtSize, 4);
  const dh = Buffer.alloc(8);
  dh.write('data', 0);
  dh.writeUInt32LE(data.length, 4);
  return Buffer.concat([head, fh, fmt, dh, data]);
}

describe('resampling', () => {
  it('keeps a tone in band at its level and frequency: 11025, 6000, 16000, 22050 Hz to 8 kHz and back', () => {
    for (const from of [6000, 11025, 16000, 22050]) {
      const input = tone(from, 1000, 440, 10_000);
      const out = resample(input, 8000);
      assert.equal(out.sampleRate, 8000);
      assert.equal(out.samples.length, 8000);
      const expected = tone(8000, 1000, 440, 10_000).samples;
      // Compare away from the edges, where the kernel runs out of input.
      assert.ok(relativeError(expected.subarray(100, 7900), out.samples.subarray(100, 7900)) < 0.02, `from ${from}`);
    }
  });

  it('removes what the lower rate cannot carry instead of aliasing it (a 5 kHz tone from 22.05 kHz)', () => {
    const out = resample(tone(22050, 500, 5000, 10_000), 8000);
    assert.ok(rms(out.samples.subarray(200, 3800)) < 150, `rms ${rms(out.samples.subarray(200, 3800))}`);
  });

  it('same rate is a copy; bad rates throw', () => {
    const input = tone(8000, 10);
    const out = resample(input, 8000);
    assert.deepEqual(out.samples, input.samples);
    assert.notEqual(out.samples, input.samples);
    assert.throws(() => resample(input, 0), AgiArgumentError);
  });
});

describe('level analysis (audio detected)', () => {
  it('silence and faint noise: no audio; a tone or speech-level signal: audio', () => {
    assert.equal(analyseLevels(silence(8000, 2000)).audioDetected, false);
    assert.equal(analyseLevels(tone(8000, 2000, 440, 150)).audioDetected, false);
    const loud = analyseLevels(tone(8000, 500, 440, 3000));
    assert.equal(loud.audioDetected, true);
    assert.ok(Math.abs(loud.rms - 3000 / Math.SQRT2) < 5);
    assert.equal(loud.peak, 3000);
    assert.equal(loud.durationMs, 500);
  });

  it('needs sustained sound: one click is not audio, 60 ms of tone is', () => {
    const click = silence(8000, 1000);
    click.samples[4000] = 30_000;
    const report = analyseLevels(click);
    assert.equal(report.audioDetected, false);
    assert.equal(report.peak, 30_000);
    assert.equal(analyseLevels(concat(silence(8000, 500), tone(8000, 40, 440, 5000), silence(8000, 500))).audioDetected, false);
    assert.equal(analyseLevels(concat(silence(8000, 500), tone(8000, 60, 440, 5000), silence(8000, 500))).audioDetected, true);
    assert.equal(analyseLevels({ sampleRate: 8000, samples: new Int16Array(0) }).audioDetected, false);
  });
});

describe('Asterisk formats', () => {
  it('extensions: known audio extensions are recognised and stripped, other dots kept', () => {
    assert.equal(audioExtension('/a/b/msg.wav'), 'wav');
    assert.equal(audioExtension('digits/5'), '');
    assert.equal(audioExtension('my.name'), '');
    assert.equal(withoutAudioExtension('/x/my.file.alaw'), '/x/my.file');
    assert.equal(withoutAudioExtension('hello-world'), 'hello-world');
  });

  it('plays as is: 8 kHz 16-bit mono WAV and headerless formats; not A-law WAV, 11 kHz or 8-bit WAV, nor .vox', () => {
    assert.equal(asteriskPlaysAsIs('wav', encodeWav(tone(8000, 100), 'pcm16')), true);
    assert.equal(asteriskPlaysAsIs('wav16', encodeWav(tone(16000, 100), 'pcm16')), true);
    assert.equal(asteriskPlaysAsIs('wav', encodeWav(tone(8000, 100), 'alaw')), false);
    assert.equal(asteriskPlaysAsIs('wav', encodeWav(tone(11025, 100), 'pcm16')), false);
    assert.equal(asteriskPlaysAsIs('wav', encodeWav(tone(8000, 100), 'pcm8')), false);
    assert.equal(asteriskPlaysAsIs('wav', Buffer.from('junk')), false);
    for (const ext of ['alaw', 'ulaw', 'sln', 'gsm', 'sln16', 'g722']) assert.equal(asteriskPlaysAsIs(ext, Buffer.alloc(0)), true, ext);
    assert.equal(asteriskPlaysAsIs('vox', Buffer.alloc(0)), false);
  });

  it('truncateAudioFile: WAV through truncateWav, headerless formats at whole samples or GSM frames', () => {
    const bytes = Buffer.alloc(1000, 0xd5);
    assert.equal(truncateAudioFile(bytes, 'alaw', 999).length, 999);
    assert.equal(truncateAudioFile(bytes, 'sln', 999).length, 998);
    assert.equal(truncateAudioFile(bytes, 'gsm', 999).length, 990);
    assert.equal(truncateAudioFile(bytes, 'alaw', 1000), bytes);
    assert.equal(truncateAudioFile(encodeWav(tone(8000, 100), 'pcm16'), 'wav16', 145).length, 144);
    assert.throws(() => truncateAudioFile(bytes, 'mp3', 10), AudioFormatError);
  });

  it('durations from size or header; decoding of headerless formats by extension', () => {
    assert.equal(audioDurationMs(Buffer.alloc(8000), 'alaw'), 1000);
    assert.equal(audioDurationMs(Buffer.alloc(16000), 'sln'), 1000);
    assert.equal(audioDurationMs(Buffer.alloc(1650), 'gsm'), 1000);
    assert.equal(audioDurationMs(encodeWav(tone(11025, 2000), 'pcm16'), 'wav'), 2000);
    assert.equal(audioDurationMs(Buffer.alloc(10), 'mp3'), undefined);
    const samples = tone(8000, 100).samples;
    const alaw = Buffer.from(samples.map((s) => linearToAlaw(s)));
    assert.ok(maxError(samples, decodeAudioFile(alaw, 'alaw').samples) < 200);
    assert.equal(decodeAudioFile(encodeOkiAdpcm(samples), 'vox').sampleRate, 8000);
    assert.throws(() => decodeAudioFile(Buffer.alloc(33), 'gsm'), /cannot decode/);
  });
});

describe('recording cipher', () => {
  it('AES-256-GCM: magic, nonce, tag; decrypts with the key, refuses another key or altered data', () => {
    const key = Buffer.alloc(32, 1);
    const plain = encodeWav(tone(8000, 100), 'pcm16');
    const sealed = encryptRecording(plain, { key });
    assert.equal(sealed.subarray(0, 8).toString('ascii'), 'AGIKENC1');
    assert.equal(sealed.length, 8 + 12 + plain.length + 16);
    assert.notDeepEqual(encryptRecording(plain, { key }).subarray(8, 20), sealed.subarray(8, 20), 'a fresh nonce each time');
    assert.deepEqual(decryptRecording(sealed, { key }), plain);
    assert.throws(() => decryptRecording(sealed, { key: Buffer.alloc(32, 2) }));
    const altered = Buffer.from(sealed);
    altered[30] = (altered[30] as number) ^ 1;
    assert.throws(() => decryptRecording(altered, { key }));
    assert.throws(() => decryptRecording(plain, { key }), /not an agikit encrypted recording/);
    assert.throws(() => encryptRecording(plain, { key: Buffer.alloc(16) }), /32-byte key/);
  });
});
