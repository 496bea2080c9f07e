/**
 * Pure audio helpers for the media layer: WAV parsing and writing, G.711 A-law and µ-law, IMA and
 * OKI (Dialogic) ADPCM, 8-bit unsigned PCM, resampling, and the level analysis behind
 * `FileRecorder.audioDetectedInRecording()`. No I/O: everything works on buffers and sample arrays,
 * so each piece is unit-tested on its own.
 *
 * Audio is handled as {@link PcmAudio}: mono signed 16-bit samples at a sample rate. Files with more
 * than one channel are mixed down to mono when decoded (telephone calls are mono).
 *
 * @module
 */

import { AgiArgumentError } from '../errors.js';
import { AudioFormatError } from './errors.js';

/** Mono signed 16-bit audio. */
export interface PcmAudio {
  /** Samples per second. */
  readonly sampleRate: number;
  /** The samples, -32768..32767. */
  readonly samples: Int16Array;
}

// ---------------------------------------------------------------------------
// G.711
// ---------------------------------------------------------------------------

/** Upper ends of the eight A-law segments, in 13-bit magnitude. */
const ALAW_SEGMENT_ENDS = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
/** Upper ends of the eight µ-law segments, in biased 14-bit magnitude. */
const ULAW_SEGMENT_ENDS = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
const ULAW_BIAS = 0x84;
const ULAW_CLIP = 8159;

function segmentOf(value: number, ends: readonly number[]): number {
  for (let i = 0; i < ends.length; i++) if (value <= (ends[i] as number)) return i;
  return ends.length;
}

