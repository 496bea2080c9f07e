/**
 * Live: FilePlayer against a real Asterisk 22. Every play cause (END, BARGEIN, ABORTED through
 * stop(), HANGUP, TIMEOUT from waitUntilFinished(), ERROR), looping, format conversion (an A-law WAV
 * and an 11.025 kHz WAV are converted by agikit and the far leg hears them) and text to speech
 * (espeak-ng; the far leg hears it).
 *
 * The media directory is a host directory mounted into the container, so agikit and Asterisk see
 * the same files under different paths. Skipped, with the reason, when Docker or the image cannot
 * be had; the text to speech test also when espeak-ng cannot be installed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AgiCommandError } from '../../src/errors.js';
import { encodeWav } from '../../src/media/audio.js';
import { FilePlayer, PlayCause, PlayState } from '../../src/media/file-player.js';
import type { MediaOptions } from '../../src/media/options.js';
import { EspeakTtsProvider } from '../../src/media/tts.js';
import { agikitPackageRoot, far } from '../../src/testing/asterisk.js';
import { wavStats } from '../../src/testing/wav.js';
import { concat, silence, tone } from '../media/tones.js';
import { LiveRig, live, signal, skip } from './rig.js';

/** Where the container sees the media directory. */
const MOUNT = '/agikit-media';
/** RMS above which what the far leg heard holds sound; digital silence is 0. */
const SOUND_RMS = 200;

/** Installs espeak-ng with the project's script; the reason when it cannot. */
function espeakUnavailable(): string | false {
  const root = agikitPackageRoot() ?? process.cwd();
  const r = spawnSync('bash', [path.join(root, 'scripts', 'install-espeak.sh')], { encoding: 'utf8' });
  return r.status === 0 ? false : `espeak-ng unavailable: ${r.stderr.trim() || `install-espeak.sh exited ${r.status}`}`;
}

