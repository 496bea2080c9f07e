/**
 * What the far leg heard, measured: test signals to play (sines and chirps as 8 kHz WAVs, served
 * over HTTP on 127.0.0.1), and analysis of the far leg's recording (loud and silent runs, RMS of a
 * stretch, the strongest frequencies of a stretch by Goertzel's algorithm).
 *
 * Not a test file: it only exports helpers.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeWav, encodeWav } from '../../src/media/audio.js';

/** Sample rate of the test signals and of Asterisk's `wav` recordings. */
export const RATE = 8000;

/** An 8 kHz 16-bit WAV of a sine: `seconds` long, `hz`, peak `amplitude`. */
export function sineWav(seconds: number, hz: number, amplitude = 5000): Buffer {
  return signalWav(seconds, () => hz, amplitude);
}

/** An 8 kHz 16-bit WAV of a chirp whose frequency goes linearly from `fromHz` to `toHz`. */
export function chirpWav(seconds: number, fromHz: number, toHz: number, amplitude = 5000): Buffer {
  return signalWav(seconds, (t) => fromHz + ((toHz - fromHz) * t) / seconds, amplitude);
}

function signalWav(seconds: number, hzAt: (t: number) => number, amplitude: number): Buffer {
  const samples = new Int16Array(Math.round(seconds * RATE));
  let phase = 0;
  for (let i = 0; i < samples.length; i++) {
    phase += (2 * Math.PI * hzAt(i / RATE)) / RATE;
    samples[i] = Math.round(amplitude * Math.sin(phase));
  }
  return encodeWav({ sampleRate: RATE, samples }, 'pcm16');
}

/** A tiny HTTP server on 127.0.0.1 serving fixed bodies by path, as `audio/wav`. */
export class MediaServer {
  private constructor(private readonly server: Server) {}

  static async start(files: Record<string, Buffer>): Promise<MediaServer> {
    const map = new Map(Object.entries(files));
    const server = createServer((request, response) => {
      const body = map.get(request.url ?? '');
      if (!body) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'audio/wav', 'content-length': body.length }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new MediaServer(server);
  }

  /** The URL of `path` (e.g. `/tone.wav`). */
  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A stretch of a recording that is loud (above the threshold) or silent. */
export interface Run {
  readonly loud: boolean;
  readonly startMs: number;
  readonly durationMs: number;
}

/** A far-leg recording, decoded. */
export class Heard {
  readonly samples: Int16Array;
  readonly sampleRate: number;

  constructor(wav: Uint8Array) {
    const audio = decodeWav(wav);
    this.samples = audio.samples;
    this.sampleRate = audio.sampleRate;
  }

  static read(file: string): Heard {
    return new Heard(readFileSync(file));
  }

  /**
   * A far-leg recording once Asterisk has closed it (format_wav writes the sizes into the header on
   * close, which may come a moment after the call ended); fails after `timeoutMs`.
   */
  static async closed(file: string, timeoutMs = 5000): Promise<Heard> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (existsSync(file)) {
        const bytes = readFileSync(file);
        if (bytes.length > 44 && bytes.readUInt32LE(4) === bytes.length - 8) return new Heard(bytes);
      }
      if (Date.now() > deadline) throw new Error(`the far leg's recording ${file} was not closed within ${timeoutMs} ms (${existsSync(file) ? statSync(file).size : 'no'} bytes)`);
      await sleep(50);
    }
  }

  get durationMs(): number {
    return (this.samples.length * 1000) / this.sampleRate;
  }

  /**
   * The recording as alternating loud and silent runs of 20 ms frames (RMS above `threshold`:
   * loud); runs shorter than `minRunMs` are merged into the run before them.
   */
  runs(threshold = 256, minRunMs = 100): Run[] {
    const frame = this.sampleRate / 50;
    const runs: Array<{ loud: boolean; startMs: number; durationMs: number }> = [];
    for (let start = 0; start + frame <= this.samples.length; start += frame) {
      const loud = this.rms(start, start + frame) > threshold;
      const last = runs.at(-1);
      if (last && last.loud === loud) last.durationMs += 20;
      else runs.push({ loud, startMs: (start * 1000) / this.sampleRate, durationMs: 20 });
    }
    const merged: typeof runs = [];
    for (const run of runs) {
      const last = merged.at(-1);
      if (last && (run.durationMs < minRunMs || last.loud === run.loud)) last.durationMs += run.durationMs;
      else merged.push({ ...run });
    }
    return merged;
  }

  /** The loud runs only. */
  loudRuns(threshold?: number): Run[] {
    return this.runs(threshold).filter((run) => run.loud);
  }

  /** RMS of the samples from `fromMs` to `toMs`. */
  rmsBetween(fromMs: number, toMs: number): number {
    return this.rms(this.index(fromMs), this.index(toMs));
  }

  /**
   * The strongest frequencies (Hz, `step` apart between `fromHz` and `toHz`) in the stretch
   * `fromMs`..`toMs`: local maxima of the Goertzel power, strongest first, at most `count`.
   */
  peaks(fromMs: number, toMs: number, options: { fromHz?: number; toHz?: number; step?: number; count?: number } = {}): number[] {
    const { fromHz = 200, toHz = 1000, step = 5, count = 2 } = options;
    const slice = this.samples.subarray(this.index(fromMs), this.index(toMs));
    const powers: Array<{ hz: number; power: number }> = [];
    for (let hz = fromHz; hz <= toHz; hz += step) powers.push({ hz, power: goertzel(slice, this.sampleRate, hz) });
    const maxima = powers.filter((p, i) => p.power >= (powers[i - 1]?.power ?? 0) && p.power >= (powers[i + 1]?.power ?? 0));
    return maxima
      .sort((a, b) => b.power - a.power)
      .slice(0, count)
      .map((p) => p.hz);
  }

  private index(ms: number): number {
    return Math.max(0, Math.min(this.samples.length, Math.round((ms * this.sampleRate) / 1000)));
  }

  private rms(from: number, to: number): number {
    if (to <= from) return 0;
    let sum = 0;
    for (let i = from; i < to; i++) sum += (this.samples[i] as number) ** 2;
    return Math.sqrt(sum / (to - from));
  }
}

/** The loud/silent shape of a recording as text, for assertion messages (`L2000 s500 ...`, ms). */
export function shape(runs: readonly Run[]): string {
  return runs.map((r) => `${r.loud ? 'L' : 's'}${Math.round(r.durationMs)}`).join(' ');
}

/** Power of `samples` at `hz` (Goertzel's algorithm), normalised by the length. */
export function goertzel(samples: Int16Array, rate: number, hz: number): number {
  const coefficient = 2 * Math.cos((2 * Math.PI * hz) / rate);
  let s1 = 0;
  let s2 = 0;
  for (const sample of samples) {
    const s0 = sample + coefficient * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - coefficient * s1 * s2) / (samples.length * samples.length || 1);
}