/** Decodes one G.711 A-law byte to a 16-bit sample (exact: A-law's values are a subset of 16-bit PCM). */
export function alawToLinear(byte: number): number {
  const a = (byte & 0xff) ^ 0x55;
  const segment = (a & 0x70) >> 4;
  let magnitude = (a & 0x0f) << 4;
  if (segment === 0) magnitude += 8;
  else magnitude = (magnitude + 0x108) << (segment - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

/** Encodes one 16-bit sample as G.711 A-law (ITU-T G.711 segment rule, truncating within a segment). */
export function linearToAlaw(sample: number): number {
  let value = clamp16(sample) >> 3;
  let mask: number;
  if (value >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    value = -value - 1;
  }
  const segment = segmentOf(value, ALAW_SEGMENT_ENDS);
  if (segment >= 8) return 0x7f ^ mask;
  const mantissa = segment < 2 ? (value >> 1) & 0x0f : (value >> segment) & 0x0f;
  return ((segment << 4) | mantissa) ^ mask;
}

/** Decodes one G.711 µ-law byte to a 16-bit sample (exact). */
export function ulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const magnitude = ((((u & 0x0f) << 3) + ULAW_BIAS) << ((u & 0x70) >> 4)) - ULAW_BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

/** Encodes one 16-bit sample as G.711 µ-law (ITU-T G.711, biased segments, clipped at ±8159·4). */
export function linearToUlaw(sample: number): number {
  let value = clamp16(sample) >> 2;
  let mask: number;
  if (value < 0) {
    value = -value;
    mask = 0x7f;
  } else {
    mask = 0xff;
  }
  if (value > ULAW_CLIP) value = ULAW_CLIP;
  value += ULAW_BIAS >> 2;
  const segment = segmentOf(value, ULAW_SEGMENT_ENDS);
  if (segment >= 8) return 0x7f ^ mask;
  return ((segment << 4) | ((value >> (segment + 1)) & 0x0f)) ^ mask;
}

/** Decodes a buffer of A-law bytes. */
export function decodeAlaw(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = alawToLinear(bytes[i] as number);
  return out;
}

/** Encodes samples as A-law bytes. */
export function encodeAlaw(samples: Int16Array): Buffer {
  const out = Buffer.alloc(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = linearToAlaw(samples[i] as number);
  return out;
}

/** Decodes a buffer of µ-law bytes. */
export function decodeUlaw(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = ulawToLinear(bytes[i] as number);
  return out;
}

/** Encodes samples as µ-law bytes. */
export function encodeUlaw(samples: Int16Array): Buffer {
  const out = Buffer.alloc(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = linearToUlaw(samples[i] as number);
  return out;
}

// ---------------------------------------------------------------------------
// 8-bit unsigned and 16-bit PCM
// ---------------------------------------------------------------------------

/** Decodes 8-bit unsigned PCM (128 is zero) to 16-bit samples. */
export function decodeU8(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = ((bytes[i] as number) - 128) << 8;
  return out;
}

/** Encodes 16-bit samples as 8-bit unsigned PCM, rounding to the nearest step. */
export function encodeU8(samples: Int16Array): Buffer {
  const out = Buffer.alloc(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = Math.min(255, Math.max(0, Math.round((samples[i] as number) / 256) + 128));
  return out;
}

/** Reads little-endian signed 16-bit samples (an odd trailing byte is ignored). */
export function decodeS16le(bytes: Uint8Array): Int16Array {
  const count = bytes.length >> 1;
  const out = new Int16Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, count * 2);
  for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

/** Writes samples as little-endian signed 16-bit bytes. */
export function encodeS16le(samples: Int16Array): Buffer {
  const out = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i] as number, i * 2);
  return out;
}

// ---------------------------------------------------------------------------
// ADPCM: IMA (WAV format 0x11) and OKI / Dialogic (.vox, WAV formats 0x10 and 0x17)
// ---------------------------------------------------------------------------

/** The 89 quantiser step sizes of IMA ADPCM; OKI ADPCM uses entries 8..56 (16..1552). */
export const IMA_STEP_TABLE: readonly number[] = [
  7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 19, 21, 23, 25, 28, 31, 34, 37, 41, 45, 50, 55, 60, 66, 73, 80, 88, 97, 107, 118, 130, 143,
  157, 173, 190, 209, 230, 253, 279, 307, 337, 371, 408, 449, 494, 544, 598, 658, 724, 796, 876, 963, 1060, 1166, 1282, 1411, 1552,
  1707, 1878, 2066, 2272, 2499, 2749, 3024, 3327, 3660, 4026, 4428, 4871, 5358, 5894, 6484, 7132, 7845, 8630, 9493, 10442, 11487,
  12635, 13899, 15289, 16818, 18500, 20350, 22385, 24623, 27086, 29794, 32767,
];
/** OKI ADPCM's 49 step sizes. */
export const OKI_STEP_TABLE: readonly number[] = IMA_STEP_TABLE.slice(8, 57);
/** How a 4-bit code moves the step index (the same for IMA and OKI; the sign bit is ignored). */
const ADPCM_INDEX_ADJUST = [-1, -1, -1, -1, 2, 4, 6, 8];

/** State of one ADPCM channel: the predicted sample and the step index. */
interface AdpcmState {
  predictor: number;
  index: number;
}

/** The difference a 4-bit code stands for at a step size (the standard shift-and-add form). */
function adpcmDifference(code: number, step: number): number {
  let diff = step >> 3;
  if (code & 4) diff += step;
  if (code & 2) diff += step >> 1;
  if (code & 1) diff += step >> 2;
  return code & 8 ? -diff : diff;
}

/** Decodes one code and updates the state; `table` and `limit` pick IMA (16-bit) or OKI (12-bit). */
function adpcmDecodeNibble(state: AdpcmState, code: number, table: readonly number[], min: number, max: number): number {
  const step = table[state.index] as number;
  state.predictor = Math.min(max, Math.max(min, state.predictor + adpcmDifference(code, step)));
  state.index = Math.min(table.length - 1, Math.max(0, state.index + (ADPCM_INDEX_ADJUST[code & 7] as number)));
  return state.predictor;
}

/** Chooses the code whose reconstruction is closest to `target`, then advances the state as a decoder would. */
function adpcmEncodeSample(state: AdpcmState, target: number, table: readonly number[], min: number, max: number): number {
  const step = table[state.index] as number;
  let delta = target - state.predictor;
  let code = 0;
  if (delta < 0) {
    code = 8;
    delta = -delta;
  }
  let threshold = step;
  for (const bit of [4, 2, 1]) {
    if (delta >= threshold) {
      code |= bit;
      delta -= threshold;
    }
    threshold >>= 1;
  }
  adpcmDecodeNibble(state, code, table, min, max);
  return code;
}

/** Samples in one IMA ADPCM block of a mono WAV file: the header sample plus two per data byte. */
export function imaSamplesPerBlock(blockAlign: number): number {
  return (blockAlign - 4) * 2 + 1;
}

/**
 * Decodes mono IMA ADPCM as stored in WAV files (format 0x11): blocks of `blockAlign` bytes, each a
 * 4-byte header (first sample, step index, reserved) and then 4-bit codes, low nibble first. A
 * short last block decodes as far as it goes.
 */
export function decodeImaAdpcm(data: Uint8Array, blockAlign: number): Int16Array {
  if (blockAlign < 5) throw new AudioFormatError(`IMA ADPCM block size ${blockAlign} is too small`);
  const out: number[] = [];
  for (let block = 0; block + 4 <= data.length; block += blockAlign) {
    const end = Math.min(data.length, block + blockAlign);
    const first = (data[block] as number) | ((data[block + 1] as number) << 8);
    const state: AdpcmState = { predictor: first >= 0x8000 ? first - 0x10000 : first, index: Math.min(88, data[block + 2] as number) };
    out.push(state.predictor);
    for (let i = block + 4; i < end; i++) {
      const byte = data[i] as number;
      out.push(adpcmDecodeNibble(state, byte & 0x0f, IMA_STEP_TABLE, -32768, 32767));
      out.push(adpcmDecodeNibble(state, byte >> 4, IMA_STEP_TABLE, -32768, 32767));
    }
  }
  return Int16Array.from(out);
}

/**
 * Encodes mono samples as WAV IMA ADPCM blocks of `blockAlign` bytes (default 256, the usual size
 * at 8 kHz). Each block restarts from its first sample, so blocks decode independently; the last
 * block is padded with silence codes.
 */
export function encodeImaAdpcm(samples: Int16Array, blockAlign = 256): Buffer {
  const perBlock = imaSamplesPerBlock(blockAlign);
  const blocks = Math.ceil(samples.length / perBlock);
  const out = Buffer.alloc(blocks * blockAlign);
  // Start with a step that fits the signal's first change, instead of ramping up from the smallest.
  const firstChange = Math.abs(((samples[1] ?? 0) as number) - ((samples[0] ?? 0) as number));
  const startIndex = IMA_STEP_TABLE.findIndex((step) => step >= firstChange);
  const state: AdpcmState = { predictor: 0, index: startIndex < 0 ? 88 : startIndex };
  for (let b = 0; b < blocks; b++) {
    const start = b * perBlock;
    const base = b * blockAlign;
    state.predictor = samples[start] as number;
    out.writeInt16LE(state.predictor, base);
    out[base + 2] = state.index;
    let i = start + 1;
    for (let byte = base + 4; byte < base + blockAlign; byte++) {
      const low = i < samples.length ? adpcmEncodeSample(state, samples[i] as number, IMA_STEP_TABLE, -32768, 32767) : 0;
      i++;
      const high = i < samples.length ? adpcmEncodeSample(state, samples[i] as number, IMA_STEP_TABLE, -32768, 32767) : 0;
      i++;
      out[byte] = low | (high << 4);
    }
  }
  return out;
}

/**
 * Decodes OKI (Dialogic) 4-bit ADPCM, high nibble first, as in `.vox` files. The codec works on 12-bit
 * samples, which are scaled to 16 bits.
 */
export function decodeOkiAdpcm(data: Uint8Array): Int16Array {
  const out = new Int16Array(data.length * 2);
  const state: AdpcmState = { predictor: 0, index: 0 };
  for (let i = 0; i < data.length; i++) {
    const byte = data[i] as number;
    out[2 * i] = adpcmDecodeNibble(state, byte >> 4, OKI_STEP_TABLE, -2048, 2047) << 4;
    out[2 * i + 1] = adpcmDecodeNibble(state, byte & 0x0f, OKI_STEP_TABLE, -2048, 2047) << 4;
  }
  return out;
}

/** Encodes samples as OKI (Dialogic) ADPCM, high nibble first (an odd count is padded with one sample). */
export function encodeOkiAdpcm(samples: Int16Array): Buffer {
  const out = Buffer.alloc(Math.ceil(samples.length / 2));
  const state: AdpcmState = { predictor: 0, index: 0 };
  for (let i = 0; i < out.length; i++) {
    const a = (samples[2 * i] as number) >> 4;
    const b = 2 * i + 1 < samples.length ? (samples[2 * i + 1] as number) >> 4 : state.predictor;
    const high = adpcmEncodeSample(state, a, OKI_STEP_TABLE, -2048, 2047);
    const low = adpcmEncodeSample(state, b, OKI_STEP_TABLE, -2048, 2047);
    out[i] = (high << 4) | low;
  }
  return out;
}

// ---------------------------------------------------------------------------
// WAV
// ---------------------------------------------------------------------------

/** WAV `fmt ` format tags agikit understands. */
export const WavFormatTag = {
  Pcm: 0x0001,
  Float: 0x0003,
  Alaw: 0x0006,
  Ulaw: 0x0007,
  OkiAdpcm: 0x0010,
  ImaAdpcm: 0x0011,
  DialogicOkiAdpcm: 0x0017,
  Extensible: 0xfffe,
} as const;

/** What a WAV file's header says. */
export interface WavInfo {
  /** The format tag (for WAVE_FORMAT_EXTENSIBLE: the sub-format's tag). */
  readonly formatTag: number;
  readonly channels: number;
  readonly sampleRate: number;
  readonly bitsPerSample: number;
  readonly blockAlign: number;
  /** Bytes per second as the header states it. */
  readonly byteRate: number;
  /** The audio bytes (clipped to what the buffer holds: a file still being written may claim more). */
  readonly data: Buffer;
}

/**
 * Parses a RIFF/WAVE file's `fmt ` and `data` chunks. Tolerates the oversized lengths that streaming
 * writers (espeak-ng to stdout, a recording still open) put in the header.
 */
export function parseWav(file: Uint8Array): WavInfo {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new AudioFormatError('not a RIFF/WAVE file');
  }
  let offset = 12;
  let fmt: Omit<WavInfo, 'data'> | undefined;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (body + 16 > buf.length) throw new AudioFormatError('truncated fmt chunk');
      let formatTag = buf.readUInt16LE(body);
      if (formatTag === WavFormatTag.Extensible && size >= 40 && body + 26 <= buf.length) formatTag = buf.readUInt16LE(body + 24);
      fmt = {
        formatTag,
        channels: buf.readUInt16LE(body + 2),
        sampleRate: buf.readUInt32LE(body + 4),
        byteRate: buf.readUInt32LE(body + 8),
        blockAlign: buf.readUInt16LE(body + 12),
        bitsPerSample: buf.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!fmt) throw new AudioFormatError('data chunk before fmt chunk');
      return { ...fmt, data: buf.subarray(body, Math.min(buf.length, body + size)) };
    }
    offset = body + size + (size % 2);
  }
  throw new AudioFormatError(fmt ? 'no data chunk' : 'no fmt chunk');
}

