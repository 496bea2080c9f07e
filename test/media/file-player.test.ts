/**
 * FilePlayer's state machine on a scripted fake Asterisk: call-state rules, every cause, the digit,
 * looping, stop() through interrupt, play()'s time allowance, waitUntilFinished(), conversion of
 * files Asterisk cannot play, path rules, and say() through a TTS provider.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AgiArgumentError, AgiHangupError } from '../../src/errors.js';
import { encodeWav, parseWav, WavFormatTag } from '../../src/media/audio.js';
import { MediaSetupError, MediaStateError } from '../../src/media/errors.js';
import { FilePlayer, PlayCause, PlayState } from '../../src/media/file-player.js';
import type { MediaOptions } from '../../src/media/options.js';
import { CONVERTED_SUBDIRECTORY, preparePlayable } from '../../src/media/playable.js';
import { PathMapping } from '../../src/media/paths.js';
import type { TtsOptions, TtsProvider } from '../../src/media/tts.js';
import type { FakeCall } from '../../src/testing/fake-asterisk.js';
import { startTestServer, type TestServer } from '../support/fake-server.js';
import { settle } from '../support/settle.js';
import { tone } from './tones.js';

const ANY = '0123456789*#';
const UP = '200 result=6';

/** Answers the end-of-call status write and anything after it. */
function finish(fake: FakeCall): void {
  fake.respond(() => '200 result=1');
}

