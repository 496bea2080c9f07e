/**
 * FileRecorder's state machine on a scripted fake Asterisk: how options become `RECORD FILE`
 * arguments (format, escape digits, limits, silence rounding), how each reply becomes a cause
 * (BARGEIN, SILENCE, SIZE, TIMEOUT, ABORTED, HANGUP, ERROR, NONE while running), the initial-silence
 * wait, stop() with and without AMI, and the finished-file work (audio detection, conversion, cipher).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AmiClient } from '../../src/ami/client.js';
import { AgiHangupError } from '../../src/errors.js';
import { decodeWav, encodeAlaw, encodeWav, parseWav, WavFormatTag } from '../../src/media/audio.js';
import { decryptRecording } from '../../src/media/cipher.js';
import { MediaSetupError, MediaStateError } from '../../src/media/errors.js';
import { FileRecorder, planRecording, RecordCause, RecordState, sizeLimitMs } from '../../src/media/file-recorder.js';
import type { MediaOptions } from '../../src/media/options.js';
import type { FakeCall } from '../../src/testing/fake-asterisk.js';
import { startTestServer, type TestServer } from '../support/fake-server.js';
import { settle } from '../support/settle.js';
import { concat, silence, tone } from './tones.js';

const UP = '200 result=6';

function finish(fake: FakeCall): void {
  fake.respond(() => '200 result=1');
}

/** A stand-in for AmiClient that records PlayDTMF requests. */
function fakeAmi(onDtmf: (channel: string, digit: string, receive: boolean) => void): AmiClient {
  return {
    playDtmf: async (channel: string, digit: string, options: { receive?: boolean } = {}) => onDtmf(channel, digit, options.receive ?? false),
  } as unknown as AmiClient;
}

describe('planRecording and the size limit', () => {
  it('native formats at 8 kHz (and s16bit at 16 kHz), converted ones otherwise, GSM only at 8 kHz', () => {
    // A-law and µ-law at 8 kHz: Asterisk's headerless G.711 in a WAV container; without a media directory, as Asterisk wrote it.
    assert.deepEqual(planRecording('alaw', 8000), { asteriskFormat: 'alaw', asteriskRate: 8000, wrap: 'alaw', extension: 'wav', bytesPerSecond: 8000, headerBytes: 58 });
    assert.deepEqual(planRecording('alaw', 8000, false), { asteriskFormat: 'alaw', asteriskRate: 8000, extension: 'alaw', bytesPerSecond: 8000, headerBytes: 0 });
    assert.deepEqual([planRecording('ulaw', 8000).asteriskFormat, planRecording('ulaw', 8000).wrap], ['ulaw', 'ulaw']);
    assert.equal(planRecording('ulaw', 8000, false).extension, 'ulaw');
    assert.equal(planRecording('s16bit', 8000).asteriskFormat, 'wav');
    assert.equal(planRecording('wav', 16000).asteriskFormat, 'wav16');
    assert.equal(planRecording('gsm', 8000).bytesPerSecond, 1650);
    assert.deepEqual(planRecording('alaw', 11025).convert, { encoding: 'alaw', rate: 11025 });
    assert.equal(planRecording('alaw', 11025).extension, 'wav');
    assert.equal(planRecording('alaw', 11025).asteriskFormat, 'wav16');
    assert.equal(planRecording('u8bit', 6000).asteriskFormat, 'wav');
    assert.deepEqual(planRecording('oki', 8000).convert, { encoding: 'oki', rate: 8000 });
    assert.equal(planRecording('oki', 8000).extension, 'vox');
    assert.equal(planRecording('oki', 8000).bytesPerSecond, 4000);
    assert.throws(() => planRecording('gsm', 16000), MediaSetupError);
    assert.throws(() => planRecording('alaw', 100), MediaSetupError);
  });

  it('maxBytes becomes a duration: (bytes - header) / bytes per second', () => {
    assert.equal(sizeLimitMs(1_920_000, planRecording('s16bit', 8000)), 119_997);
    assert.equal(sizeLimitMs(1_920_000, planRecording('alaw', 8000)), 239_992);
    assert.equal(sizeLimitMs(1_920_000, planRecording('alaw', 8000, false)), 240_000);
    assert.equal(sizeLimitMs(16_500, planRecording('gsm', 8000)), 10_000);
    assert.equal(sizeLimitMs(10, planRecording('wav', 8000)), 1);
  });
});

