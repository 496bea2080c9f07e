import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AGI_COMMANDS, type AgiCommandName } from '../../src/agi/commands.js';
import {
  AgiArgumentError,
  AgiCommandError,
  AgiHangupError,
  AgiInvalidCommandError,
  AgiUsageError,
} from '../../src/errors.js';
import type { FakeReply } from '../../src/testing/fake-asterisk.js';
import { isStatusWrite, startTestServer, type TestServer } from '../support/fake-server.js';

const DEAD = '511 Command Not Permitted on a dead channel or intercept routine';
const ALIVE = '200 result=6';
const USAGE = ['520-Invalid command syntax.  Proper usage follows:', ' Usage: the usage text', '520 End of proper usage.'];

interface Case {
  /** The method and its arguments. */
  call: [AgiCommandName, ...unknown[]];
  /** The words Asterisk's tokenizer must read (null: nothing may be sent). */
  words: string[] | null;
  /** What the fake Asterisk answers. */
  reply?: FakeReply;
  /** The answer to agikit's CHANNEL STATUS probe after an ambiguous -1. */
  probe?: FakeReply;
  result?: unknown;
  error?: new (...args: never[]) => Error;
}

const cases: Case[] = [
  { call: ['answer'], words: ['ANSWER'], reply: '200 result=0', result: undefined },
  { call: ['answer'], words: ['ANSWER'], reply: '200 result=-1', probe: ALIVE, error: AgiCommandError },
  { call: ['answer'], words: ['ANSWER'], reply: '200 result=-1', probe: ['HANGUP', DEAD], error: AgiHangupError },
  { call: ['asyncAgiBreak'], words: ['ASYNCAGI', 'BREAK'], reply: '200 result=0', result: undefined },
  { call: ['channelStatus'], words: ['CHANNEL', 'STATUS'], reply: '200 result=6', result: 6 },
  { call: ['channelStatus', 'PJSIP/nobody'], words: ['CHANNEL', 'STATUS', 'PJSIP/nobody'], reply: '200 result=-1', error: AgiCommandError },
  {
    call: ['controlStreamFile', 'demo', '5'],
    words: ['CONTROL', 'STREAM', 'FILE', 'demo', '5'],
    reply: '200 result=53 endpos=1500',
    result: { digit: '5', endposMs: 1500 },
  },
  {
    call: ['controlStreamFile', 'demo', '', { pauseKey: '0' }],
    words: ['CONTROL', 'STREAM', 'FILE', 'demo', '', '3000', '#', '*', '0'],
    reply: '200 result=0 endpos=-1',
    result: { digit: null, endposMs: null },
  },
  { call: ['controlStreamFile', 'nofile'], words: ['CONTROL', 'STREAM', 'FILE', 'nofile', ''], reply: '200 result=-1 endpos=-1', probe: ALIVE, error: AgiCommandError },
  // Asterisk 22 answers result=1 for a key that did not exist too (seen live: test/live/variables-db.test.ts).
  { call: ['databaseDel', 'fam', 'k'], words: ['DATABASE', 'DEL', 'fam', 'k'], reply: '200 result=1', result: true },
  { call: ['databaseDel', 'fam', 'k'], words: ['DATABASE', 'DEL', 'fam', 'k'], reply: '200 result=0', result: false },
  { call: ['databaseDelTree', 'fam'], words: ['DATABASE', 'DELTREE', 'fam'], reply: '200 result=0', result: true },
  { call: ['databaseDelTree', 'fam', 'tree'], words: ['DATABASE', 'DELTREE', 'fam', 'tree'], reply: '200 result=1', result: false },
  { call: ['databaseGet', 'fam', 'k'], words: ['DATABASE', 'GET', 'fam', 'k'], reply: '200 result=1 (v (x))', result: 'v (x)' },
  { call: ['databaseGet', 'fam', 'k'], words: ['DATABASE', 'GET', 'fam', 'k'], reply: '200 result=0', result: undefined },
  { call: ['databasePut', 'fam', 'k', 'a "b"'], words: ['DATABASE', 'PUT', 'fam', 'k', 'a "b"'], reply: '200 result=1', result: undefined },
  { call: ['databasePut', 'fam', 'k', 7], words: ['DATABASE', 'PUT', 'fam', 'k', '7'], reply: '200 result=0', error: AgiCommandError },
  { call: ['exec', 'Dial', 'PJSIP/100', '30', 'tT'], words: ['EXEC', 'Dial', 'PJSIP/100,30,tT'], reply: '200 result=0', result: 0 },
  { call: ['exec', 'Answer'], words: ['EXEC', 'Answer'], reply: '200 result=0', result: 0 },
  { call: ['exec', 'NoSuchApp'], words: ['EXEC', 'NoSuchApp'], reply: '200 result=-2', error: AgiCommandError },
  { call: ['exec', 'Dial', 'X'], words: ['EXEC', 'Dial', 'X'], reply: '200 result=-1', probe: ['HANGUP', DEAD], error: AgiHangupError },
  { call: ['exec', 'Dial', 'X'], words: ['EXEC', 'Dial', 'X'], reply: '200 result=-1', probe: ALIVE, result: -1 },
  { call: ['exec', 'Odd'], words: ['EXEC', 'Odd'], reply: ['200 result=1', ...USAGE], result: 1 },
  { call: ['exec', 'Wait', '1', { timeoutMs: 5000 }], words: ['EXEC', 'Wait', '1'], reply: '200 result=0', result: 0 },
  {
    call: ['getData', 'enter-pin', 3000, 4],
    words: ['GET', 'DATA', 'enter-pin', '3000', '4'],
    reply: '200 result=1234',
    result: { digits: '1234', timeout: false },
  },
  { call: ['getData', 'p'], words: ['GET', 'DATA', 'p'], reply: '200 result= (timeout)', result: { digits: '', timeout: true } },
  { call: ['getData', 'p', undefined, 4], words: ['GET', 'DATA', 'p', '0', '4'], reply: '200 result=', result: { digits: '', timeout: false } },
  { call: ['getData', 'p', 1000], words: ['GET', 'DATA', 'p', '1000'], reply: '200 result=12 (timeout)', result: { digits: '12', timeout: true } },
  { call: ['getData', 'p'], words: ['GET', 'DATA', 'p'], reply: '200 result=-1', probe: ['HANGUP', DEAD], error: AgiHangupError },
  { call: ['getFullVariable', '${EPOCH}'], words: ['GET', 'FULL', 'VARIABLE', '${EPOCH}'], reply: '200 result=1 (1700000000)', result: '1700000000' },
  { call: ['getFullVariable', 'x', 'SIP/none'], words: ['GET', 'FULL', 'VARIABLE', 'x', 'SIP/none'], reply: '200 result=0', result: undefined },
  { call: ['getOption', 'menu', '12'], words: ['GET', 'OPTION', 'menu', '12', '5000'], reply: '200 result=50 endpos=100', result: { digit: '2', endpos: 100 } },
  { call: ['getOption', 'menu', '12', 2000], words: ['GET', 'OPTION', 'menu', '12', '2000'], reply: '200 result=0 endpos=800', result: { digit: null, endpos: 800 } },
  { call: ['getVariable', 'FOO'], words: ['GET', 'VARIABLE', 'FOO'], reply: '200 result=1 (a)b)', result: 'a)b' },
  { call: ['getVariable', 'FOO'], words: ['GET', 'VARIABLE', 'FOO'], reply: '200 result=1 ()', result: '' },
  { call: ['getVariable', 'FOO'], words: ['GET', 'VARIABLE', 'FOO'], reply: '200 result=0', result: undefined },
  { call: ['getVariable', 'FOO'], words: ['GET', 'VARIABLE', 'FOO'], reply: ['200 result=1 (two', 'lines)'], result: 'two\nlines' },
  {
    call: ['gosub', 'sub-x', 's', 1, ['a', 'b,c']],
    words: ['GOSUB', 'sub-x', 's', '1', 'a,b,c'],
    reply: ['100 result=0 Trying...', '200 result=0 Gosub complete'],
    result: { abnormalExit: false },
  },
  { call: ['gosub', 'sub-x', 's', 'lbl'], words: ['GOSUB', 'sub-x', 's', 'lbl'], reply: ['100 result=0 Trying...', '200 result=0 Gosub complete (abnormal exit)'], result: { abnormalExit: true } },
  { call: ['gosub', 'nope', 's', 1], words: ['GOSUB', 'nope', 's', '1'], reply: '200 result=-1 Gosub label not found', error: AgiCommandError },
  { call: ['gosub', 'x', 's', 1], words: ['GOSUB', 'x', 's', '1'], reply: '503 result=-2 Memory allocation failure', error: AgiCommandError },
  { call: ['hangup'], words: ['HANGUP'], reply: ['200 result=1', 'HANGUP'], result: undefined },
  { call: ['hangup', 'PJSIP/none'], words: ['HANGUP', 'PJSIP/none'], reply: '200 result=-1', error: AgiCommandError },
  { call: ['noop', 'marker text'], words: ['NOOP', 'marker text'], reply: '200 result=0', result: undefined },
  { call: ['receiveChar', 1000], words: ['RECEIVE', 'CHAR', '1000'], reply: '200 result=65', result: 'A' },
  { call: ['receiveChar', 0], words: ['RECEIVE', 'CHAR', '0'], reply: '200 result=-1 (hangup)', probe: ALIVE, result: null },
  { call: ['receiveChar', 0], words: ['RECEIVE', 'CHAR', '0'], reply: '200 result=-1 (hangup)', probe: ['HANGUP', DEAD], error: AgiHangupError },
  { call: ['receiveText', 1000], words: ['RECEIVE', 'TEXT', '1000'], reply: '200 result=1 (hi (there))', result: 'hi (there)' },
  { call: ['receiveText', 10], words: ['RECEIVE', 'TEXT', '10'], reply: '200 result=-1', probe: ALIVE, result: null },
  {
    call: ['recordFile', '/tmp/x', 'wav', '#', 10000, { beep: true, silenceSeconds: 3 }],
    words: ['RECORD', 'FILE', '/tmp/x', 'wav', '#', '10000', 'BEEP', 's=3'],
    reply: '200 result=35 (dtmf) endpos=8000',
    result: { reason: 'dtmf', digit: '#', endpos: 8000 },
  },
  {
    call: ['recordFile', 'msg', 'gsm', ['1', '2'], -1, { offset: 800 }],
    words: ['RECORD', 'FILE', 'msg', 'gsm', '12', '-1', '800'],
    reply: '200 result=2847 (timeout) endpos=16000',
    result: { reason: 'timeout', digit: null, endpos: 16000 },
  },
  { call: ['recordFile', 'm', 'wav', '', 1000], words: ['RECORD', 'FILE', 'm', 'wav', '', '1000'], reply: '200 result=-1 (writefile)', error: AgiCommandError },
  { call: ['recordFile', 'm', 'wav', '', 1000], words: ['RECORD', 'FILE', 'm', 'wav', '', '1000'], reply: '200 result=-1 (hangup) endpos=10', probe: ['HANGUP', DEAD], error: AgiHangupError },
  {
    call: ['recordFile', 'm', 'wav', '1', 1000, { beep: true }],
    words: ['RECORD', 'FILE', 'm', 'wav', '1', '1000', 'BEEP'],
    reply: '200 result=49 (randomerror) endpos=0',
    result: { reason: 'beep-interrupted', digit: '1', endpos: 0 },
  },
  { call: ['recordFile', 'm', 'wav', '', 1000, { beep: true }], words: ['RECORD', 'FILE', 'm', 'wav', '', '1000', 'BEEP'], reply: '200 result=-1 (randomerror) endpos=0', error: AgiCommandError },
  { call: ['sayAlpha', 'abc', '#', 'upper'], words: ['SAY', 'ALPHA', 'abc', '#', 'u'], reply: '200 result=0', result: null },
  { call: ['sayDate', new Date(86_400_000), ''], words: ['SAY', 'DATE', '86400', ''], reply: '200 result=35', result: '#' },
  { call: ['sayDate', 2 ** 31], words: null, error: AgiArgumentError },
  {
    call: ['sayDateTime', 1_700_000_000, '', undefined, 'UTC'],
    words: ['SAY', 'DATETIME', '1700000000', '', "ABdY 'digits/at' IMp", 'UTC'],
    reply: '200 result=0',
    result: null,
  },
  { call: ['sayDateTime', 1_700_000_000, '#', 'IMp'], words: ['SAY', 'DATETIME', '1700000000', '#', 'IMp'], reply: '200 result=42', result: '*' },
  { call: ['sayDigits', '123'], words: ['SAY', 'DIGITS', '123', ''], reply: '200 result=0', result: null },
  { call: ['sayDigits', '*12'], words: ['SAY', 'DIGITS', '*12', ''], reply: '520 Invalid command syntax.  Proper usage not available.', error: AgiUsageError },
  { call: ['sayNumber', 42, '#', 'f'], words: ['SAY', 'NUMBER', '42', '#', 'f'], reply: '200 result=0', result: null },
  { call: ['sayNumber', 1.5], words: null, error: AgiArgumentError },
  { call: ['sayNumber', '12'], words: ['SAY', 'NUMBER', '12', ''], reply: '200 result=0', result: null },
  { call: ['sayNumber', '0042', '#'], words: ['SAY', 'NUMBER', '42', '#'], reply: '200 result=0', result: null },
  { call: ['sayNumber', '-7'], words: ['SAY', 'NUMBER', '-7', ''], reply: '200 result=0', result: null },
  { call: ['sayNumber', '12a'], words: null, error: AgiArgumentError },
  { call: ['sayNumber', ''], words: null, error: AgiArgumentError },
  { call: ['sayNumber', '2147483648'], words: null, error: AgiArgumentError },
  { call: ['sayPhonetic', 'agi', '0'], words: ['SAY', 'PHONETIC', 'agi', '0'], reply: '200 result=48', result: '0' },
  { call: ['sayPhonetic', 'agi'], words: ['SAY', 'PHONETIC', 'agi', ''], reply: '200 result=-1', probe: ALIVE, error: AgiCommandError },
  { call: ['sayTime', 60], words: ['SAY', 'TIME', '60', ''], reply: '200 result=0', result: null },
  { call: ['sendImage', 'logo'], words: ['SEND', 'IMAGE', 'logo'], reply: '200 result=0', result: undefined },
  { call: ['sendText', 'hi "you"'], words: ['SEND', 'TEXT', 'hi "you"'], reply: '200 result=0', result: undefined },
  { call: ['sendText', 'hi'], words: ['SEND', 'TEXT', 'hi'], reply: '200 result=-1', probe: ALIVE, error: AgiCommandError },
  { call: ['setAutoHangup', 30], words: ['SET', 'AUTOHANGUP', '30'], reply: '200 result=0', result: undefined },
  { call: ['setCallerId', { name: 'Bob', number: '1234' }], words: ['SET', 'CALLERID', '"Bob" <1234>'], reply: '200 result=1', result: undefined },
  { call: ['setCallerId', '5551234'], words: ['SET', 'CALLERID', '5551234'], reply: '200 result=1', result: undefined },
  { call: ['setContext', 'ctx'], words: ['SET', 'CONTEXT', 'ctx'], reply: '200 result=0', result: undefined },
  { call: ['setExtension', '100'], words: ['SET', 'EXTENSION', '100'], reply: '200 result=0', result: undefined },
  { call: ['setMusic', true, 'default'], words: ['SET', 'MUSIC', 'on', 'default'], reply: '200 result=0', result: undefined },
  { call: ['setMusic', false], words: ['SET', 'MUSIC', 'off'], reply: '200 result=0', result: undefined },
  { call: ['setPriority', 1], words: ['SET', 'PRIORITY', '1'], reply: '200 result=0', result: undefined },
  { call: ['setPriority', 'nolabel'], words: ['SET', 'PRIORITY', 'nolabel'], reply: USAGE, error: AgiUsageError },
  { call: ['setVariable', 'X', 'a\\b "c" é'], words: ['SET', 'VARIABLE', 'X', 'a\\b "c" é'], reply: '200 result=1', result: undefined },
  { call: ['setVariable', 'X', 'line\nANSWER'], words: null, error: AgiArgumentError },
  { call: ['speechActivateGrammar', 'g'], words: ['SPEECH', 'ACTIVATE', 'GRAMMAR', 'g'], reply: '200 result=1', result: undefined },
  { call: ['speechCreate'], words: ['SPEECH', 'CREATE'], reply: '200 result=1', result: undefined },
  { call: ['speechCreate', 'nope'], words: ['SPEECH', 'CREATE', 'nope'], reply: '200 result=0', error: AgiCommandError },
  { call: ['speechCreate', 'x'], words: ['SPEECH', 'CREATE', 'x'], reply: '510 Invalid or unknown command', error: AgiInvalidCommandError },
  { call: ['speechDeactivateGrammar', 'g'], words: ['SPEECH', 'DEACTIVATE', 'GRAMMAR', 'g'], reply: '200 result=1', result: undefined },
  { call: ['speechDestroy'], words: ['SPEECH', 'DESTROY'], reply: '200 result=1', result: undefined },
  { call: ['speechLoadGrammar', 'g', '/p/g.gram'], words: ['SPEECH', 'LOAD', 'GRAMMAR', 'g', '/p/g.gram'], reply: '200 result=1', result: undefined },
  {
    call: ['speechRecognize', 'prompt', 5],
    words: ['SPEECH', 'RECOGNIZE', 'prompt', '5'],
    reply: '200 result=1 (speech) endpos=0 results=1 score0=900 text0="yes please" grammar0=g',
    result: { kind: 'speech', endpos: 0, digit: null, results: [{ score: 900, text: 'yes please', grammar: 'g' }] },
  },
  { call: ['speechRecognize', 'prompt', 5, 160], words: ['SPEECH', 'RECOGNIZE', 'prompt', '5', '160'], reply: '200 result=1 (digit) digit=7 endpos=320', result: { kind: 'digit', endpos: 320, digit: '7', results: [] } },
  { call: ['speechRecognize', 'prompt', 0], words: ['SPEECH', 'RECOGNIZE', 'prompt', '0'], reply: '200 result=1 (timeout) endpos=0', result: { kind: 'timeout', endpos: 0, digit: null, results: [] } },
  { call: ['speechRecognize', 'prompt', 5], words: ['SPEECH', 'RECOGNIZE', 'prompt', '5'], reply: '200 result=1 (hangup) endpos=0', probe: ['HANGUP', DEAD], error: AgiHangupError },
  { call: ['speechSet', 'k', 'v'], words: ['SPEECH', 'SET', 'k', 'v'], reply: '200 result=1', result: undefined },
  { call: ['speechUnloadGrammar', 'g'], words: ['SPEECH', 'UNLOAD', 'GRAMMAR', 'g'], reply: '200 result=1', result: undefined },
  { call: ['streamFile', 'welcome'], words: ['STREAM', 'FILE', 'welcome', ''], reply: '200 result=0 endpos=16000', result: { digit: null, endpos: 16000 } },
  {
    call: ['streamFile', 'welcome', ['1', '#'], 800, { timeoutMs: 10_000 }],
    words: ['STREAM', 'FILE', 'welcome', '1#', '800'],
    reply: '200 result=35 endpos=900',
    result: { digit: '#', endpos: 900 },
  },
  { call: ['streamFile', 'missing'], words: ['STREAM', 'FILE', 'missing', ''], reply: '200 result=-1 endpos=0', probe: ALIVE, error: AgiCommandError },
  { call: ['streamFile', 'welcome'], words: ['STREAM', 'FILE', 'welcome', ''], reply: '200 result=-1 endpos=300', probe: ['HANGUP', DEAD], error: AgiHangupError },
  { call: ['streamFile', 'welcome'], words: ['STREAM', 'FILE', 'welcome', ''], reply: '200 result=-1 endpos=300', probe: DEAD, error: AgiHangupError },
  { call: ['tddMode', 'on'], words: ['TDD', 'MODE', 'on'], reply: '200 result=0', result: false },
  { call: ['tddMode', 'off'], words: ['TDD', 'MODE', 'off'], reply: '200 result=1', result: true },
  { call: ['verbose', 'hello world', 3], words: ['VERBOSE', 'hello world', '3'], reply: '200 result=1', result: undefined },
  { call: ['waitForDigit', 5000], words: ['WAIT', 'FOR', 'DIGIT', '5000'], reply: '200 result=53', result: '5' },
  { call: ['waitForDigit', -1], words: ['WAIT', 'FOR', 'DIGIT', '-1'], reply: '200 result=0', result: null },
  { call: ['waitForDigit', 100], words: ['WAIT', 'FOR', 'DIGIT', '100'], reply: USAGE, error: AgiUsageError },
];