describe('FilePlayer (fake Asterisk)', () => {
  let t: TestServer;
  let dir: string;
  const spoken: Array<{ text: string; options: TtsOptions | undefined }> = [];
  const tts: TtsProvider = {
    synthesize: async (text, options) => {
      spoken.push({ text, options });
      return { file: '/media/tts/abc', durationMs: 1200 };
    },
  };
  let media: MediaOptions;

  before(async () => {
    dir = mkdtempSync('/tmp/agikit-player-unit-');
    media = { directory: { local: dir, asterisk: '/media' }, tts };
    t = await startTestServer();
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a handler makes its player with the media options: say() uses their TTS provider and the channel language', async () => {
    const placed = await t.call(async (agi) => {
      await new FilePlayer(agi, media).say('hi');
    });
    await placed.fake.expectCommand('CHANNEL STATUS');
    placed.fake.reply(UP);
    await placed.fake.expectCommand('STREAM FILE', '/media/tts/abc', '');
    placed.fake.reply('200 result=0 endpos=9600');
    finish(placed.fake);
    await placed.ended;
    assert.deepEqual(spoken.at(-1), { text: 'hi', options: { language: 'en' } });
  });

  it('play(): END with state and cause through the job; bargeIn sends every digit and reports the key', async () => {
    const seen: unknown[] = [];
    let player: FilePlayer | undefined;
    const placed = await t.call(async (agi) => {
      player = new FilePlayer(agi);
      seen.push(player.state(), player.cause());
      seen.push(await player.play('hello-world'), player.state(), player.cause(), player.digit());
      seen.push(await player.play('menu', { bargeIn: true }), player.digit());
    });
    const fake = placed.fake;
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    await fake.expectCommand('STREAM FILE', 'hello-world', '');
    assert.equal(player?.state(), PlayState.PLAYING);
    assert.equal(player?.cause(), PlayCause.NONE);
    fake.reply('200 result=0 endpos=12000');
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    await fake.expectCommand('STREAM FILE', 'menu', ANY);
    fake.reply('200 result=35 endpos=4000');
    finish(fake);
    await placed.ended;
    assert.deepEqual(seen, [PlayState.IDLE, PlayCause.NONE, PlayCause.END, PlayState.IDLE, PlayCause.END, null, PlayCause.BARGEIN, '#']);
  });

  it('call-state rules: not answered -> MediaStateError, already playing -> MediaStateError, hung up -> AgiHangupError', async () => {
    const outcomes: unknown[] = [];
    const ringing: unknown[] = [];
    const placed = await t.call(async (agi) => {
      const player = new FilePlayer(agi);
      outcomes.push(await settle(player.play('x')));
      ringing.push(await settle(player.stop()), await settle(player.waitUntilFinished()));
      await player.start('long');
      outcomes.push(await settle(player.start('other')), await settle(player.play('other')));
      outcomes.push(await player.waitUntilFinished());
      outcomes.push(await settle(player.play('x')), await settle(player.stop()), await settle(player.waitUntilFinished()));
    });
    const fake = placed.fake;
    for (let i = 0; i < 3; i++) {
      await fake.expectCommand('CHANNEL STATUS');
      fake.reply('200 result=4');
    }
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    await fake.expectCommand('STREAM FILE', 'long', '');
    fake.reply(['200 result=-1 endpos=300', 'HANGUP']);
    finish(fake);
    await placed.ended;
    assert.ok((outcomes[0] as { error: unknown }).error instanceof MediaStateError);
    assert.match(String((outcomes[0] as { error: Error }).error.message), /not answered/);
    // stop() and waitUntilFinished() with nothing playing on a ringing channel raise too (Aculab's seeds).
    for (const o of ringing) assert.match(String((o as { error: unknown }).error), /MediaStateError: FilePlayer\.(stop|waitUntilFinished): the channel is not answered/);
    assert.ok((outcomes[1] as { error: unknown }).error instanceof MediaStateError);
    assert.ok((outcomes[2] as { error: unknown }).error instanceof MediaStateError);
    assert.equal(outcomes[3], PlayCause.HANGUP);
    for (const o of outcomes.slice(4)) assert.ok((o as { error: unknown }).error instanceof AgiHangupError, String((o as { error: unknown }).error));
  });

  it('a missing file: ERROR, state ERROR, error() holds the AgiCommandError', async () => {
    let player: FilePlayer | undefined;
    let cause: unknown;
    const placed = await t.call(async (agi) => {
      player = new FilePlayer(agi);
      cause = await player.play('nope');
    });
    const fake = placed.fake;
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    await fake.expectCommand('STREAM FILE', 'nope', '');
    fake.reply('200 result=-1 endpos=0');
    // agikit probes whether the channel is still there.
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    finish(fake);
    await placed.ended;
    assert.equal(cause, PlayCause.ERROR);
    assert.equal(player?.state(), PlayState.ERROR);
    assert.equal(player?.error()?.name, 'AgiCommandError');
  });

  it('start({ loop }) issues STREAM FILE again after each end; stop() interrupts it: ABORTED', async () => {
    const seen: unknown[] = [];
    const placed = await t.call(async (agi) => {
      const player = new FilePlayer(agi);
      seen.push(await player.start('beep', { loop: true }));
      await new Promise((r) => setTimeout(r, 50));
      seen.push(await player.stop(), player.cause(), player.state());
    });
    const fake = placed.fake;
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    await fake.expectCommand('STREAM FILE', 'beep', '');
    fake.reply('200 result=0 endpos=2000');
    await fake.expectCommand('STREAM FILE', 'beep', '');
    // The interrupt marker: Asterisk stops playback silently and answers the marker.
    const marker = await fake.expectCommand('GET FULL VARIABLE', 'agikit-interrupt-1');
    fake.reply(`200 result=1 (${marker.words[3] ?? ''})`);
    finish(fake);
    await placed.ended;
    assert.deepEqual(seen, [true, true, PlayCause.ABORTED, PlayState.IDLE]);
  });

  it('stop() of a job whose STREAM FILE finished first reports the truth (END); stop() when idle checks the call, then true', async () => {
    const seen: unknown[] = [];
    const placed = await t.call(async (agi) => {
      const player = new FilePlayer(agi);
      seen.push(await player.stop());
      await player.start('short');
      seen.push(await player.stop(), player.cause());
    });
    const fake = placed.fake;
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    await fake.expectCommand('STREAM FILE', 'short', '');
    await fake.expectCommand('GET FULL VARIABLE', 'agikit-interrupt-1');
    fake.reply(['200 result=0 endpos=800', '200 result=1 (agikit-interrupt-1)']);
    finish(fake);
    await placed.ended;
    assert.deepEqual(seen, [true, true, PlayCause.END]);
  });

  it('play() of a file agikit can read gets its duration as allowance; past it, TIMEOUT (playback stopped)', async () => {
    writeFileSync(path.join(dir, 'short.wav'), encodeWav(tone(8000, 100), 'pcm16'));
    let cause: unknown;
    const started = Date.now();
    let took = 0;
    const placed = await t.call(async (agi) => {
      cause = await new FilePlayer(agi, media).play('short.wav');
      took = Date.now() - started;
    });
    const fake = placed.fake;
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    await fake.expectCommand('STREAM FILE', '/media/short', '');
    // Never answered: 100 ms * 1.1 + 1 s later agikit interrupts it.
    const marker = await fake.expectCommand('GET FULL VARIABLE', 'agikit-interrupt-1');
    fake.reply(`200 result=1 (${marker.words[3] ?? ''})`);
    finish(fake);
    await placed.ended;
    assert.equal(cause, PlayCause.TIMEOUT);
    assert.ok(took >= 1100 && took < 3000, `took ${took} ms`);
  });

  it('waitUntilFinished(): TIMEOUT leaves the job running (cause NONE); default wait is the estimate; null waits for the end', async () => {
    writeFileSync(path.join(dir, 'half.wav'), encodeWav(tone(8000, 500), 'pcm16'));
    const seen: unknown[] = [];
    const placed = await t.call(async (agi) => {
      const player = new FilePlayer(agi, media);
      await player.start('half.wav');
      seen.push(await player.waitUntilFinished({ timeoutMs: 20 }), player.cause(), player.state());
      seen.push(await player.waitUntilFinished({ timeoutMs: null }), player.cause());
      seen.push(await player.waitUntilFinished());
    });
    const fake = placed.fake;
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    await fake.expectCommand('STREAM FILE', '/media/half', '');
    await new Promise((r) => setTimeout(r, 100));
    fake.reply('200 result=0 endpos=4000');
    // The last waitUntilFinished(), with the job over, checks the call.
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    finish(fake);
    await placed.ended;
    assert.deepEqual(seen, [PlayCause.TIMEOUT, PlayCause.NONE, PlayState.PLAYING, PlayCause.END, PlayCause.END, PlayCause.END]);
  });

  it('converts an A-law WAV into an 8 kHz 16-bit WAV in the media directory (once per content) and plays that', async () => {
    writeFileSync(path.join(dir, 'greeting.wav'), encodeWav(tone(8000, 300), 'alaw'));
    const files: string[] = [];
    const placed = await t.call(async (agi) => {
      const player = new FilePlayer(agi, media);
      await player.play(`${dir}/greeting.wav`);
      await player.play('greeting');
    });
    const fake = placed.fake;
    for (let i = 0; i < 2; i++) {
      await fake.expectCommand('CHANNEL STATUS');
      fake.reply(UP);
      const cmd = await fake.nextCommand();
      files.push(cmd.words[2] ?? '');
      fake.reply('200 result=0 endpos=2400');
    }
    finish(fake);
    await placed.ended;
    assert.equal(files[0], files[1]);
    assert.match(files[0] ?? '', new RegExp(`^/media/${CONVERTED_SUBDIRECTORY}/[0-9a-f]{64}$`));
    const converted = readdirSync(path.join(dir, CONVERTED_SUBDIRECTORY));
    assert.equal(converted.length, 1);
    const info = parseWav(readFileSync(path.join(dir, CONVERTED_SUBDIRECTORY, converted[0] ?? '')));
    assert.deepEqual([info.formatTag, info.sampleRate, info.bitsPerSample, info.channels], [WavFormatTag.Pcm, 8000, 16, 1]);
  });

  it('say() without a TTS provider throws MediaSetupError after the call checks; a bad file is an ERROR job', async () => {
    writeFileSync(path.join(dir, 'garbage.wav'), Buffer.from('RIFF....WAVEjunkjunk'));
    const seen: unknown[] = [];
    const placed = await t.call(async (agi) => {
      const player = new FilePlayer(agi);
      seen.push(await settle(player.say('hello')));
      const withDir = new FilePlayer(agi, { directory: { local: dir, asterisk: '/media' } });
      seen.push(await withDir.start('garbage.wav'), withDir.cause(), withDir.state(), withDir.error()?.name);
    });
    const fake = placed.fake;
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    finish(fake);
    await placed.ended;
    assert.ok((seen[0] as { error: unknown }).error instanceof MediaSetupError);
    assert.deepEqual(seen.slice(1), [false, PlayCause.ERROR, PlayState.ERROR, 'AudioFormatError']);
  });
});

