import assert from 'node:assert/strict';
import { AssertionError } from 'node:assert';
import { describe, it } from 'node:test';
import type { Agi } from '../../src/agi/agi.js';
import { AgiHangupError, AgiUsageError } from '../../src/errors.js';
import { Router } from '../../src/server/router.js';
import type { Transcript } from '../../src/agi/transcript.js';
import { FakeAsterisk, replayTranscript } from '../../src/testing/simulate.js';
import { startTestServer } from '../support/fake-server.js';
import { WAIT_MS, within } from '../support/settle.js';

/** A small IVR used throughout: greet, collect a PIN, look the customer up, store the result. */
const ivr = new Router().route('/ivr/:tenant', async (agi: Agi) => {
  await agi.answer();
  const greeting = await agi.streamFile(`welcome-${agi.params.tenant ?? ''}`, '#');
  const { digits } = greeting.digit ? { digits: '' } : await agi.getData('enter-pin', 3000, 4);
  const tier = await agi.databaseGet('cust', agi.args[0] ?? '');
  await agi.setVariable('RESULT', `${digits}:${tier ?? 'none'}`);
});

describe('FakeAsterisk', () => {
  it('runs an app in-process with a DTMF script, astdb and variables, and keeps the transcript', async () => {
    const fake = new FakeAsterisk({ dtmf: '4,2,#', database: { 'cust/1001': 'gold' } });
    const result = await fake.run(ivr, { script: 'ivr/acme', args: ['1001'] });
    assert.equal(result.status, 'SUCCESS');
    assert.equal(result.channel.variables.get('RESULT'), '42:gold');
    assert.deepEqual(
      result.transcript.exchanges.map((e) => e.command),
      ['ANSWER', 'STREAM FILE "welcome-acme" "#"', 'GET DATA "enter-pin" "3000" "4"', 'DATABASE GET "cust" "1001"', 'SET VARIABLE "RESULT" "42:gold"', 'SET VARIABLE "AGIKIT_STATUS" "SUCCESS"'],
    );
    assert.equal(result.transcript.header.agi_network_script, 'ivr/acme');
  });

  it('runs the same app over TCP with the same outcome', async () => {
    const fake = new FakeAsterisk({ dtmf: '4,2,#', database: { 'cust/1001': 'gold' } });
    const memory = await fake.run(ivr, { script: 'ivr/acme', args: ['1001'] });
    const tcp = await within(fake.run(ivr, { script: 'ivr/acme', args: ['1001'], transport: 'tcp' }), WAIT_MS, 'the call over TCP never ended');
    assert.deepEqual(tcp.transcript.exchanges, memory.transcript.exchanges);
  });

  it('hangs up at a chosen command: the app sees AgiHangupError and the status is HANGUP', async () => {
    let seen: unknown;
    const result = await new FakeAsterisk({ hangupAfter: 2 }).run(async (agi) => {
      await agi.answer();
      try {
        await agi.streamFile('long');
      } catch (error) {
        seen = error;
        throw error;
      }
    });
    assert.ok(seen instanceof AgiHangupError);
    assert.equal(result.status, 'HANGUP');
    assert.deepEqual(result.transcript.exchanges[1]?.reply, ['200 result=-1 endpos=0', 'HANGUP']);
  });

  it('overrides replies per command, including 520 blocks and 100 Trying', async () => {
    let usage: unknown;
    const fake = new FakeAsterisk({
      replies: {
        'WAIT FOR DIGIT': ['520-Invalid command syntax.  Proper usage follows:', 'Usage: WAIT FOR DIGIT <timeout>', '520 End of proper usage.'],
        GOSUB: (cmd) => (cmd.words[1] === 'special' ? ['100 result=0 Trying...', '200 result=0 Gosub complete (abnormal exit)'] : undefined),
      },
    });
    const result = await fake.run(async (agi) => {
      usage = await agi.waitForDigit(100).catch((e: unknown) => e);
      assert.deepEqual(await agi.gosub('special', 's', 1), { abnormalExit: true });
      assert.deepEqual(await agi.gosub('plain', 's', 1), { abnormalExit: false });
    });
    assert.equal(result.status, 'SUCCESS', String(result.error));
    assert.ok(usage instanceof AgiUsageError);
    assert.equal(usage.usage, 'Usage: WAIT FOR DIGIT <timeout>');
  });

  it('still works when every byte arrives alone, or in random splits', async () => {
    for (const chunking of ['bytes', 7] as const) {
      const result = await new FakeAsterisk({ dtmf: '9#', chunking, seed: 3 }).run(ivr, { script: 'ivr/x', args: ['1'] });
      assert.equal(result.status, 'SUCCESS');
      assert.equal(result.channel.variables.get('RESULT'), '9:none');
    }
  });

  it('a FakeCall asserts the commands an app sends (expectCommand) and injects a HANGUP', async (ctx) => {
    const t = await startTestServer();
    ctx.after(() => t.close());
    let error: unknown;
    const placed = await t.call(async (agi) => {
      await agi.answer();
      error = await agi.streamFile('welcome', '#').catch((e: unknown) => e);
    });
    const fake = placed.fake;
    await fake.expectCommand('ANSWER');
    fake.reply('200 result=0');
    await fake.expectCommand('STREAM FILE', 'welcome', '#');
    fake.hangup();
    fake.reply('200 result=-1 endpos=0');
    fake.respond(() => '200 result=1');
    await placed.ended;
    assert.ok(error instanceof AgiHangupError);
    await t.close();
  });

  it('expectCommand throws an AssertionError naming both commands', async (ctx) => {
    const t = await startTestServer();
    ctx.after(() => t.close());
    const placed = await t.call(async (agi) => {
      await agi.streamFile('welcome', '');
    });
    await assert.rejects(placed.fake.expectCommand('STREAM FILE', 'welcome', '#'), (e: unknown) => {
      assert.ok(e instanceof AssertionError);
      assert.match(e.message, /expected command \["STREAM","FILE","welcome","#"\], got \["STREAM","FILE","welcome",""\]/);
      return true;
    });
    placed.fake.respond(() => '200 result=1');
    placed.fake.reply('200 result=0 endpos=1');
    await placed.ended;
    await t.close();
  });
});

