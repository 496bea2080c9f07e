/**
 * Live: playback and DTMF commands (streamFile, controlStreamFile, getOption, getData,
 * waitForDigit and the say* family) against a real Asterisk 22. The far leg presses keys only
 * after the app signalled it is about to play or listen (the harness's astdb sync primitive), so
 * nothing depends on how fast the machine is. What Asterisk played is checked in its console log.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Agi } from '../../src/agi/agi.js';
import { far } from '../../src/testing/asterisk.js';
import { LiveRig, live, signal, skip } from './rig.js';

/** Samples (8 kHz) in a GSM sound file: 33 bytes per 160-sample frame. */
async function gsmSamples(rig: LiveRig, name: string): Promise<number> {
  const r = await rig.asterisk.exec(['stat', '-c', '%s', `/usr/share/asterisk/sounds/en/${name}.gsm`]);
  assert.equal(r.exitCode, 0, r.stderr);
  const bytes = Number(r.stdout.trim());
  assert.equal(bytes % 33, 0, `${name}.gsm is whole GSM frames`);
  return (bytes / 33) * 160;
}

/** Sound files Asterisk's console says it played on a channel, in order, without extension. */
function played(rig: LiveRig, channel: string): string[] {
  const marker = `<${channel}> Playing '`;
  return rig.asterisk
    .logs()
    .split('\n')
    .filter((line) => line.includes(marker))
    .map((line) => line.slice(line.indexOf(marker) + marker.length).replace(/\.[a-z0-9]+' .*$/, ''));
}

/** Assert `expected` appears in `actual` in this order (other entries may come between). */
function assertSubsequence(actual: readonly string[], expected: readonly string[]): void {
  let i = 0;
  for (const item of actual) if (item === expected[i]) i++;
  assert.equal(i, expected.length, `expected ${JSON.stringify(expected)} in order within ${JSON.stringify(actual)}`);
}

describe('live: playback and DTMF', { concurrency: true }, () => {
  let rig: LiveRig | undefined;
  before(async () => {
    if (live.ok) rig = await LiveRig.start();
  });
  after(async () => {
    await rig?.stop();
  });

  it('streamFile plays to the end (endpos = file length in samples) or stops on an escape digit (\'5\', \'#\')', { skip }, async () => {
    assert.ok(rig);
    const beep = await gsmSamples(rig, 'beep');
    const monkeys = await gsmSamples(rig, 'tt-monkeys');
    const got: Record<string, unknown> = {};
    let channel = '';
    await rig.run(
      async (agi) => {
        channel = agi.env.channel;
        got['full'] = await agi.streamFile('beep');
        got['fullStatus'] = await agi.getVariable('PLAYBACKSTATUS');
        await signal(agi, 'press-5');
        got['five'] = await agi.streamFile('tt-monkeys', '5');
        got['fiveStatus'] = await agi.getVariable('PLAYBACKSTATUS');
        await signal(agi, 'press-hash');
        got['hash'] = await agi.streamFile('tt-monkeys', ['1', '#']);
        // Start near the end of the file: the offset (samples) is honoured.
        await signal(agi, 'press-offset');
        got['offset'] = await agi.streamFile('tt-monkeys', [5], monkeys - 8000 * 10);
      },
      {
        far: [far.waitFor('press-5'), far.dtmf('5'), far.waitFor('press-hash'), far.dtmf('#'), far.waitFor('press-offset'), far.dtmf('5')],
      },
    );
    assert.deepEqual(got['full'], { digit: null, endpos: beep });
    assert.equal(got['fullStatus'], 'SUCCESS');
    const five = got['five'] as { digit: string; endpos: number };
    assert.equal(five.digit, '5');
    assert.ok(five.endpos > 0 && five.endpos < monkeys, `endpos ${five.endpos} inside the file`);
    // Asterisk sets PLAYBACKSTATUS=FAILED whenever STREAM FILE's result is not 0, a key press included.
    assert.equal(got['fiveStatus'], 'FAILED');
    const hash = got['hash'] as { digit: string; endpos: number };
    assert.equal(hash.digit, '#');
    assert.ok(hash.endpos > 0 && hash.endpos < monkeys);
    const offset = got['offset'] as { digit: string; endpos: number };
    assert.equal(offset.digit, '5');
    assert.ok(offset.endpos >= monkeys - 8000 * 10 && offset.endpos < monkeys, `endpos ${offset.endpos} after the offset`);
    assertSubsequence(played(rig, channel), ['beep', 'tt-monkeys', 'tt-monkeys', 'tt-monkeys']);
  });

  it('streamFile ignores digits that are not escape digits', { skip }, async () => {
    assert.ok(rig);
    const hello = await gsmSamples(rig, 'hello-world');
    let got: unknown;
    await rig.run(
      async (agi) => {
        await signal(agi, 'press');
        got = await agi.streamFile('hello-world', '5');
      },
      { far: [far.waitFor('press'), far.dtmf('1')] },
    );
    assert.deepEqual(got, { digit: null, endpos: hello });
  });

  it('controlStreamFile: end of file gives endposMs null; a stop key its digit; fast-forward and offsetMs move the position', { skip }, async () => {
    assert.ok(rig);
    const monkeysMs = ((await gsmSamples(rig, 'tt-monkeys')) / 8000) * 1000;
    const got: Record<string, unknown> = {};
    await rig.run(
      async (agi) => {
        got['full'] = await agi.controlStreamFile('beep');
        await signal(agi, 'stop');
        got['stopped'] = await agi.controlStreamFile('tt-monkeys', '5');
        got['vars'] = await agi.getFullVariable('${CPLAYBACKSTATUS}|${CPLAYBACKSTOPKEY}|${CPLAYBACKOFFSET}');
        // '#' skips forward 5 s, then '5' stops: the position is past the skip.
        await signal(agi, 'ff');
        got['ff'] = await agi.controlStreamFile('tt-monkeys', '5', { skipMs: 5000 });
        await signal(agi, 'offset');
        got['offset'] = await agi.controlStreamFile('tt-monkeys', '5', { offsetMs: 8000 });
      },
      { far: [far.waitFor('stop'), far.dtmf('5'), far.waitFor('ff'), far.dtmf('#5'), far.waitFor('offset'), far.dtmf('5')] },
    );
    assert.deepEqual(got['full'], { digit: null, endposMs: null });
    const stopped = got['stopped'] as { digit: string; endposMs: number };
    assert.equal(stopped.digit, '5');
    assert.ok(stopped.endposMs > 0 && stopped.endposMs < monkeysMs, `endposMs ${stopped.endposMs}`);
    assert.equal(got['vars'], `USERSTOPPED|5|${stopped.endposMs}`);
    const ff = got['ff'] as { digit: string; endposMs: number };
    assert.equal(ff.digit, '5');
    assert.ok(ff.endposMs >= 5000 && ff.endposMs < monkeysMs, `endposMs ${ff.endposMs} after a 5 s skip`);
    const offset = got['offset'] as { digit: string; endposMs: number };
    assert.equal(offset.digit, '5');
    assert.ok(offset.endposMs >= 8000 && offset.endposMs < monkeysMs, `endposMs ${offset.endposMs} after an 8 s offset`);
  });

  it('getOption returns the escape digit pressed, or null after its timeout', { skip }, async () => {
    assert.ok(rig);
    const beep = await gsmSamples(rig, 'beep');
    const got: Record<string, unknown> = {};
    await rig.run(
      async (agi) => {
        got['timeout'] = await agi.getOption('beep', '7', 200);
        await signal(agi, 'press');
        got['pressed'] = await agi.getOption('tt-monkeys', '78', 5000);
      },
      { far: [far.waitFor('press'), far.dtmf('7')] },
    );
    assert.deepEqual(got['timeout'], { digit: null, endpos: beep });
    const pressed = got['pressed'] as { digit: string; endpos: number };
    assert.equal(pressed.digit, '7');
    assert.ok(pressed.endpos > 0);
  });

  it('getData: digits up to #, up to maxDigits, # alone; a digit during the prompt interrupts it and counts', { skip }, async () => {
    assert.ok(rig);
    const got: Record<string, unknown> = {};
    await rig.run(
      async (agi) => {
        await signal(agi, 'hash');
        got['hash'] = await agi.getData('beep', 5000, 5);
        await signal(agi, 'max');
        got['max'] = await agi.getData('', 5000, 3);
        await signal(agi, 'only-hash');
        got['onlyHash'] = await agi.getData('', 5000);
        await signal(agi, 'barge');
        got['barge'] = await agi.getData('tt-monkeys', 5000, 2);
      },
      {
        far: [
          far.waitFor('hash'),
          far.dtmf('12#'),
          far.waitFor('max'),
          far.dtmf('456'),
          far.waitFor('only-hash'),
          far.dtmf('#'),
          far.waitFor('barge'),
          far.dtmf('*0'),
        ],
      },
    );
    assert.deepEqual(got, {
      hash: { digits: '12', timeout: false },
      max: { digits: '456', timeout: false },
      onlyHash: { digits: '', timeout: false },
      barge: { digits: '*0', timeout: false },
    });
  });

  it('getData: the timeout ends input, with or without digits', { skip }, async () => {
    assert.ok(rig);
    const got: Record<string, unknown> = {};
    await rig.run(
      async (agi) => {
        await signal(agi, 'partial');
        got['partial'] = await agi.getData('', 1500, 5);
        got['nothing'] = await agi.getData('', 300);
      },
      { far: [far.waitFor('partial'), far.dtmf('89')] },
    );
    assert.deepEqual(got, {
      partial: { digits: '89', timeout: true },
      nothing: { digits: '', timeout: true },
    });
  });

  it('waitForDigit returns 5, #, * and A as characters, and null on timeout', { skip }, async () => {
    assert.ok(rig);
    const digits: unknown[] = [];
    await rig.run(
      async (agi: Agi) => {
        for (const d of ['5', 'hash', 'star', 'A']) {
          await signal(agi, `key-${d}`);
          digits.push(await agi.waitForDigit(10_000));
        }
        digits.push(await agi.waitForDigit(100));
      },
      {
        far: [
          far.waitFor('key-5'),
          far.dtmf('5'),
          far.waitFor('key-hash'),
          far.dtmf('#'),
          far.waitFor('key-star'),
          far.dtmf('*'),
          far.waitFor('key-A'),
          far.dtmf('A'),
        ],
      },
    );
    assert.deepEqual(digits, ['5', '#', '*', 'A', null]);
  });

  /** Run `say` in a call and check it returned null (played to the end) and what Asterisk played. */
  async function sayToTheEnd(say: (agi: Agi) => Promise<Array<string | null>>, expected: string[]): Promise<void> {
    assert.ok(rig);
    let got: Array<string | null> = [];
    let channel = '';
    await rig.run(async (agi) => {
      channel = agi.env.channel;
      got = await say(agi);
    });
    assert.deepEqual(got, got.map(() => null));
    await rig.logShows([`<${channel}> Playing '${expected.at(-1) ?? ''}.`]);
    assert.deepEqual(played(rig, channel), expected);
  }

  it('sayDigits and sayNumber play the digits and the number, to the end (null)', { skip }, async () => {
    await sayToTheEnd(async (agi) => [await agi.sayDigits('1*'), await agi.sayNumber(47)], ['digits/1', 'digits/star', 'digits/40', 'digits/7']);
  });

  it('sayNumber takes the digits getData returns, as a string', { skip }, async () => {
    await sayToTheEnd(async (agi) => [await agi.sayNumber('012')], ['digits/12']);
  });

  it('sayAlpha (with its case mode) and sayPhonetic spell the text, to the end (null)', { skip }, async () => {
    await sayToTheEnd(
      async (agi) => [await agi.sayAlpha('aB', '', 'upper'), await agi.sayPhonetic('z')],
      ['letters/a', 'uppercase', 'letters/b', 'phonetic/z_p'],
    );
  });

  it('sayDateTime honours its format and timezone, to the end (null)', { skip }, async () => {
    // 2024-01-07 23:00:00 UTC: a Sunday in UTC (the container's zone), a Monday in Tokyo.
    const sundayNight = new Date('2024-01-07T23:00:00Z');
    await sayToTheEnd(
      async (agi) => [await agi.sayDateTime(sundayNight, '', 'A', 'Asia/Tokyo'), await agi.sayDateTime(sundayNight.getTime() / 1000, '', 'A')],
      ['digits/day-1', 'digits/day-0'],
    );
  });

  it('say* stop on an escape digit and return it', { skip }, async () => {
    assert.ok(rig);
    const when = new Date('2024-01-07T23:00:00Z');
    const names = ['digits', 'number', 'alpha', 'phonetic', 'date', 'time', 'datetime', 'datetimeZone'];
    const got: Record<string, unknown> = {};
    let channel = '';
    await rig.run(
      async (agi) => {
        channel = agi.env.channel;
        const says: Record<string, () => Promise<string | null>> = {
          digits: () => agi.sayDigits('9876543210', '5'),
          number: () => agi.sayNumber(1_234_567, ['5']),
          alpha: () => agi.sayAlpha('klmnopqrst', '5', 'none'),
          phonetic: () => agi.sayPhonetic('klmnopqrst', '5'),
          date: () => agi.sayDate(when, '5'),
          time: () => agi.sayTime(when, '5'),
          datetime: () => agi.sayDateTime(when, '5'),
          // A timezone without a format: agikit sends Asterisk's default format with it.
          datetimeZone: () => agi.sayDateTime(when, '5', undefined, 'Asia/Tokyo'),
        };
        for (const name of names) {
          await signal(agi, name);
          got[name] = await says[name]!();
        }
      },
      { far: names.flatMap((name) => [far.waitFor(name), far.dtmf('5')]) },
    );
    assert.deepEqual(got, Object.fromEntries(names.map((n) => [n, '5'])));
    // Each started with the right first word: "Sunday" for the date and datetime in UTC, "11" (pm)
    // for the time, "Monday" in Tokyo.
    await rig.logShows([`<${channel}> Playing 'digits/day-1`]);
    assertSubsequence(played(rig, channel), [
      'digits/9',
      'digits/1',
      'letters/k',
      'phonetic/k_p',
      'digits/day-0',
      'digits/11',
      'digits/day-0',
      'digits/day-1',
    ]);
  });
});
