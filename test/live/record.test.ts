/**
 * Live: audio in both directions against a real Asterisk 22. recordFile ended by DTMF, by silence
 * and by its time limit (the recording exists in the container and holds sound: wavStats of the
 * file), its error and beep paths; and what the far leg hears: a streamFile prompt, music on hold
 * from setMusic.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AgiCommandError } from '../../src/errors.js';
import { far } from '../../src/testing/asterisk.js';
import { wavStats, type WavStats } from '../../src/testing/wav.js';
import { LiveRig, live, signal, skip, waitSignal } from './rig.js';

/** RMS above which a recording holds sound (speech or music); digital silence is 0. */
const SOUND_RMS = 200;

describe('live: recording and audio', { concurrency: true }, () => {
  let rig: LiveRig | undefined;
  before(async () => {
    if (live.ok) rig = await LiveRig.start();
  });
  after(async () => {
    await rig?.stop();
  });

  async function stats(file: string): Promise<WavStats> {
    assert.ok(rig);
    return wavStats(await rig.asterisk.readFile(file));
  }

  it('recordFile ended by an escape digit: reason dtmf, the digit, endpos = samples in the file, which holds sound', { skip }, async () => {
    assert.ok(rig);
    let got: unknown;
    let base = '';
    await rig.run(
      async (agi) => {
        base = `/tmp/agikit-live-${agi.env.extension}-dtmf`;
        await signal(agi, 'recording');
        got = await agi.recordFile(base, 'wav', '5#', 10_000);
      },
      { far: [far.waitFor('recording'), far.playback('hello-world'), far.dtmf('5')] },
    );
    const r = got as { reason: string; digit: string; endpos: number };
    assert.equal(r.reason, 'dtmf');
    assert.equal(r.digit, '5');
    const s = await stats(`${base}.wav`);
    assert.equal(s.sampleRate, 8000);
    assert.equal(s.samples, r.endpos);
    assert.ok(s.rms > SOUND_RMS, `rms ${s.rms}`);
  });

  it('recordFile ended by silence (s=1): reported as timeout, long before the time limit; the sound before the silence is kept', { skip }, async () => {
    assert.ok(rig);
    let got: unknown;
    let base = '';
    await rig.run(
      async (agi) => {
        base = `/tmp/agikit-live-${agi.env.extension}-silence`;
        await signal(agi, 'recording');
        got = await agi.recordFile(base, 'wav', '', 20_000, { silenceSeconds: 1 });
      },
      // Speech, then silent frames (needed by the silence detector), then speech again that must not be recorded.
      { far: [far.waitFor('recording'), far.playback('hello-world'), far.silence(4), far.playback('tt-monkeys')] },
    );
    const r = got as { reason: string; digit: null; endpos: number };
    assert.equal(r.reason, 'timeout');
    assert.equal(r.digit, null);
    assert.ok(r.endpos > 0 && r.endpos < 8000 * 10, `endpos ${r.endpos} well before the 20 s limit`);
    const s = await stats(`${base}.wav`);
    assert.equal(s.samples, r.endpos);
    assert.ok(s.rms > SOUND_RMS, `rms ${s.rms}`);
  });

  it('recordFile ended by its time limit: reason timeout, about that much audio', { skip }, async () => {
    assert.ok(rig);
    let got: unknown;
    let base = '';
    await rig.run(
      async (agi) => {
        base = `/tmp/agikit-live-${agi.env.extension}-limit`;
        await waitSignal(agi, 'talking');
        got = await agi.recordFile(base, 'wav', '#', 1000);
      },
      { far: [far.signal('talking'), far.playback('tt-monkeys')] },
    );
    const r = got as { reason: string; digit: null; endpos: number };
    assert.equal(r.reason, 'timeout');
    assert.equal(r.digit, null);
    // 1000 ms at 8 kHz, give or take a few 20 ms frames.
    assert.ok(r.endpos > 4000 && r.endpos <= 12_000, `endpos ${r.endpos}`);
    const s = await stats(`${base}.wav`);
    assert.equal(s.samples, r.endpos);
    assert.ok(s.rms > SOUND_RMS, `rms ${s.rms}`);
  });

  it('recordFile with beep and silence options plays the beep first; a file that cannot be created throws AgiCommandError', { skip }, async () => {
    assert.ok(rig);
    let beeped: unknown;
    let failed: unknown;
    let after: unknown;
    let channel = '';
    let base = '';
    await rig.run(
      async (agi) => {
        channel = agi.env.channel;
        base = `/tmp/agikit-live-${agi.env.extension}-beep`;
        beeped = await agi.recordFile(base, 'wav', '', 500, { beep: true, silenceSeconds: 5 });
        failed = await agi.recordFile('/no/such/directory/x', 'wav', '', 500).catch((e: unknown) => e);
        after = await agi.channelStatus();
      },
      { far: [far.playback('tt-monkeys')] },
    );
    const r = beeped as { reason: string; endpos: number };
    assert.equal(r.reason, 'timeout');
    assert.ok(r.endpos > 0);
    await rig.logShows([`<${channel}> Playing 'beep.gsm'`]);
    assert.ok(failed instanceof AgiCommandError, String(failed));
    assert.deepEqual(failed.reply.lines, ['200 result=-1 (writefile)']);
    assert.equal(after, 6, 'the channel is still up and the session in step');
    const ls = await rig.asterisk.exec(['ls', `${base}.wav`]);
    assert.equal(ls.exitCode, 0, ls.stderr);
  });

  it('recordFile: an escape digit during the beep ends it before recording (beep-interrupted)', { skip }, async () => {
    assert.ok(rig);
    let got: unknown;
    await rig.run(
      async (agi) => {
        await signal(agi, 'beeping');
        got = await agi.recordFile(`/tmp/agikit-live-${agi.env.extension}-interrupted`, 'wav', '5', 5000, { beep: true });
      },
      { far: [far.waitFor('beeping'), far.dtmf('5', { durationMs: 40 })] },
    );
    assert.deepEqual(got, { reason: 'beep-interrupted', digit: '5', endpos: 0 });
  });

  it('the far leg hears a streamFile prompt', { skip }, async () => {
    assert.ok(rig);
    const file = `/tmp/agikit-live-heard-${randomBytes(4).toString('hex')}.wav`;
    let played: { digit: string | null; endpos: number } | undefined;
    await rig.run(
      async (agi) => {
        await waitSignal(agi, 'recording');
        played = await agi.streamFile('hello-world');
      },
      // Record() runs until the call hangs up after the app ends (it keeps the file).
      { far: [far.signal('recording'), far.record(file, { maxSeconds: 20 })] },
    );
    assert.ok(played);
    const s = await stats(file);
    assert.ok(s.rms > SOUND_RMS, `rms ${s.rms}`);
    // Everything the app played reached the far leg (the far leg's recording may hold a little more).
    assert.ok(s.samples >= played.endpos * 0.9, `heard ${s.samples} of ${played.endpos} samples`);
  });

  it('setMusic(true) plays music on hold to the far leg until setMusic(false)', { skip }, async () => {
    assert.ok(rig);
    const tag = randomBytes(4).toString('hex');
    const onFile = `/tmp/agikit-live-moh-on-${tag}.wav`;
    const offFile = `/tmp/agikit-live-moh-off-${tag}.wav`;
    const digits: unknown[] = [];
    await rig.run(
      async (agi) => {
        await agi.setMusic(true);
        await signal(agi, 'music-on');
        // The far leg records 2 s of what it hears, then presses 1.
        digits.push(await agi.waitForDigit(15_000));
        await agi.setMusic(false);
        await signal(agi, 'music-off');
        // The far leg records 1 s more, then hangs up.
        await agi.hungUp;
      },
      {
        far: [
          far.waitFor('music-on'),
          far.record(onFile, { maxSeconds: 2 }),
          far.dtmf('1'),
          far.waitFor('music-off'),
          far.record(offFile, { maxSeconds: 1 }),
          far.hangup(),
        ],
      },
    );
    assert.deepEqual(digits, ['1']);
    const on = await stats(onFile);
    assert.ok(on.durationSeconds >= 1, `recorded ${on.durationSeconds} s`);
    assert.ok(on.rms > SOUND_RMS, `rms ${on.rms} with music on`);
    // With the music off the app sends nothing at all (transmit_silence=no).
    const off = await stats(offFile);
    assert.equal(off.peak, 0, `peak ${off.peak} with music off (${off.samples} samples)`);
  });
});
