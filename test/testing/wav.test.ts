import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeWav } from '../../src/media/audio.js';
import { wavStats } from '../../src/testing/wav.js';

describe('wavStats', () => {
  it('measures a 16-bit WAV: rate, duration, peak and RMS', () => {
    const samples = Int16Array.from({ length: 8000 }, (_, i) => (i % 2 === 0 ? 1000 : -1000));
    const stats = wavStats(encodeWav({ sampleRate: 8000, samples }));
    assert.deepEqual(stats, { sampleRate: 8000, channels: 1, samples: 8000, durationSeconds: 1, peak: 1000, rms: 1000 });
    assert.equal(wavStats(encodeWav({ sampleRate: 16000, samples: new Int16Array(0) })).rms, 0);
  });

  it('refuses what is not 16-bit PCM WAV', () => {
    assert.throws(() => wavStats(Buffer.from('not a wav file at all')), /RIFF\/WAVE/);
    assert.throws(() => wavStats(encodeWav({ sampleRate: 8000, samples: new Int16Array(10) }, 'alaw')), /unsupported WAV/);
  });
});
