/**
 * Minimal reader for the 16-bit PCM WAV files Asterisk's format_wav writes
 * (`RECORD FILE name wav ...`, Record(name.wav)), so live tests can check
 * that a recording holds sound rather than silence without extra tools in
 * the container.
 *
 * @module
 */

import { decodeS16le, parseWav, WavFormatTag } from '../media/audio.js';

/** Level statistics of a 16-bit PCM WAV file. */
export interface WavStats {
  /** Sample rate in Hz (8000 for `wav`, 16000 for `wav16`). */
  readonly sampleRate: number;
  /** Number of channels (Asterisk writes mono). */
  readonly channels: number;
  /** Number of samples per channel. */
  readonly samples: number;
  /** Duration in seconds. */
  readonly durationSeconds: number;
  /** Largest absolute sample value, 0..32768. */
  readonly peak: number;
  /** Root mean square of all samples, 0..32768 (0 for an empty file). */
  readonly rms: number;
}

/**
 * Parse a 16-bit PCM WAV file and compute its level statistics.
 *
 * @param wav - the whole file, e.g. from `LiveAsterisk.readFile()`
 * @returns sample rate, duration, peak and RMS level
 * @throws Error if the data is not a 16-bit PCM RIFF/WAVE file
 */
export function wavStats(wav: Uint8Array): WavStats {
  const { formatTag, bitsPerSample: bits, channels, sampleRate, data } = parseWav(wav);
  if (formatTag !== WavFormatTag.Pcm || bits !== 16 || channels < 1 || sampleRate < 1) {
    throw new Error(`unsupported WAV (format ${formatTag}, ${bits} bits, ${channels} channels)`);
  }
  const all = decodeS16le(data);
  let peak = 0;
  let sumSquares = 0;
  for (const s of all) {
    const a = Math.abs(s);
    if (a > peak) peak = a;
    sumSquares += s * s;
  }
  const samples = Math.floor(all.length / channels);
  return {
    sampleRate,
    channels,
    samples,
    durationSeconds: samples / sampleRate,
    peak,
    rms: all.length === 0 ? 0 : Math.sqrt(sumSquares / all.length),
  };
}
