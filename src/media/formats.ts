/**
 * Asterisk's sound file formats as agikit needs to know them: which file name extensions Asterisk
 * plays as they are, how many bytes a second of each takes, and how to decode the ones agikit can
 * read (for duration estimates, format conversion and audio detection).
 *
 * @module
 */

import {
  decodeAlaw,
  decodeOkiAdpcm,
  decodeS16le,
  decodeUlaw,
  decodeWav,
  parseWav,
  truncateWav,
  WavFormatTag,
  type PcmAudio,
} from './audio.js';
import { AudioFormatError } from './errors.js';

/** A headerless format Asterisk reads, by extension: its sample rate and bytes per second. */
interface RawFormat {
  readonly rate: number;
  readonly bytesPerSecond: number;
  /** Bytes of the smallest piece that can stand alone: a sample, a GSM frame. */
  readonly unitBytes: number;
  readonly decode?: (bytes: Uint8Array) => Int16Array;
}

const slin = (rate: number): RawFormat => ({ rate, bytesPerSecond: rate * 2, unitBytes: 2, decode: decodeS16le });
const alaw: RawFormat = { rate: 8000, bytesPerSecond: 8000, unitBytes: 1, decode: decodeAlaw };
const ulaw: RawFormat = { rate: 8000, bytesPerSecond: 8000, unitBytes: 1, decode: decodeUlaw };

/** Headerless formats (Asterisk's format_pcm, format_sln, format_gsm, format_vox, format_g722). */
const RAW_FORMATS: Readonly<Record<string, RawFormat>> = {
  alaw,
  al: alaw,
  alw: alaw,
  ulaw,
  ul: ulaw,
  mu: ulaw,
  ulw: ulaw,
  pcm: ulaw,
  sln: slin(8000),
  raw: slin(8000),
  sln12: slin(12000),
  sln16: slin(16000),
  sln24: slin(24000),
  sln32: slin(32000),
  sln44: slin(44100),
  sln48: slin(48000),
  sln96: slin(96000),
  sln192: slin(192000),
  // GSM 06.10: 33 bytes per 20 ms frame. agikit has no GSM decoder.
  gsm: { rate: 8000, bytesPerSecond: 1650, unitBytes: 33 },
  // OKI ADPCM at 8 kHz, as Asterisk's format_vox assumes.
  vox: { rate: 8000, bytesPerSecond: 4000, unitBytes: 1, decode: decodeOkiAdpcm },
  g722: { rate: 16000, bytesPerSecond: 8000, unitBytes: 1 },
};

/**
 * Extensions Asterisk 22 plays as they are (with the matching format module loaded). `wav` is only
 * playable when it is 16-bit PCM mono at 8 kHz (`wav16`: at 16 kHz); agikit checks that before
 * trusting it. `vox` is left out: agikit converts it, so that format_vox need not be loaded.
 */
export const ASTERISK_PLAYABLE_EXTENSIONS: ReadonlySet<string> = new Set(
  [...Object.keys(RAW_FORMATS), 'wav', 'wav16', 'WAV'].filter((ext) => ext !== 'vox'),
);

/** Extensions agikit recognises as audio files (the ones above, plus `vox`). */
export const AUDIO_EXTENSIONS: ReadonlySet<string> = new Set([...Object.keys(RAW_FORMATS), 'wav', 'wav16', 'WAV']);

/** The extension of a file name without the dot (`'wav'`), or `''` when it has none known. */
export function audioExtension(file: string): string {
  const base = file.slice(file.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return '';
  const ext = base.slice(dot + 1);
  return AUDIO_EXTENSIONS.has(ext) || AUDIO_EXTENSIONS.has(ext.toLowerCase()) ? ext : '';
}

/** The file name without its audio extension (what `STREAM FILE` and `RECORD FILE` take). */
export function withoutAudioExtension(file: string): string {
  const ext = audioExtension(file);
  return ext ? file.slice(0, -(ext.length + 1)) : file;
}

/** Bytes per second of a headerless format, or `undefined` when it has a header or is unknown. */
export function rawBytesPerSecond(ext: string): number | undefined {
  return RAW_FORMATS[ext.toLowerCase()]?.bytesPerSecond;
}

/**
 * Can Asterisk play this file as it is? Headerless formats yes; a WAV file only when it is 16-bit
 * PCM mono at 8 kHz (`.wav`) or 16 kHz (`.wav16`), which is all format_wav reads.
 */
export function asteriskPlaysAsIs(ext: string, bytes: Uint8Array): boolean {
  if (ext === 'wav' || ext === 'wav16') {
    try {
      const info = parseWav(bytes);
      return (
        info.formatTag === WavFormatTag.Pcm &&
        info.bitsPerSample === 16 &&
        info.channels === 1 &&
        info.sampleRate === (ext === 'wav' ? 8000 : 16000)
      );
    } catch {
      return false;
    }
  }
  return ASTERISK_PLAYABLE_EXTENSIONS.has(ext);
}

/**
 * Decodes an audio file by its extension: WAV in any format {@link decodeWav} reads, and the
 * headerless G.711, signed-linear and OKI ADPCM formats.
 *
 * @throws AudioFormatError for GSM and G.722 (agikit has no decoder for them) and unknown extensions
 */
export function decodeAudioFile(bytes: Uint8Array, ext: string): PcmAudio {
  const lower = ext.toLowerCase();
  if (lower === 'wav' || lower === 'wav16') return decodeWav(bytes);
  const raw = RAW_FORMATS[lower];
  if (!raw) throw new AudioFormatError(`unknown audio file extension .${ext}`);
  if (!raw.decode) throw new AudioFormatError(`agikit cannot decode .${ext} audio`);
  return { sampleRate: raw.rate, samples: raw.decode(bytes) };
}

/**
 * Duration of an audio file in ms from its size or header (no decoding), or `undefined` when
 * the format is unknown or the header unreadable.
 */
export function audioDurationMs(bytes: Uint8Array, ext: string): number | undefined {
  const lower = ext.toLowerCase();
  if (lower === 'wav' || lower === 'wav16') {
    try {
      const info = parseWav(bytes);
      return info.byteRate > 0 ? (info.data.length * 1000) / info.byteRate : undefined;
    } catch {
      return undefined;
    }
  }
  const perSecond = rawBytesPerSecond(lower);
  return perSecond === undefined ? undefined : (bytes.length * 1000) / perSecond;
}

/**
 * Cuts an audio file to at most `maxBytes`, by its extension: a WAV file with {@link truncateWav}
 * (headers rewritten), a headerless one at a whole sample or GSM frame. Returns the file as it is
 * when it already fits.
 *
 * @throws AudioFormatError for an unknown extension, or a WAV header that alone exceeds `maxBytes`
 */
export function truncateAudioFile(bytes: Uint8Array, ext: string, maxBytes: number): Buffer {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lower = ext.toLowerCase();
  if (lower === 'wav' || lower === 'wav16') return truncateWav(buf, maxBytes);
  const raw = RAW_FORMATS[lower];
  if (!raw) throw new AudioFormatError(`unknown audio file extension .${ext}`);
  if (buf.length <= maxBytes) return buf;
  return buf.subarray(0, Math.floor(maxBytes / raw.unitBytes) * raw.unitBytes);
}
