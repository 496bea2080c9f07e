/**
 * Live: examples/record-and-play.ts, the answering-machine IVR, served by a FastAgiServer; the
 * application is built with the shared media directory and each call makes its own FileRecorder and
 * FilePlayer from it.
 * The far leg waits for the prompts to end, leaves a message and presses #, then records what the
 * app plays back: the message comes back as sound.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { recordAndPlayRouter } from '../../examples/record-and-play.js';
import { FastAgiServer } from '../../src/server/fastagi-server.js';
import { far, startAsterisk, type LiveAsterisk } from '../../src/testing/asterisk.js';
import { wavStats } from '../../src/testing/wav.js';
import { live, skip } from './rig.js';

const MOUNT = '/agikit-media';

describe('live: examples/record-and-play', () => {
  let asterisk: LiveAsterisk | undefined;
  let server: FastAgiServer | undefined;
  let port = 0;
  let dir = '';

  before(async () => {
    if (!live.ok) return;
    dir = mkdtempSync('/tmp/agikit-media-example-');
    asterisk = await startAsterisk({ bindMounts: [{ source: dir, target: MOUNT, readOnly: false }] });
    server = new FastAgiServer({
      port: 0,
      router: recordAndPlayRouter({ directory: { local: dir, asterisk: MOUNT } }),
      logger: pino({ level: process.env['AGIKIT_LIVE_LOG'] ?? 'silent' }),
    });
    ({ port } = await server.listen());
  });
  after(async () => {
    await server?.close({ timeoutMs: 2000 });
    await asterisk?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('records the caller\'s message until # and plays it back', { skip }, async () => {
    assert.ok(asterisk);
    const call = await asterisk.originate({
      agi: { port, route: 'record-and-play' },
      far: [
        // The prompts ("leave your message after the tone", beep) end with a second of no audio.
        far.app('WaitForSilence', '1000,1,20'),
        far.playback('hello-world'),
        far.dtmf('#'),
        far.record(`${MOUNT}/heard.wav`, { maxSeconds: 15 }),
      ],
      record: ['AGIKIT_MESSAGE_CAUSE', 'AGIKIT_PLAYBACK_CAUSE', 'AGIKIT_STATUS'],
      timeoutMs: 40_000,
    });
    const result = await call.result();
    assert.equal(result.variables['AGIKIT_MESSAGE_CAUSE'], 'BARGEIN');
    assert.equal(result.variables['AGIKIT_PLAYBACK_CAUSE'], 'END');
    const messages = readdirSync(path.join(dir, 'messages'));
    assert.equal(messages.length, 1);
    const message = wavStats(readFileSync(path.join(dir, 'messages', messages[0] ?? '')));
    assert.ok(message.rms > 200 && message.durationSeconds > 0.5, `message: rms ${message.rms}, ${message.durationSeconds} s`);
    // What the far leg heard after pressing #: "message", the message itself, "goodbye".
    const heard = wavStats(readFileSync(path.join(dir, 'heard.wav')));
    assert.ok(heard.rms > 200 && heard.durationSeconds >= message.durationSeconds, `heard: rms ${heard.rms}, ${heard.durationSeconds} s`);
  });
});
