import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AGI_COMMANDS } from '../../src/agi/commands.js';
import { encodeCommand } from '../../src/protocol/encode.js';
import { parseHeader } from '../../src/protocol/header.js';
import { fakeHeaderLines } from '../../src/testing/fake-asterisk.js';
import { FakeAsterisk } from '../../src/testing/simulate.js';
import { matchCommand, parseDtmfScript, SimulatedChannel } from '../../src/testing/simulator.js';

const line = (words: string, ...args: Array<string | number>): string => encodeCommand(words, args, 8191).slice(0, -1);
const header = parseHeader(fakeHeaderLines({ env: { uniqueid: '42.1', callerid: '5551234' } }));

describe('SimulatedChannel', () => {
  it('knows every command of the table (none answers 510)', () => {
    for (const spec of Object.values(AGI_COMMANDS)) {
      assert.ok(matchCommand(spec.words.split(' ')), spec.words);
    }
    assert.equal(matchCommand(['stream', 'file', 'x'])?.spec.words, 'STREAM FILE');
    assert.equal(matchCommand(['STREAM']), undefined);
    assert.deepEqual(new SimulatedChannel().respond('FOO BAR'), ['510 Invalid or unknown command']);
  });

  it('reads the DTMF script in all its forms', () => {
    assert.deepEqual(parseDtmfScript('1,2,#'), ['1', '2', '#']);
    assert.deepEqual(parseDtmfScript('12*a'), ['1', '2', '*', 'A']);
    assert.deepEqual(parseDtmfScript(['1', '#']), ['1', '#']);
  });

  it('delivers each digit to the next command that listens for it', () => {
    const ch = new SimulatedChannel({ dtmf: '5,#,1,2,3,#' }, header);
    assert.deepEqual(ch.respond(line('STREAM FILE', 'x', '')), ['200 result=0 endpos=16000'], 'no escape digits: the 5 is not heard');
    assert.deepEqual(ch.respond(line('STREAM FILE', 'x', '5')), ['200 result=53 endpos=8000']);
    assert.deepEqual(ch.respond(line('WAIT FOR DIGIT', 1000)), ['200 result=35']);
    assert.deepEqual(ch.respond(line('GET DATA', 'p', 3000, 4)), ['200 result=123']);
    assert.deepEqual(ch.respond(line('GET DATA', 'p', 3000, 4)), ['200 result= (timeout)']);
    assert.deepEqual(ch.respond(line('WAIT FOR DIGIT', 1000)), ['200 result=0']);
  });

  it('models variables, built-ins, functions and the astdb (deltree inverted)', () => {
    const ch = new SimulatedChannel({ variables: { LANG: 'fr' }, database: { 'cust/1': 'gold' } }, header);
    assert.deepEqual(ch.respond(line('GET VARIABLE', 'UNIQUEID')), ['200 result=1 (42.1)']);
    assert.deepEqual(ch.respond(line('GET VARIABLE', 'CALLERID(num)')), ['200 result=1 (5551234)']);
    assert.deepEqual(ch.respond(line('GET VARIABLE', 'NOPE')), ['200 result=0']);
    assert.deepEqual(ch.respond(line('SET VARIABLE', 'X', 'a b')), ['200 result=1']);
    assert.deepEqual(ch.respond(line('GET FULL VARIABLE', '${X}/${LANG}')), ['200 result=1 (a b/fr)']);
    assert.deepEqual(ch.respond(line('DATABASE GET', 'cust', '1')), ['200 result=1 (gold)']);
    assert.deepEqual(ch.respond(line('DATABASE DELTREE', 'cust')), ['200 result=0']);
    assert.deepEqual(ch.respond(line('DATABASE DELTREE', 'cust')), ['200 result=1']);
    assert.deepEqual(ch.respond(line('EXEC', 'Set', 'Y=2')), ['200 result=0']);
    assert.equal(ch.variables.get('Y'), '2');
  });

  it('answers gosub with 100 Trying first, and bad syntax with 520', () => {
    const ch = new SimulatedChannel();
    assert.deepEqual(ch.respond(line('GOSUB', 'sub', 's', 1)), ['100 result=0 Trying...', '200 result=0 Gosub complete']);
    assert.equal(ch.respond(line('WAIT FOR DIGIT', 'soon'))[0]?.slice(0, 3), '520');
    assert.equal(ch.respond(line('SAY DIGITS', '*12', ''))[0]?.slice(0, 3), '520');
  });

  it('hangs up at the Nth command like Asterisk: -1 then HANGUP during media, HANGUP then 511 between', () => {
    const during = new SimulatedChannel({ hangupAfter: 2 });
    assert.deepEqual(during.respond(line('ANSWER')), ['200 result=0']);
    assert.deepEqual(during.respond(line('STREAM FILE', 'x', '')), ['200 result=-1 endpos=0', 'HANGUP']);
    assert.deepEqual(during.respond(line('CHANNEL STATUS')), ['511 Command Not Permitted on a dead channel or intercept routine']);
    assert.deepEqual(during.respond(line('SET VARIABLE', 'A', 'b')), ['200 result=1'], 'dead-capable commands still work');
    const between = new SimulatedChannel({ hangupAfter: 1 });
    assert.deepEqual(between.respond(line('ANSWER')), ['HANGUP', '511 Command Not Permitted on a dead channel or intercept routine']);
    const quiet = new SimulatedChannel({ hangupAfter: 1, sighup: false });
    assert.deepEqual(quiet.respond(line('WAIT FOR DIGIT', 100)), ['200 result=-1']);
  });

  it('tracks where the dialplan continues, and missing files fail', () => {
    const ch = new SimulatedChannel({ missingFiles: ['nope'] }, header);
    ch.respond(line('SET CONTEXT', 'sales'));
    ch.respond(line('SET EXTENSION', '200'));
    ch.respond(line('SET PRIORITY', 3));
    assert.deepEqual(ch.location, { context: 'sales', extension: '200', priority: '3' });
    assert.deepEqual(ch.respond(line('STREAM FILE', 'nope', '')), ['200 result=-1 endpos=0']);
  });
});

describe('FakeAsterisk.run with a stuck app', () => {
  for (const transport of ['memory', 'tcp'] as const) {
    it(`over ${transport}: rejects after timeoutMs and leaves nothing open`, async () => {
      const stuck = async (): Promise<void> => {
        await new Promise(() => {});
      };
      const started = Date.now();
      await assert.rejects(new FakeAsterisk().run(stuck, { transport, timeoutMs: 300 }), /the simulated call did not end within 300 ms/);
      assert.ok(Date.now() - started < 5000);
    });
  }
});
