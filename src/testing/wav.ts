/**
 * Minimal reader for the 16-bit PCM WAV files Asterisk's format_wav writes
 * (`RECORD FILE name wav ...`, Record(name.wav)), so live tests can check
 * that a recording holds sound rather than silence without extra tools in
 * the container.
 *
 * @module
 */

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
  const buf = Buffer.from(wav.buffer, wav.byteOffset, wav.byteLength);
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error('not a RIFF/WAVE file');
  }
  let offset = 12;
  let sampleRate = 0;
  let channels = 0;
  let bits = 0;
  let format = 0;
  let data: Buffer | undefined;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ' && body + 16 <= buf.length) {
      format = buf.readUInt16LE(body);
      channels = buf.readUInt16LE(body + 2);
      sampleRate = buf.readUInt32LE(body + 4);
      bits = buf.readUInt16LE(body + 14);
    } else if (id === 'data') {
      // Asterisk fixes the sizes up when it closes the file; a file still
      // being written may claim more than is there.
      data = buf.subarray(body, Math.min(buf.length, body + size));
      break;
    }
    offset = body + size + (size % 2);
  }
  if (format !== 1 || bits !== 16 || channels < 1 || sampleRate < 1 || data === undefined) {
    throw new Error(`unsupported WAV (format ${format}, ${bits} bits, ${channels} channels)`);
  }
  const count = Math.floor(data.length / 2);
  let peak = 0;
  let sumSquares = 0;
  for (let i = 0; i < count; i++) {
    const s = data.readInt16LE(i * 2);
    const a = Math.abs(s);
    if (a > peak) peak = a;
    sumSquares += s * s;
  }
  const samples = Math.floor(count / channels);
  return {
    sampleRate,
    channels,
    samples,
    durationSeconds: samples / sampleRate,
    peak,
    rms: count === 0 ? 0 : Math.sqrt(sumSquares / count),
  };
}