describe('live: FilePlayer', { concurrency: true }, () => {
  let rig: LiveRig | undefined;
  let dir = '';
  let media: MediaOptions = {};
  const ttsSkip = skip || espeakUnavailable();

  before(async () => {
    if (!live.ok) return;
    dir = mkdtempSync('/tmp/agikit-media-player-');
    rig = await LiveRig.start({ bindMounts: [{ source: dir, target: MOUNT, readOnly: false }] });
    media = {
      directory: { local: dir, asterisk: MOUNT },
      tts: new EspeakTtsProvider({ directory: { local: path.join(dir, 'tts'), asterisk: `${MOUNT}/tts` } }),
    };
  });
  after(async () => {
    await rig?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** What the far leg recorded into the media directory, as level statistics. */
  function heard(name: string): ReturnType<typeof wavStats> {
    return wavStats(readFileSync(path.join(dir, name)));
  }

  it('play() of an Asterisk sound plays to the END; state IDLE, cause END; the far leg hears it', { skip }, async () => {
    assert.ok(rig);
    const got: unknown[] = [];
    await rig.run(
      async (agi) => {
        const player = new FilePlayer(agi, media);
        got.push(player.state(), player.cause());
        await signal(agi, 'listening');
        got.push(await player.play('hello-world'), player.state(), player.cause(), player.digit());
      },
      { far: [far.waitFor('listening'), far.record(`${MOUNT}/heard-end.wav`, { maxSeconds: 10 })] },
    );
    assert.deepEqual(got, [PlayState.IDLE, PlayCause.NONE, PlayCause.END, PlayState.IDLE, PlayCause.END, null]);
    const s = heard('heard-end.wav');
    assert.ok(s.rms > SOUND_RMS, `rms ${s.rms}`);
  });

  it('bargeIn: a key stops playback with BARGEIN and the digit is readable', { skip }, async () => {
    assert.ok(rig);
    const got: unknown[] = [];
    let took = 0;
    await rig.run(
      async (agi) => {
        const player = new FilePlayer(agi, media);
        await signal(agi, 'playing');
        // Timed from the play, not the call set-up (slow on a busy machine).
        const startedAt = Date.now();
        got.push(await player.play('tt-monkeys', { bargeIn: true }), player.digit());
        took = Date.now() - startedAt;
      },
      { far: [far.waitFor('playing'), far.wait(0.5), far.dtmf('5')] },
    );
    assert.deepEqual(got, [PlayCause.BARGEIN, '5']);
    assert.ok(took < 8000, `stopped long before tt-monkeys ends (took ${took} ms)`);
  });

  it('start({ loop }) replays until stop(): cause ABORTED, NONE and PLAYING while it runs', { skip }, async () => {
    assert.ok(rig);
    const got: unknown[] = [];
    let channel = '';
    const plays = (): number => (rig?.asterisk.logs() ?? '').split('\n').filter((l) => l.includes(`<${channel}> Playing 'beep.`)).length;
    await rig.run(async (agi) => {
      channel = agi.env.channel;
      const player = new FilePlayer(agi, media);
      got.push(await player.start('beep', { loop: true }));
      // Until Asterisk has started beep a second time (bounded).
      const deadline = Date.now() + 15_000;
      while (plays() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      got.push(player.state(), player.cause());
      got.push(await player.stop(), player.state(), player.cause());
      // The session is in step afterwards.
      got.push(await agi.channelStatus());
    });
    assert.deepEqual(got, [true, PlayState.PLAYING, PlayCause.NONE, true, PlayState.IDLE, PlayCause.ABORTED, 6]);
    assert.ok(plays() >= 2, `beep played ${plays()} times in 15 s`);
  });

  it('a hangup during playback ends the job with HANGUP', { skip }, async () => {
    assert.ok(rig);
    const got: unknown[] = [];
    await rig.run(
      async (agi) => {
        const player = new FilePlayer(agi, media);
        await signal(agi, 'playing');
        got.push(await player.play('tt-monkeys'), player.state());
      },
      { far: [far.waitFor('playing'), far.wait(0.5), far.hangup()] },
    );
    assert.deepEqual(got, [PlayCause.HANGUP, PlayState.IDLE]);
  });

  it('waitUntilFinished({ timeoutMs }) expiring gives TIMEOUT while the job plays on; stop() ends it', { skip }, async () => {
    assert.ok(rig);
    const got: unknown[] = [];
    await rig.run(async (agi) => {
      const player = new FilePlayer(agi, media);
      await player.start('tt-monkeys');
      got.push(await player.waitUntilFinished({ timeoutMs: 300 }), player.state(), player.cause());
      await player.stop();
      got.push(player.cause());
    });
    assert.deepEqual(got, [PlayCause.TIMEOUT, PlayState.PLAYING, PlayCause.NONE, PlayCause.ABORTED]);
  });

  it('a missing file ends with ERROR (state ERROR, error() says why); a second job may start at once', { skip }, async () => {
    assert.ok(rig);
    const got: unknown[] = [];
    let error: unknown;
    await rig.run(async (agi) => {
      const player = new FilePlayer(agi, media);
      got.push(await player.play('agikit-no-such-sound'), player.state());
      error = player.error();
      got.push(await player.play('beep'), player.state());
    });
    assert.deepEqual(got, [PlayCause.ERROR, PlayState.ERROR, PlayCause.END, PlayState.IDLE]);
    assert.ok(error instanceof AgiCommandError, String(error));
  });

  it('converts what Asterisk cannot play: an A-law WAV and an 11.025 kHz WAV reach the far leg as sound', { skip }, async () => {
    assert.ok(rig);
    // 1.5 s of tone between short silences, in two formats Asterisk's format_wav does not read.
    writeFileSync(path.join(dir, 'tone-alaw.wav'), encodeWav(concat(silence(8000, 200), tone(8000, 1500, 500), silence(8000, 200)), 'alaw'));
    writeFileSync(path.join(dir, 'tone-11k.wav'), encodeWav(concat(silence(11025, 200), tone(11025, 1500, 700), silence(11025, 200)), 'pcm16'));
    const got: unknown[] = [];
    await rig.run(
      async (agi) => {
        const player = new FilePlayer(agi, media);
        await signal(agi, 'alaw');
        got.push(await player.play('tone-alaw.wav'));
        await signal(agi, 'eleven');
        got.push(await player.play(`${dir}/tone-11k.wav`));
      },
      {
        far: [
          far.waitFor('alaw'),
          far.record(`${MOUNT}/heard-alaw.wav`, { maxSeconds: 2 }),
          far.waitFor('eleven'),
          far.record(`${MOUNT}/heard-11k.wav`, { maxSeconds: 2 }),
        ],
      },
    );
    assert.deepEqual(got, [PlayCause.END, PlayCause.END]);
    for (const name of ['heard-alaw.wav', 'heard-11k.wav']) {
      const s = heard(name);
      assert.ok(s.rms > 1000, `${name}: rms ${s.rms}`);
      assert.ok(s.durationSeconds >= 1.2, `${name}: ${s.durationSeconds} s`);
    }
  });

  it('say() speaks through espeak-ng (cached by text) and the far leg hears speech', { skip: ttsSkip }, async () => {
    assert.ok(rig);
    const got: unknown[] = [];
    await rig.run(
      async (agi) => {
        const player = new FilePlayer(agi, media);
        await signal(agi, 'speaking');
        got.push(await player.say('Hello from agikit. Please leave a message.'));
        // The default wait is the estimate (unit-tested); on a busy machine playback may run past it.
        got.push(await player.sayStart('Hello from agikit. Please leave a message.'), await player.waitUntilFinished({ timeoutMs: 30_000 }));
      },
      { far: [far.waitFor('speaking'), far.record(`${MOUNT}/heard-tts.wav`, { maxSeconds: 3 })] },
    );
    assert.deepEqual(got, [PlayCause.END, true, PlayCause.END]);
    const s = heard('heard-tts.wav');
    assert.ok(s.rms > SOUND_RMS, `rms ${s.rms}`);
    assert.ok(s.durationSeconds >= 1, `${s.durationSeconds} s`);
  });
});