/**
 * Cuts a WAV file so that it is at most `maxBytes` long: whole blocks (samples) of its data chunk are
 * kept, chunks after the data are dropped, and the RIFF size, the data size and the `fact` sample
 * count are rewritten to match. A data chunk of odd length gets its pad byte, within `maxBytes`.
 * Returns the file as it is when it already fits.
 *
 * @throws AudioFormatError when the bytes are not a WAV file, or its header alone exceeds `maxBytes`
 */
export function truncateWav(file: Uint8Array, maxBytes: number): Buffer {
  const buf = Buffer.isBuffer(file) ? file : Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (buf.length <= maxBytes) return buf;
  const info = parseWav(buf);
  const { dataAt, factAt } = wavLayout(buf);
  if (dataAt > maxBytes) throw new AudioFormatError(`a WAV header of ${dataAt} bytes does not fit in ${maxBytes} bytes`);
  const block = Math.max(1, info.blockAlign);
  let keep = Math.min(info.data.length, Math.floor((maxBytes - dataAt) / block) * block);
  if (keep % 2 === 1 && dataAt + keep + 1 > maxBytes) keep -= block;
  keep = Math.max(0, keep);
  const out = Buffer.concat([buf.subarray(0, dataAt + keep), Buffer.alloc(keep % 2)]);
  out.writeUInt32LE(out.length - 8, 4);
  out.writeUInt32LE(keep, dataAt - 4);
  if (factAt !== undefined) {
    const perBlock = info.formatTag === WavFormatTag.ImaAdpcm ? imaSamplesPerBlock(block) : 1;
    out.writeUInt32LE(Math.min(out.readUInt32LE(factAt), (keep / block) * perBlock), factAt);
  }
  return out;
}

