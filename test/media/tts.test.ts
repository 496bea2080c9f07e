/**
 * EspeakTtsProvider with a stand-in for espeak-ng (a script that logs its arguments and stdin and
 * prints a 22.05 kHz WAV the way espeak-ng --stdout does): resampling to 8 kHz 16-bit, the file name
 * Asterisk sees, caching by text/language/voice (also for concurrent calls), and errors.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AgiArgumentError } from '../../src/errors.js';
import { encodeWav, parseWav } from '../../src/media/audio.js';
import { MediaSetupError } from '../../src/media/errors.js';
import { EspeakTtsProvider } from '../../src/media/tts.js';
import { tone } from './tones.js';

describe('EspeakTtsProvider', () => {
  let dir: string;
  let fake: string;
  let log: string;
  before(() => {
    dir = mkdtempSync('/tmp/agikit-tts-unit-');
    log = path.join(dir, 'calls.log');
    const wav = encodeWav(tone(22050, 700, 300, 6000), 'pcm16');
    // espeak-ng --stdout cannot seek back: it writes an oversized length in the header.
    wav.writeUInt32LE(0x7ffff000, 40);
    writeFileSync(path.join(dir, 'speech.wav'), wav);
    fake = path.join(dir, 'fake-espeak');
    writeFileSync(fake, `#!/bin/sh\nprintf '%s|' "$@" >> '${log}'\nprintf '%s\\n' "$(cat)" >> '${log}'\ncat '${dir}/speech.wav'\n`);
    chmodSync(fake, 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes an 8 kHz 16-bit WAV named by hash and returns it as Asterisk sees it, without extension', async () => {
    const tts = new EspeakTtsProvider({ directory: { local: path.join(dir, 'cache'), asterisk: '/media/tts' }, command: fake });
    const speech = await tts.synthesize('-v is not an option here', { language: 'en-us', voice: 'f3' });
    assert.match(speech.file, /^\/media\/tts\/[0-9a-f]{64}$/);
    assert.ok(speech.durationMs !== undefined && Math.abs(speech.durationMs - 700) < 2, String(speech.durationMs));
    const stored = readFileSync(path.join(dir, 'cache', `${path.basename(speech.file)}.wav`));
    const info = parseWav(stored);
    assert.deepEqual([info.sampleRate, info.bitsPerSample, info.channels], [8000, 16, 1]);
    assert.match(readFileSync(log, 'utf8'), /--stdin\|--stdout\|-v\|en-us\+f3\|-v is not an option here/);
  });

  it('caches by text, language and voice: once per text, also when asked concurrently', async () => {
    const tts = new EspeakTtsProvider({ directory: { local: path.join(dir, 'cache2'), asterisk: '/media/tts2' }, command: fake });
    const before = readFileSync(log, 'utf8').split('\n').length;
    const [a, b] = await Promise.all([tts.synthesize('same text'), tts.synthesize('same text')]);
    const c = await tts.synthesize('same text');
    const other = await tts.synthesize('same text', { language: 'fr' });
    assert.equal(a.file, b.file);
    assert.equal(a.file, c.file);
    assert.notEqual(a.file, other.file);
    assert.equal(readFileSync(log, 'utf8').split('\n').length - before, 2, 'espeak-ng ran twice: en and fr');
    assert.equal(readdirSync(path.join(dir, 'cache2')).filter((f) => f.endsWith('.wav')).length, 2);
  });

  it('refuses odd language or voice names; a missing program or a failure is a MediaSetupError', async () => {
    const tts = new EspeakTtsProvider({ directory: { local: path.join(dir, 'cache3') }, command: path.join(dir, 'no-such-espeak') });
    await assert.rejects(tts.synthesize('x', { language: 'en; rm -rf /' }), AgiArgumentError);
    await assert.rejects(tts.synthesize('x', { voice: '../../x' }), AgiArgumentError);
    await assert.rejects(tts.synthesize('x'), (error: unknown) => error instanceof MediaSetupError && /apt-get install espeak-ng/.test(error.message));
    const failing = new EspeakTtsProvider({ directory: { local: path.join(dir, 'cache4') }, command: 'false' });
    await assert.rejects(failing.synthesize('x'), (error: unknown) => error instanceof MediaSetupError && /exit 1/.test(error.message));
  });
});