describe('preparePlayable (path rules)', () => {
  let dir: string;
  let mapping: PathMapping;
  before(() => {
    dir = mkdtempSync('/tmp/agikit-playable-');
    mapping = new PathMapping({ local: dir, asterisk: '/srv/media' });
    writeFileSync(path.join(dir, 'native.wav'), encodeWav(tone(8000, 250), 'pcm16'));
    writeFileSync(path.join(dir, 'prompt.alaw'), Buffer.alloc(4000, 0xd5));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('Asterisk sound names pass as they are; media-directory files are mapped, with their duration', async () => {
    assert.deepEqual(await preparePlayable('hello-world', mapping), { file: 'hello-world', converted: false });
    assert.deepEqual(await preparePlayable('digits/5', undefined), { file: 'digits/5', converted: false });
    assert.deepEqual(await preparePlayable('native.wav', mapping), { file: '/srv/media/native', converted: false, durationMs: 250 });
    assert.deepEqual(await preparePlayable(`${dir}/native.wav`, mapping), { file: '/srv/media/native', converted: false, durationMs: 250 });
    assert.deepEqual(await preparePlayable('/srv/media/prompt.alaw', mapping), { file: '/srv/media/prompt', converted: false, durationMs: 500 });
    // A name without extension that matches a file in the media directory.
    assert.deepEqual(await preparePlayable('prompt', mapping), { file: '/srv/media/prompt', converted: false, durationMs: 500 });
  });

  it('files agikit cannot read are left to Asterisk; what would need converting there is refused', async () => {
    assert.deepEqual(await preparePlayable('/var/lib/asterisk/sounds/x.gsm', mapping), { file: '/var/lib/asterisk/sounds/x', converted: false });
    assert.deepEqual(await preparePlayable('missing.wav', mapping), { file: '/srv/media/missing', converted: false });
    await assert.rejects(preparePlayable('/elsewhere/x.vox', mapping), MediaSetupError);
    await assert.rejects(preparePlayable('x.vox', undefined), MediaSetupError);
  });

  it('PathMapping translates both ways and refuses relative roots', () => {
    assert.equal(mapping.toAsterisk(path.join(dir, 'a/b.wav')), '/srv/media/a/b.wav');
    assert.equal(mapping.toLocal('/srv/media/a/b.wav'), path.join(dir, 'a/b.wav'));
    assert.equal(mapping.toLocal('/srv/mediax/b.wav'), undefined);
    assert.equal(mapping.toAsterisk('/etc/passwd'), undefined);
    assert.deepEqual(new PathMapping({ local: '/' }).resolve('/etc/x.wav'), { asterisk: '/etc/x.wav', local: '/etc/x.wav' });
    assert.throws(() => new PathMapping({ local: 'relative' }), AgiArgumentError);
  });
});