/**
 * `true` when a WAV file's data chunk declares exactly the bytes that follow it (a writer that has
 * finished, as opposed to one still writing or whose header is not updated yet).
 */
export function wavIsComplete(file: Uint8Array): boolean {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  try {
    const { dataAt, dataSize } = wavLayout(buf);
    return dataAt + dataSize + (dataSize % 2) === buf.length;
  } catch {
    return false;
  }
}

/** Where a WAV file's data chunk body starts, its declared size, and where the fact chunk's body is. */
function wavLayout(buf: Buffer): { dataAt: number; dataSize: number; factAt: number | undefined } {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new AudioFormatError('not a RIFF/WAVE file');
  }
  let factAt: number | undefined;
  for (let offset = 12; offset + 8 <= buf.length; ) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    if (id === 'fact' && size >= 4) factAt = offset + 8;
    if (id === 'data') return { dataAt: offset + 8, dataSize: size, factAt };
    offset += 8 + size + (size % 2);
  }
  throw new AudioFormatError('no data chunk');
}

/** Mixes interleaved channels down to mono by averaging. */
function toMono(samples: Int16Array, channels: number): Int16Array {
  if (channels <= 1) return samples;
  const frames = Math.floor(samples.length / channels);
  const out = new Int16Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += samples[f * channels + c] as number;
    out[f] = Math.round(sum / channels);
  }
  return out;
}

