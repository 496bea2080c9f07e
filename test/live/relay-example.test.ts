/**
 * Live: examples/relay-consumer.ts, the Relay consumer of the README, against a real Asterisk 22.
 * The far leg waits for the greeting and the prompt to end, types 1234#, waits for the beep, says
 * something and presses #, then records what the consumer plays back: its own message.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import OfficeConsumer from '../../examples/relay-consumer.js';
import { EspeakTtsProvider } from '../../src/media/tts.js';
import { far, startAsterisk, type LiveAsterisk } from '../../src/testing/asterisk.js';
import { wavStats } from '../../src/testing/wav.js';
import { within } from '../support/settle.js';
import { RELAY_AMI_CLASSES } from './relay-rig.js';
import { live, skip } from './rig.js';

const MOUNT = '/agikit-media';

describe('live: examples/relay-consumer', () => {
  let asterisk: LiveAsterisk | undefined;
  let consumer: OfficeConsumer | undefined;
  let running: Promise<void> | undefined;
  let dir = '';

  before(async () => {
    if (!live.ok) return;
    dir = mkdtempSync('/tmp/agikit-relay-example-');
    asterisk = await startAsterisk({ ami: RELAY_AMI_CLASSES, bindMounts: [{ source: dir, target: MOUNT, readOnly: false }] });
    assert.ok(asterisk.ami);
    consumer = new OfficeConsumer({
      agi: { port: 0 },
      ami: { ...asterisk.ami },
      media: {
        directory: { local: dir, asterisk: MOUNT },
        tts: new EspeakTtsProvider({ directory: { local: path.join(dir, 'tts'), asterisk: `${MOUNT}/tts` } }),
      },
      log: pino({ level: process.env['AGIKIT_LIVE_LOG'] ?? 'silent' }),
    });
    running = consumer.run({ handleSignals: false });
    await within(
      (async () => {
        while (!consumer?.address) await new Promise((resolve) => setTimeout(resolve, 20));
      })(),
      20_000,
      'the example consumer did not start listening',
    );
  });
  after(async () => {
    consumer?.stop();
    await running;
    await asterisk?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers, takes the code 1234, records the message until # and plays it back', { skip }, async () => {
    assert.ok(asterisk && consumer?.address);
    const call = await asterisk.originate({
      agi: { port: consumer.address.port, route: 'relay/office' },
      far: [
        // Greeting and prompt end with a second of no audio: then the code.
        far.app('WaitForSilence', '1000,1,30'),
        far.dtmf('1234#', { durationMs: 150, betweenMs: 150 }),
        // "Thank you, leave a message after the beep" and the beep, then a second of silence.
        far.app('WaitForSilence', '1000,1,30'),
        far.playback('hello-world'),
        far.dtmf('#'),
        far.record(`${MOUNT}/heard.wav`, { maxSeconds: 20 }),
      ],
      record: ['RELAY_CODE', 'RELAY_MESSAGE_SECONDS', 'AGIKIT_STATUS'],
      timeoutMs: 60_000,
    });
    const result = await call.result();
    assert.equal(result.variables['RELAY_CODE'], '1234');
    const seconds = Number(result.variables['RELAY_MESSAGE_SECONDS']);
    assert.ok(seconds > 0.5 && seconds < 10, `message of ${seconds} s`);
    assert.equal(result.hangupCause, 16, 'the consumer hung up normally');
    const recordings = readdirSync(path.join(dir, 'recordings')).filter((name) => name.endsWith('.wav'));
    assert.equal(recordings.length, 1, recordings.join(', '));
    const message = wavStats(readFileSync(path.join(dir, 'recordings', recordings[0] ?? '')));
    assert.ok(message.rms > 200, `the message holds the far leg's speech: rms ${message.rms}`);
    // What the far leg heard after #: "You said:", its message, "Goodbye".
    const heard = wavStats(readFileSync(path.join(dir, 'heard.wav')));
    assert.ok(heard.rms > 200 && heard.durationSeconds >= message.durationSeconds, `heard: rms ${heard.rms}, ${heard.durationSeconds} s`);
  });
});
