/**
 * The live harness's call dialplan, without Docker: what `callDialplan` asks Asterisk to add, and how
 * `parseCallResult` reads back the hangup handler's astdb entries. The live tests (harness.test.ts)
 * prove that Asterisk runs it as intended.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callDialplan, parseCallResult } from '../../src/testing/call-dialplan.js';
import { MAX_CLI_COMMAND_BYTES, cliCommandBytes } from '../../src/testing/dialplan-text.js';
import { far } from '../../src/testing/far-steps.js';

/** `dialplan add extension "<ext>,<prio>,<app>(<data>)" into <context>`, unquoted again. */
function parseAdd(command: string): { context: string; extension: string; priority: number; app: string; data: string } {
  const m = /^dialplan add extension "(.*)" into (\S+)$/.exec(command);
  assert.ok(m?.[1] !== undefined && m[2] !== undefined, command);
  const line = m[1].replace(/\\(.)/g, '$1');
  const lm = /^([^,]+),(\d+),(\w+)\((.*)\)$/.exec(line);
  assert.ok(lm?.[1] !== undefined && lm[2] !== undefined && lm[3] !== undefined && lm[4] !== undefined, line);
  return { context: m[2], extension: lm[1], priority: Number(lm[2]), app: lm[3], data: lm[4] };
}

describe('callDialplan', () => {
  it('adds the far leg, then the AGI side, numbered from 1, and originates one into the other', () => {
    const plan = callDialplan('c1', {
      agi: { port: 4573, route: '/ivr/main' },
      args: ['a b', 'x,y'],
      far: [far.waitFor('ready'), far.dtmf('12#'), far.hangup(17)],
      record: ['CHOICE'],
      timeoutMs: 10_000,
    });
    const adds = plan.adds.map(parseAdd);
    const farLeg = adds.filter((a) => a.context === 'agikit-far');
    const appSide = adds.filter((a) => a.context === 'agikit-app');
    assert.equal(farLeg.length + appSide.length, adds.length);
    assert.ok(adds.indexOf(farLeg[0]!) < adds.indexOf(appSide[0]!), 'far leg first');
    for (const side of [farLeg, appSide]) {
      assert.deepEqual(side.map((a) => a.priority), side.map((_, i) => i + 1));
      assert.ok(side.every((a) => a.extension === 'c1'));
    }
    assert.deepEqual(
      farLeg.map((a) => [a.app, a.data]),
      [
        ['Answer', ',i'],
        ['Gosub', 'agikit-sync,wait,1(c1,ready,200)'],
        ['SendDTMF', '12#'],
        ['Hangup', '17'],
        ['Wait', '15'],
        ['Hangup', ''],
      ],
    );
    const agi = appSide.find((a) => a.app === 'AGI');
    assert.equal(agi?.data, 'agi://127.0.0.1:4573/ivr/main,a b,x\\,y');
    assert.ok(appSide.some((a) => a.app === 'Set' && a.data === 'AGIKIT_RECORD=CHOICE'));
    assert.equal(plan.originate, 'channel originate Local/c1@agikit-far/n extension c1@agikit-app');
    assert.deepEqual(plan.cleanup, [
      'dialplan remove extension c1@agikit-app',
      'dialplan remove extension c1@agikit-far',
      'database deltree agikit-sync/c1',
      'database deltree agikit-result/c1',
    ]);
  });

  it('passes a value with $ through a base64 channel variable, since substitution has no escape', () => {
    const plan = callDialplan('c2', { agi: 'agi://127.0.0.1:1/x', args: ['${EVIL}'] });
    const adds = plan.adds.map(parseAdd).filter((a) => a.context === 'agikit-app');
    const agi = adds.find((a) => a.app === 'AGI');
    assert.match(agi?.data ?? '', /^agi:\/\/127\.0\.0\.1:1\/x,\$\{BASE64_DECODE\(\$\{AGIKIT_T1\}\)\}$/);
    const stash = adds.find((a) => a.data.startsWith('AGIKIT_T1='));
    assert.equal(Buffer.from(stash?.data.slice('AGIKIT_T1='.length) ?? '', 'base64').toString(), '${EVIL}');
  });

  it('keeps every command within what the remote console accepts, even for long arguments', () => {
    const plan = callDialplan('c3', { agi: { port: 1 }, args: ['x'.repeat(600), 'y'.repeat(300)], variables: { LONG: 'z '.repeat(400) } });
    for (const command of plan.adds) assert.ok(cliCommandBytes(command) <= MAX_CLI_COMMAND_BYTES, command.slice(0, 60));
  });

  it('refuses bad input before anything is sent', () => {
    assert.throws(() => callDialplan('c-1', { agi: { port: 1 } }), /invalid call id/);
    assert.throws(() => callDialplan('c4', { agi: { port: 1 }, record: ['A&B'] }), /cannot record/);
    assert.throws(() => callDialplan('c4', { agi: { port: 1 }, variables: { 'A B': '1' } }), /invalid variable name/);
    assert.throws(() => callDialplan('c4', { agi: { port: 1 }, args: ['a\nb'] }), /line breaks/);
    assert.throws(() => callDialplan('c4', { agi: { port: 1 }, far: [far.waitFor('no spaces')] }), /invalid signal name/);
    assert.throws(() => callDialplan('c4', { agi: { port: 1 }, far: [far.dtmf('12x')] }), /invalid DTMF/);
    assert.throws(() => callDialplan('c4', { agi: { port: 1 }, far: [far.silence(0)] }), /at least 1 second/);
  });
});

describe('parseCallResult', () => {
  it('reads status, location, cause, recorded variables (base64) and the far leg\'s digits', () => {
    const result = parseCallResult(
      'c5',
      [
        { key: 'agistatus', value: 'SUCCESS' },
        { key: 'location', value: 'agikit-continue,200,1' },
        { key: 'hangupcause', value: '16' },
        { key: 'var-CHOICE', value: Buffer.from(' 1 ').toString('base64') },
        { key: 'far-read-pin', value: '1234' },
        { key: 'done', value: '1' },
      ],
      420,
    );
    assert.deepEqual(result, {
      id: 'c5',
      agiStatus: 'SUCCESS',
      location: { context: 'agikit-continue', extension: '200', priority: 1 },
      hangupCause: 16,
      variables: { CHOICE: ' 1 ' },
      farDigits: { pin: '1234' },
      farTimeout: undefined,
      durationMs: 420,
    });
    assert.deepEqual(parseCallResult('c6', [], 1), {
      id: 'c6',
      agiStatus: '',
      location: undefined,
      hangupCause: undefined,
      variables: {},
      farDigits: {},
      farTimeout: undefined,
      durationMs: 1,
    });
  });
});