/**
 * Decodes a WAV file to mono 16-bit PCM: 8-bit unsigned, 16/24/32-bit PCM, 32-bit float, A-law,
 * µ-law, IMA ADPCM and OKI ADPCM (mono only for the ADPCM formats).
 *
 * @throws AudioFormatError for anything else
 */
export function decodeWav(file: Uint8Array): PcmAudio {
  const info = parseWav(file);
  const { formatTag, channels, bitsPerSample, data } = info;
  if (channels < 1 || info.sampleRate < 1) throw new AudioFormatError(`bad WAV header (${channels} channels, ${info.sampleRate} Hz)`);
  let interleaved: Int16Array;
  switch (formatTag) {
    case WavFormatTag.Pcm:
      if (bitsPerSample === 8) interleaved = decodeU8(data);
      else if (bitsPerSample === 16) interleaved = decodeS16le(data);
      else if (bitsPerSample === 24 || bitsPerSample === 32) interleaved = decodeWidePcm(data, bitsPerSample / 8);
      else throw new AudioFormatError(`unsupported PCM sample size: ${bitsPerSample} bits`);
      break;
    case WavFormatTag.Float:
      if (bitsPerSample !== 32) throw new AudioFormatError(`unsupported float sample size: ${bitsPerSample} bits`);
      interleaved = decodeFloat32(data);
      break;
    case WavFormatTag.Alaw:
      interleaved = decodeAlaw(data);
      break;
    case WavFormatTag.Ulaw:
      interleaved = decodeUlaw(data);
      break;
    case WavFormatTag.ImaAdpcm:
      if (channels !== 1) throw new AudioFormatError('only mono IMA ADPCM is supported');
      return { sampleRate: info.sampleRate, samples: decodeImaAdpcm(data, info.blockAlign) };
    case WavFormatTag.OkiAdpcm:
    case WavFormatTag.DialogicOkiAdpcm:
      if (channels !== 1) throw new AudioFormatError('only mono OKI ADPCM is supported');
      return { sampleRate: info.sampleRate, samples: decodeOkiAdpcm(data) };
    default:
      throw new AudioFormatError(`unsupported WAV format tag 0x${formatTag.toString(16)}`);
  }
  return { sampleRate: info.sampleRate, samples: toMono(interleaved, channels) };
}