describe('every AGI command over a real TCP round trip', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  it('has at least one case for each command of the table', () => {
    const covered = new Set(cases.map((c) => c.call[0]));
    const missing = Object.keys(AGI_COMMANDS).filter((name) => !covered.has(name as AgiCommandName));
    assert.deepEqual(missing, []);
  });

  for (const c of cases) {
    const [method, ...args] = c.call;
    const label = `${method}(${args.map((a) => JSON.stringify(a) ?? 'undefined').join(', ')}) <- ${JSON.stringify(c.reply ?? null)}${c.probe ? ` probe ${JSON.stringify(c.probe)}` : ''}`;
    it(label, async () => {
      let outcome: { value?: unknown; error?: unknown } = {};
      const placed = await t.call(async (agi) => {
        try {
          const fn = (agi as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method];
          assert.ok(fn, `Agi has a ${method} method`);
          outcome = { value: await fn.apply(agi, args) };
        } catch (error) {
          outcome = { error };
        }
      });
      const sent: string[][] = [];
      placed.fake.respond((cmd) => {
        sent.push(cmd.words);
        if (isStatusWrite(cmd.words)) return '200 result=1';
        if (sent.length === 1) return c.reply;
        if (cmd.words.join(' ') === 'CHANNEL STATUS' && c.probe) return c.probe;
        return '510 Invalid or unknown command';
      });
      await placed.ended;
      const appCommands = sent.filter((w) => !isStatusWrite(w));
      if (c.words === null) {
        assert.deepEqual(appCommands, [], 'nothing is sent for an invalid argument');
      } else {
        assert.deepEqual(appCommands[0], c.words);
        assert.equal(appCommands.length, c.probe ? 2 : 1, 'a probe is sent only after an ambiguous -1');
      }
      if (c.error) {
        assert.ok(outcome.error instanceof c.error, `expected ${c.error.name}, got ${String(outcome.error ?? JSON.stringify(outcome.value))}`);
      } else {
        assert.equal(outcome.error, undefined, String(outcome.error));
        assert.deepEqual(outcome.value, c.result);
      }
    });
  }
});

describe('argument errors say what was wrong', () => {
  it('sayNumber names the value and the accepted forms', () => {
    const encode = AGI_COMMANDS.sayNumber.encode as (n: unknown) => unknown;
    assert.throws(() => encode('12a'), { name: 'AgiArgumentError', message: 'number must be a 32-bit integer or a string of digits, got "12a"' });
    assert.throws(() => encode('99999999999'), { name: 'AgiArgumentError', message: /"99999999999" is outside what Asterisk says \(a 32-bit integer/ });
    assert.throws(() => encode(1.5), { name: 'AgiArgumentError', message: 'number must be a 32-bit integer, got 1.5' });
  });
});