describe('FileRecorder (fake Asterisk)', () => {
  let t: TestServer;
  let dir: string;
  const dtmf: Array<[string, string, boolean]> = [];
  let onDtmf: () => void = () => undefined;
  const ami = fakeAmi((channel, digit, receive) => {
    dtmf.push([channel, digit, receive]);
    onDtmf();
  });

  let media: MediaOptions;

  before(async () => {
    dir = mkdtempSync('/tmp/agikit-recorder-unit-');
    media = { directory: { local: dir, asterisk: '/media' }, ami };
    t = await startTestServer();
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('record() defaults (Aculab\'s): alaw, 120 s, 10 s silence, no barge-in (only the AMI stop digit)', async () => {
    let cause: unknown;
    const placed = await t.call(async (agi) => {
      cause = await new FileRecorder(agi, { ami }).record('/tmp/msg');
    });
    const fake = placed.fake;
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    await fake.expectCommand('RECORD FILE', '/tmp/msg', 'alaw', 'D', '120000', 's=10');
    fake.reply('200 result=0 (timeout) endpos=960000');
    finish(fake);
    await placed.ended;
    // Answered at once, so well before the 120 s limit: silence.
    assert.equal(cause, RecordCause.SILENCE);
  });

  it('bargeIn: every digit plus the stop digit; a key gives BARGEIN and the digit; state and cause while running', async () => {
    const seen: unknown[] = [];
    let recorder: FileRecorder | undefined;
    const placed = await t.call(async (agi) => {
      recorder = new FileRecorder(agi, media);
      seen.push(await recorder.record('msg.wav', { fileFormat: 'wav', bargeIn: true, msMaxSilence: 2500, secondsTimeout: 30, maxBytes: 0 }));
      seen.push(recorder.digit(), recorder.state(), recorder.recordedFile());
    });
    const fake = placed.fake;
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    await fake.expectCommand('RECORD FILE', '/media/msg', 'wav', '0123456789*#D', '30000', 's=3');
    assert.equal(recorder?.state(), RecordState.RECORDING);
    assert.equal(recorder?.cause(), RecordCause.NONE);
    assert.equal(recorder?.audioDetectedInRecording(), null);
    // What "Asterisk" wrote: speech, so audio is detected from the file.
    writeFileSync(path.join(dir, 'msg.wav'), encodeWav(concat(silence(8000, 300), tone(8000, 500, 300, 4000)), 'pcm16'));
    fake.reply('200 result=53 (dtmf) endpos=6400');
    finish(fake);
    await placed.ended;
    assert.deepEqual(seen, [RecordCause.BARGEIN, '5', RecordState.IDLE, path.join(dir, 'msg.wav')]);
    assert.equal(recorder?.audioDetectedInRecording(), true);
  });

  it('(timeout) replies: TIMEOUT for the time limit, SIZE when maxBytes was the smaller limit', async () => {
    const seen: unknown[] = [];
    const placed = await t.call(async (agi) => {
      const r = new FileRecorder(agi);
      seen.push(await r.record('/tmp/a', { secondsTimeout: 2, msMaxSilence: 0 }));
      seen.push(await r.record('/tmp/b', { fileFormat: 'ulaw', maxBytes: 4000, secondsTimeout: 2, msMaxSilence: 0 }));
      seen.push(await r.record('/tmp/c', { fileFormat: 'gsm', maxBytes: 66_000, secondsTimeout: 20, msMaxSilence: 0 }));
      seen.push(r.audioDetectedInRecording());
    });
    const fake = placed.fake;
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    await fake.expectCommand('RECORD FILE', '/tmp/a', 'alaw', '', '2000');
    fake.reply('200 result=0 (timeout) endpos=16000');
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    // 4000 bytes of µ-law is 500 ms; with no media directory to cut the file, Asterisk stops a frame early.
    await fake.expectCommand('RECORD FILE', '/tmp/b', 'ulaw', '', '480');
    fake.reply('200 result=0 (timeout) endpos=4000');
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    await fake.expectCommand('RECORD FILE', '/tmp/c', 'gsm', '', '20000');
    fake.reply('200 result=0 (timeout) endpos=160000');
    finish(fake);
    await placed.ended;
    assert.deepEqual(seen, [RecordCause.TIMEOUT, RecordCause.SIZE, RecordCause.TIMEOUT, null]);
  });

  it('(timeout) with silence detection: SILENCE before the limit, TIMEOUT at it', async () => {
    const seen: unknown[] = [];
    const placed = await t.call(async (agi) => {
      const r = new FileRecorder(agi);
      seen.push(await r.record('/tmp/s1', { secondsTimeout: 1, msMaxSilence: 1000 }));
      seen.push(await r.record('/tmp/s2', { secondsTimeout: 1, msMaxSilence: 1000 }));
    });
    const fake = placed.fake;
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    await fake.expectCommand('RECORD FILE', '/tmp/s1', 'alaw', '', '1000', 's=1');
    fake.reply('200 result=0 (timeout) endpos=2000');
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    await fake.expectCommand('RECORD FILE', '/tmp/s2', 'alaw', '', '1000', 's=1');
    await new Promise((r) => setTimeout(r, 1000));
    fake.reply('200 result=0 (timeout) endpos=8000');
    finish(fake);
    await placed.ended;
    assert.deepEqual(seen, [RecordCause.SILENCE, RecordCause.TIMEOUT]);
  });

  it('msInitialSilence: WaitForNoise first (seconds rounded up, +1); TIMEOUT -> SILENCE with audio false, NOISE -> records', async () => {
    const seen: unknown[] = [];
    const placed = await t.call(async (agi) => {
      const r = new FileRecorder(agi);
      seen.push(await r.record('/tmp/i1', { msInitialSilence: 1500, secondsTimeout: 5 }), r.audioDetectedInRecording());
      seen.push(await r.record('/tmp/i2', { msInitialSilence: 1000, secondsTimeout: 5, msMaxSilence: 0 }));
    });
    const fake = placed.fake;
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    await fake.expectCommand('EXEC', 'WaitForNoise', '60,1,3');
    fake.reply('200 result=0');
    await fake.expectCommand('GET VARIABLE', 'WAITSTATUS');
    fake.reply('200 result=1 (TIMEOUT)');
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    await fake.expectCommand('EXEC', 'WaitForNoise', '60,1,2');
    fake.reply('200 result=0');
    await fake.expectCommand('GET VARIABLE', 'WAITSTATUS');
    fake.reply('200 result=1 (NOISE)');
    await fake.expectCommand('RECORD FILE', '/tmp/i2', 'alaw', '', '5000');
    fake.reply('200 result=0 (timeout) endpos=40000');
    finish(fake);
    await placed.ended;
    assert.deepEqual(seen, [RecordCause.SILENCE, false, RecordCause.TIMEOUT]);
  });

  it('stop() as RECORD FILE ends by itself: the stop digit left queued on the channel is read away (WAIT FOR DIGIT), not by the next command', async () => {
    const seen: unknown[] = [];
    const placed = await t.call(async (agi) => {
      const recorder = new FileRecorder(agi, { ami });
      await recorder.start('/tmp/z', { fileFormat: 'ulaw' });
      seen.push(await recorder.stop(), recorder.cause(), recorder.digit());
      // The application's next command that listens for keys gets the caller's, not the stop digit.
      seen.push(await agi.waitForDigit(1000));
    });
    const fake = placed.fake;
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    const recording = fake.expectCommand('RECORD FILE', '/tmp/z', 'ulaw', 'D', '239980', 's=10');
    // The recording ends on its silence limit just as the stop digit is queued.
    onDtmf = () => {
      void recording.then(() => fake.reply('200 result=0 (timeout) endpos=3000'));
    };
    await recording;
    await fake.expectCommand('WAIT FOR DIGIT', '100');
    fake.reply('200 result=68');
    await fake.expectCommand('WAIT FOR DIGIT', '1000');
    fake.reply('200 result=53');
    finish(fake);
    await placed.ended;
    onDtmf = () => undefined;
    assert.deepEqual(seen, [true, RecordCause.SILENCE, null, '5']);
  });

  it('stop(): MediaSetupError without AMI; with AMI, PlayDTMF of the stop digit (Receive) ends it: ABORTED', async () => {
    const seen: unknown[] = [];
    let channel = '';
    const placed = await t.call(async (agi) => {
      channel = agi.env.channel;
      const plain = new FileRecorder(agi);
      await plain.start('/tmp/x', { fileFormat: 'ulaw' });
      seen.push(await settle(plain.stop()));
      await plain.waitUntilFinished();
      const withAmi = new FileRecorder(agi, { ami });
      seen.push(await withAmi.start('/tmp/y', { fileFormat: 'ulaw', bargeIn: true }), withAmi.state(), withAmi.cause());
      seen.push(await withAmi.stop(), withAmi.state(), withAmi.cause(), withAmi.digit());
    });
    const fake = placed.fake;
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    await fake.expectCommand('RECORD FILE', '/tmp/x', 'ulaw', '', '239980', 's=10');
    await new Promise((r) => setTimeout(r, 20));
    fake.reply('200 result=0 (timeout) endpos=100');
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    const recording = fake.expectCommand('RECORD FILE', '/tmp/y', 'ulaw', '0123456789*#D', '239980', 's=10');
    onDtmf = () => {
      void recording.then(() => fake.reply('200 result=68 (dtmf) endpos=3000'));
    };
    await recording;
    finish(fake);
    await placed.ended;
    onDtmf = () => undefined;
    const refused = (seen[0] as { error: unknown }).error;
    assert.ok(refused instanceof MediaSetupError);
    assert.match(String((refused as Error).message), /AMI/);
    assert.deepEqual(seen.slice(1), [true, RecordState.RECORDING, RecordCause.NONE, true, RecordState.IDLE, RecordCause.ABORTED, null]);
    assert.deepEqual(dtmf.at(-1), [channel, 'D', true]);
  });

  it('start() resolves with RECORD FILE already queued: a command issued next is sent after it', async () => {
    const placed = await t.call(async (agi) => {
      const r = new FileRecorder(agi);
      await r.start('/tmp/q', { fileFormat: 'wav', msMaxSilence: 0 });
      await agi.getVariable('NEXT');
      // start() has no time limit by default: maxBytes (1920000 bytes of 16-bit audio) is the only one,
      // a frame short as agikit cannot reach the file to cut it.
      assert.equal(await r.waitUntilFinished(), RecordCause.SIZE);
    });
    const fake = placed.fake;
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    await fake.expectCommand('RECORD FILE', '/tmp/q', 'wav', '', '119977');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(fake.commands.length, 2, 'nothing else sent while RECORD FILE runs');
    fake.reply('200 result=0 (timeout) endpos=8000');
    await fake.expectCommand('GET VARIABLE', 'NEXT');
    fake.reply('200 result=0');
    // waitUntilFinished() with the job over checks the call, as the seeds say.
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    finish(fake);
    const end = await placed.ended;
    assert.equal(end.status, 'SUCCESS', String(end.error));
  });

  it('call-state rules; HANGUP during a recording; ERROR when the file cannot be written', async () => {
    const seen: unknown[] = [];
    const ringing: unknown[] = [];
    const placed = await t.call(async (agi) => {
      const r = new FileRecorder(agi);
      seen.push(await settle(r.record('/tmp/n')));
      ringing.push(await settle(r.stop()), await settle(r.waitUntilFinished()));
      seen.push(await r.record('/no/dir/x', { secondsTimeout: 1 }), r.state(), r.error()?.name);
      await r.start('/tmp/h');
      seen.push(await settle(r.start('/tmp/again')), await settle(r.record('/tmp/again')));
      seen.push(await r.waitUntilFinished({ timeoutMs: null }), r.state());
      seen.push(await settle(r.record('/tmp/after')), await settle(r.stop()));
    });
    const fake = placed.fake;
    for (let i = 0; i < 3; i++) {
      await fake.expectCommand('CHANNEL STATUS');
      fake.reply('200 result=4');
    }
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    await fake.expectCommand('RECORD FILE', '/no/dir/x', 'alaw', '', '1000', 's=10');
    fake.reply('200 result=-1 (writefile)');
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    await fake.expectCommand('RECORD FILE', '/tmp/h', 'alaw', '', '239980', 's=10');
    fake.reply(['200 result=-1 (hangup) endpos=1200', 'HANGUP']);
    finish(fake);
    await placed.ended;
    assert.ok((seen[0] as { error: unknown }).error instanceof MediaStateError);
    for (const o of ringing) assert.match(String((o as { error: unknown }).error), /MediaStateError: FileRecorder\.(stop|waitUntilFinished): the channel is not answered/);
    assert.deepEqual(seen.slice(1, 4), [RecordCause.ERROR, RecordState.ERROR, 'AgiCommandError']);
    assert.ok((seen[4] as { error: unknown }).error instanceof MediaStateError);
    assert.ok((seen[5] as { error: unknown }).error instanceof MediaStateError);
    assert.deepEqual(seen.slice(6, 8), [RecordCause.HANGUP, RecordState.IDLE]);
    assert.ok((seen[8] as { error: unknown }).error instanceof AgiHangupError);
    assert.ok((seen[9] as { error: unknown }).error instanceof AgiHangupError);
  });

  it('maxBytes: a file Asterisk wrote a frame past the limit is cut back to maxBytes (headers exact), cause SIZE', async () => {
    const key = Buffer.alloc(32, 9);
    const seen: unknown[] = [];
    const files: Array<string | null> = [];
    const placed = await t.call(async (agi) => {
      const r = new FileRecorder(agi, media);
      seen.push(await r.record('cut.wav', { fileFormat: 'wav', maxBytes: 8044, secondsTimeout: 10, msMaxSilence: 0 }));
      files.push(r.recordedFile());
      // Equal limits: Asterisk reports its time limit, but the file went past maxBytes, so SIZE.
      seen.push(await r.record('tie.wav', { fileFormat: 'wav', maxBytes: 8044, secondsTimeout: 0.5, msMaxSilence: 0 }));
      seen.push(await r.record('sealed.wav', { fileFormat: 'wav', maxBytes: 8080, secondsTimeout: 10, msMaxSilence: 0, cipher: { key } }));
      files.push(r.recordedFile());
    });
    const fake = placed.fake;
    // 8044 bytes of 16-bit WAV is 500 ms; "Asterisk" writes 26 frames (520 ms, 8364 bytes).
    const overshoot = encodeWav(tone(8000, 520, 300, 4000), 'pcm16');
    for (const base of ['cut', 'tie', 'sealed']) {
      await fake.expectCommand('CHANNEL STATUS');
      fake.reply(UP);
      await fake.expectCommand('RECORD FILE', `/media/${base}`, 'wav', 'D', '500');
      writeFileSync(path.join(dir, `${base}.wav`), overshoot);
      fake.reply('200 result=0 (timeout) endpos=4160');
    }
    finish(fake);
    await placed.ended;
    assert.deepEqual(seen, [RecordCause.SIZE, RecordCause.SIZE, RecordCause.SIZE]);
    const cut = readFileSync(files[0] ?? '');
    assert.equal(cut.length, 8044);
    assert.equal(cut.readUInt32LE(4), 8044 - 8);
    assert.equal(cut.readUInt32LE(40), 8000);
    assert.deepEqual(decodeWav(cut).samples, decodeWav(overshoot).samples.subarray(0, 4000));
    // With cipher the limit holds for the encrypted file: its 36-byte envelope counts.
    const sealed = readFileSync(files[1] ?? '');
    assert.equal(sealed.length, 8080);
    assert.equal(decryptRecording(sealed, { key }).length, 8044);
  });

  it('A-law (the default) is a WAV file: Asterisk\'s headerless A-law, recorded under a temporary name, wrapped as it is', async () => {
    const seen: unknown[] = [];
    let file: string | null = null;
    const placed = await t.call(async (agi) => {
      const r = new FileRecorder(agi, media);
      seen.push(await r.record('voicemail/msg', { secondsTimeout: 1, msMaxSilence: 0 }), r.audioDetectedInRecording());
      file = r.recordedFile();
    });
    const fake = placed.fake;
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    const cmd = await fake.nextCommand();
    assert.deepEqual(cmd.words.slice(0, 2).concat(cmd.words.slice(3, 6)), ['RECORD', 'FILE', 'alaw', 'D', '1000']);
    const asteriskBase = cmd.words[2] ?? '';
    assert.match(asteriskBase, /^\/media\/voicemail\/msg\.agikit-recording-[0-9a-f]{8}$/);
    const raw = encodeAlaw(tone(8000, 1000, 300, 5000).samples);
    const temp = path.join(dir, `${asteriskBase.slice('/media/'.length)}.alaw`);
    writeFileSync(temp, raw);
    fake.reply('200 result=0 (timeout) endpos=8000');
    finish(fake);
    await placed.ended;
    assert.deepEqual(seen, [RecordCause.TIMEOUT, true]);
    assert.equal(file, path.join(dir, 'voicemail', 'msg.wav'));
    const wav = readFileSync(file ?? '');
    const info = parseWav(wav);
    assert.deepEqual([info.formatTag, info.sampleRate, info.bitsPerSample, wav.length, wav.readUInt32LE(4)], [WavFormatTag.Alaw, 8000, 8, 58 + 8000, 8050]);
    assert.ok(info.data.equals(raw), 'the A-law bytes as Asterisk wrote them');
    assert.throws(() => readFileSync(temp), /ENOENT/);
  });

  it('maxBytes smaller than the format\'s header is refused', async () => {
    let error: unknown;
    const placed = await t.call(async (agi) => {
      error = (await settle(new FileRecorder(agi, media).record('tiny', { fileFormat: 'wav', maxBytes: 44 }))).error;
    });
    finish(placed.fake);
    await placed.ended;
    assert.match(String(error), /AgiArgumentError: FileRecorder: maxBytes 44 leaves no room for audio/);
  });

  it('converted formats need the media directory; u8bit at 6 kHz is converted from the 8 kHz WAV and encrypted', async () => {
    const key = Buffer.alloc(32, 3);
    const seen: unknown[] = [];
    let file: string | null = null;
    const placed = await t.call(async (agi) => {
      seen.push(await settle(new FileRecorder(agi).record('/tmp/x', { fileFormat: 'ima' })));
      seen.push(await settle(new FileRecorder(agi).record('/tmp/x', { cipher: { key } })));
      const r = new FileRecorder(agi, media);
      seen.push(await r.record('u8', { fileFormat: 'u8bit', rate: 6000, secondsTimeout: 1, msMaxSilence: 0, cipher: { key } }), r.audioDetectedInRecording());
      file = r.recordedFile();
    });
    const fake = placed.fake;
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply(UP);
    const cmd = await fake.nextCommand();
    assert.deepEqual([cmd.words[0], cmd.words[1], cmd.words[3], cmd.words[4], cmd.words[5]], ['RECORD', 'FILE', 'wav', 'D', '1000']);
    const asteriskBase = cmd.words[2] ?? '';
    assert.match(asteriskBase, /^\/media\/u8\.agikit-recording-[0-9a-f]{8}$/);
    writeFileSync(path.join(dir, `${asteriskBase.slice('/media/'.length)}.wav`), encodeWav(tone(8000, 1000, 300, 5000), 'pcm16'));
    fake.reply('200 result=0 (timeout) endpos=8000');
    finish(fake);
    await placed.ended;
    assert.ok((seen[0] as { error: unknown }).error instanceof MediaSetupError);
    assert.ok((seen[1] as { error: unknown }).error instanceof MediaSetupError);
    assert.deepEqual(seen.slice(2), [RecordCause.TIMEOUT, true]);
    assert.equal(file, path.join(dir, 'u8.wav'));
    const plain = decryptRecording(readFileSync(path.join(dir, 'u8.wav')), { key });
    const info = parseWav(plain);
    assert.deepEqual([info.formatTag, info.bitsPerSample, info.sampleRate], [WavFormatTag.Pcm, 8, 6000]);
    assert.ok(Math.abs(decodeWav(plain).samples.length - 6000) < 10);
  });
});