function decodeWidePcm(data: Buffer, bytes: number): Int16Array {
  const count = Math.floor(data.length / bytes);
  const out = new Int16Array(count);
  // The two most significant bytes of a little-endian sample are its 16-bit value.
  for (let i = 0; i < count; i++) out[i] = data.readInt16LE(i * bytes + bytes - 2);
  return out;
}

function decodeFloat32(data: Buffer): Int16Array {
  const count = data.length >> 2;
  const out = new Int16Array(count);
  for (let i = 0; i < count; i++) out[i] = clamp16(Math.round(data.readFloatLE(i * 4) * 32767));
  return out;
}

/** How {@link encodeWav} stores samples. */
export type WavEncoding = 'pcm16' | 'pcm8' | 'alaw' | 'ulaw' | 'ima-adpcm';

/** Builds a mono WAV file in one of the {@link WavEncoding}s. */
export function encodeWav(audio: PcmAudio, encoding: WavEncoding = 'pcm16'): Buffer {
  const { sampleRate: rate, samples } = audio;
  switch (encoding) {
    case 'pcm16':
      return wrapWav(encodeS16le(samples), encoding, rate);
    case 'pcm8':
      return wrapWav(encodeU8(samples), encoding, rate);
    case 'alaw':
      return wrapWav(encodeAlaw(samples), encoding, rate);
    case 'ulaw':
      return wrapWav(encodeUlaw(samples), encoding, rate);
    case 'ima-adpcm': {
      const blockAlign = imaBlockAlignFor(rate);
      const perBlock = imaSamplesPerBlock(blockAlign);
      // cbSize 2, then the samples per block.
      const extra = Buffer.alloc(4);
      extra.writeUInt16LE(2, 0);
      extra.writeUInt16LE(perBlock, 2);
      const fmt = { formatTag: WavFormatTag.ImaAdpcm, rate, byteRate: Math.floor((rate * blockAlign) / perBlock), blockAlign, bits: 4, extra };
      return buildWav(fmt, encodeImaAdpcm(samples, blockAlign), samples.length);
    }
  }
}

/**
 * A mono WAV file around audio already encoded in a sample-per-block encoding (16-bit or 8-bit PCM,
 * A-law, µ-law): the bytes are kept as they are, the header says what they are. A-law and µ-law get
 * a `cbSize` field and a `fact` chunk, as non-PCM WAV files must.
 */