describe('replayTranscript', () => {
  it('replays a call exactly, and reports the first command where the app now differs', async () => {
    const recorded = await new FakeAsterisk({ dtmf: '7#', database: { 'cust/1': 'silver' } }).run(ivr, { script: 'ivr/acme', args: ['1'] });
    const same = await replayTranscript(ivr, recorded.transcript);
    assert.deepEqual(same, { ok: true, status: 'SUCCESS', matched: 6 });

    const changed = new Router().route('/ivr/:tenant', async (agi: Agi) => {
      await agi.answer();
      await agi.streamFile(`welcome-${agi.params.tenant ?? ''}`, '');
    });
    const diff = await replayTranscript(changed, recorded.transcript);
    assert.equal(diff.ok, false);
    assert.equal(diff.matched, 1);
    assert.equal(diff.mismatch?.index, 2);
    assert.equal(diff.mismatch?.expected, 'STREAM FILE "welcome-acme" "#"');
    assert.equal(diff.mismatch?.actual, 'STREAM FILE "welcome-acme" ""');
  });

  it('reports an app that stops early, and one that sends more', async () => {
    const recorded = await new FakeAsterisk().run(async (agi) => {
      await agi.answer();
      await agi.noop('x');
    });
    const early = await replayTranscript(async (agi) => {
      await agi.answer();
      await agi.exit();
    }, recorded.transcript);
    assert.equal(early.mismatch?.index, 2);
    assert.match(early.mismatch?.message ?? '', /differs|missing/);
    const more = await replayTranscript(async (agi) => {
      await agi.answer();
      await agi.noop('x');
      await agi.verbose('extra');
    }, recorded.transcript);
    assert.equal(more.mismatch?.index, 3);
    assert.equal(more.mismatch?.actual, 'VERBOSE "extra"');
  });

  it('a transcript recorded by the FastAGI server replays against the same app', async (ctx) => {
    const transcripts: Transcript[] = [];
    const t = await startTestServer({ transcripts: (tr) => transcripts.push(tr) });
    ctx.after(() => t.close());
    const app = async (agi: Agi): Promise<void> => {
      await agi.answer();
      await agi.getVariable('X');
      await agi.hungUp;
      await agi.setVariable('CLEANUP', 'done');
    };
    const placed = await t.call(app);
    placed.fake.respond((cmd) => (cmd.words[0] === 'GET' ? ['200 result=1 (value)', 'HANGUP'] : cmd.words[0] === 'ANSWER' ? '200 result=0' : '200 result=1'));
    await placed.ended;
    await t.close();
    const recorded = transcripts[0];
    assert.ok(recorded);
    assert.deepEqual(recorded.exchanges.map((e) => e.command), ['ANSWER', 'GET VARIABLE "X"', 'SET VARIABLE "CLEANUP" "done"', 'SET VARIABLE "AGIKIT_STATUS" "SUCCESS"']);
    assert.deepEqual(recorded.exchanges[1]?.reply, ['200 result=1 (value)', 'HANGUP']);
    assert.equal(recorded.meta?.status, 'SUCCESS');
    const result = await replayTranscript(new Router().route('/t/:id', app), recorded);
    assert.equal(result.ok, true, result.mismatch?.message);
    assert.equal(result.matched, 4);
  });

  it('delivers a recorded preamble (an early HANGUP) together with the header', async () => {
    const recorded = await new FakeAsterisk({ hangupAfter: 1 }).run(async (agi) => {
      await agi.answer();
    });
    const transcript: Transcript = { ...recorded.transcript, preamble: ['HANGUP'], exchanges: [{ command: 'SET VARIABLE "AGIKIT_STATUS" "HANGUP"', reply: ['200 result=1'] }] };
    const result = await replayTranscript(async (agi) => {
      await agi.answer();
    }, transcript);
    assert.equal(result.ok, true, result.mismatch?.message);
    assert.equal(result.status, 'HANGUP');
  });
});
