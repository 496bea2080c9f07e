/**
 * Test signals for the media tests (not a test file): tones, silence, and a tone with silence
 * around it, as {@link PcmAudio}.
 */
import type { PcmAudio } from '../../src/media/audio.js';

/** A sine tone. */
export function tone(sampleRate: number, ms: number, frequency = 440, amplitude = 8000): PcmAudio {
  const count = Math.round((sampleRate * ms) / 1000);
  const samples = new Int16Array(count);
  for (let i = 0; i < count; i++) samples[i] = Math.round(amplitude * Math.sin((2 * Math.PI * frequency * i) / sampleRate));
  return { sampleRate, samples };
}

/** Digital silence. */
export function silence(sampleRate: number, ms: number): PcmAudio {
  return { sampleRate, samples: new Int16Array(Math.round((sampleRate * ms) / 1000)) };
}

/** Several signals one after the other (same rate). */
export function concat(...parts: PcmAudio[]): PcmAudio {
  const total = parts.reduce((n, p) => n + p.samples.length, 0);
  const samples = new Int16Array(total);
  let at = 0;
  for (const p of parts) {
    samples.set(p.samples, at);
    at += p.samples.length;
  }
  return { sampleRate: parts[0]?.sampleRate ?? 8000, samples };
}

/** RMS level of a signal. */
export function rms(samples: Int16Array): number {
  let sum = 0;
  for (const s of samples) sum += s * s;
  return samples.length === 0 ? 0 : Math.sqrt(sum / samples.length);
}