export function wrapWav(data: Uint8Array, encoding: 'pcm16' | 'pcm8' | 'alaw' | 'ulaw', sampleRate: number): Buffer {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (encoding === 'pcm16' || encoding === 'pcm8') {
    const width = encoding === 'pcm16' ? 2 : 1;
    const fmt = { formatTag: WavFormatTag.Pcm, rate: sampleRate, byteRate: sampleRate * width, blockAlign: width, bits: 8 * width, extra: Buffer.alloc(0) };
    return buildWav(fmt, bytes, undefined);
  }
  const formatTag = encoding === 'alaw' ? WavFormatTag.Alaw : WavFormatTag.Ulaw;
  return buildWav({ formatTag, rate: sampleRate, byteRate: sampleRate, blockAlign: 1, bits: 8, extra: Buffer.alloc(2) }, bytes, bytes.length);
}

/** The fields of a mono `fmt ` chunk; `extra` follows the 16 standard bytes. */
interface WavFmt {
  readonly formatTag: number;
  readonly rate: number;
  readonly byteRate: number;
  readonly blockAlign: number;
  readonly bits: number;
  readonly extra: Buffer;
}

/** RIFF/WAVE: `fmt `, a `fact` chunk when `factSamples` is given, then `data`. */
function buildWav(format: WavFmt, data: Buffer, factSamples: number | undefined): Buffer {
  const fmt = Buffer.alloc(16);
  fmt.writeUInt16LE(format.formatTag, 0);
  fmt.writeUInt16LE(1, 2);
  fmt.writeUInt32LE(format.rate, 4);
  fmt.writeUInt32LE(format.byteRate, 8);
  fmt.writeUInt16LE(format.blockAlign, 12);
  fmt.writeUInt16LE(format.bits, 14);
  const chunks = [chunk('fmt ', Buffer.concat([fmt, format.extra])), ...(factSamples === undefined ? [] : [factChunk(factSamples)]), chunk('data', data)];
  const body = Buffer.concat(chunks);
  const header = Buffer.alloc(12);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(4 + body.length, 4);
  header.write('WAVE', 8, 'ascii');
  return Buffer.concat([header, body]);
}

/** IMA ADPCM block size conventionally used at a sample rate (256 bytes per 8 kHz, doubling above). */
export function imaBlockAlignFor(sampleRate: number): number {
  return sampleRate <= 11025 ? 256 : sampleRate <= 22050 ? 512 : 1024;
}

function factChunk(samples: number): Buffer {
  const body = Buffer.alloc(4);
  body.writeUInt32LE(samples, 0);
  return chunk('fact', body);
}

function chunk(id: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write(id, 0, 'ascii');
  head.writeUInt32LE(body.length, 4);
  return body.length % 2 ? Buffer.concat([head, body, Buffer.alloc(1)]) : Buffer.concat([head, body]);
}

// ---------------------------------------------------------------------------
// Resampling
// ---------------------------------------------------------------------------

/** Zero crossings of the windowed-sinc kernel on each side, at the narrower of the two rates. */
const RESAMPLE_ZERO_CROSSINGS = 16;

/**
 * Converts audio to another sample rate with a windowed-sinc (Blackman) interpolator whose cut-off is
 * just under the lower rate's Nyquist frequency, so downsampling (22.05 kHz speech to 8 kHz) does not
 * alias and upsampling (6 kHz to 8 kHz) does not image. Unchanged rates return a copy.
 */
export function resample(audio: PcmAudio, targetRate: number): PcmAudio {
  const from = audio.sampleRate;
  if (!(targetRate > 0) || !(from > 0)) throw new AgiArgumentError(`bad sample rates ${from} -> ${targetRate}`);
  const input = audio.samples;
  if (from === targetRate) return { sampleRate: targetRate, samples: Int16Array.from(input) };
  const outputLength = Math.floor((input.length * targetRate) / from);
  const output = new Int16Array(outputLength);
  // Cut-off as a fraction of the input's Nyquist frequency, slightly below the lower rate's.
  const cutoff = Math.min(1, targetRate / from) * 0.94;
  const halfWidth = Math.ceil(RESAMPLE_ZERO_CROSSINGS / cutoff);
  const step = from / targetRate;
  for (let n = 0; n < outputLength; n++) {
    const centre = n * step;
    const first = Math.max(0, Math.floor(centre) - halfWidth + 1);
    const last = Math.min(input.length - 1, Math.floor(centre) + halfWidth);
    let sum = 0;
    for (let k = first; k <= last; k++) {
      const distance = centre - k;
      sum += (input[k] as number) * cutoff * sinc(cutoff * distance) * blackman(distance / halfWidth);
    }
    output[n] = clamp16(Math.round(sum));
  }
  return { sampleRate: targetRate, samples: output };
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

/** Blackman window over -1..1 (0 outside). */
function blackman(x: number): number {
  if (x <= -1 || x >= 1) return 0;
  return 0.42 + 0.5 * Math.cos(Math.PI * x) + 0.08 * Math.cos(2 * Math.PI * x);
}

// ---------------------------------------------------------------------------
// Level analysis
// ---------------------------------------------------------------------------

/** Options of {@link analyseLevels}. */
export interface LevelOptions {
  /** Frame length for the per-frame RMS (default 20 ms, Asterisk's frame size). */
  frameMs?: number;
  /**
   * RMS level (0..32768) above which a frame holds audio. Default 256: Asterisk's default silence
   * threshold (dsp.conf `silencethreshold`), about -42 dBFS, well above line noise and digital silence.
   */
  threshold?: number;
  /** How much audio (sum of frames above the threshold) counts as "audio detected" (default 60 ms). */
  minAudioMs?: number;
}

/** What {@link analyseLevels} found. */
export interface LevelReport {
  /** Duration in ms. */
  readonly durationMs: number;
  /** RMS level of the whole signal, 0..32768. */
  readonly rms: number;
  /** Largest absolute sample, 0..32768. */
  readonly peak: number;
  /** Total duration of the frames whose RMS exceeds the threshold, in ms. */
  readonly audioMs: number;
  /** `audioMs` reached `minAudioMs`: the signal holds sound, not just silence or noise. */
  readonly audioDetected: boolean;
}

/**
 * Measures a signal's energy frame by frame: RMS and peak overall, and how long it is above a
 * speech-level threshold. A single click (one loud sample) does not count as audio; sustained
 * sound for `minAudioMs` does.
 */
export function analyseLevels(audio: PcmAudio, options: LevelOptions = {}): LevelReport {
  const frameMs = options.frameMs ?? 20;
  const threshold = options.threshold ?? 256;
  const minAudioMs = options.minAudioMs ?? 60;
  const { samples, sampleRate } = audio;
  const frameLength = Math.max(1, Math.round((sampleRate * frameMs) / 1000));
  let total = 0;
  let peak = 0;
  let loudSamples = 0;
  for (let start = 0; start < samples.length; start += frameLength) {
    const end = Math.min(samples.length, start + frameLength);
    let frameSum = 0;
    for (let i = start; i < end; i++) {
      const s = samples[i] as number;
      frameSum += s * s;
      const a = Math.abs(s);
      if (a > peak) peak = a;
    }
    total += frameSum;
    if (Math.sqrt(frameSum / (end - start)) > threshold) loudSamples += end - start;
  }
  const audioMs = (loudSamples * 1000) / sampleRate;
  return {
    durationMs: (samples.length * 1000) / sampleRate,
    rms: samples.length === 0 ? 0 : Math.sqrt(total / samples.length),
    peak,
    audioMs,
    audioDetected: audioMs >= minAudioMs && loudSamples > 0,
  };
}

function clamp16(value: number): number {
  return value > 32767 ? 32767 : value < -32768 ? -32768 : value | 0;
}
