import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { pino } from 'pino';
import { Agi } from '../../src/agi/agi.js';
import { AgiConnection } from '../../src/agi/connection.js';
import {
  AgiAbortError,
  AgiHangupError,
  AgiInterruptedError,
  AgiSessionClosedError,
  AgiTimeoutError,
} from '../../src/errors.js';
import { fakeHeaderLines } from '../../src/testing/fake-asterisk.js';
import { closed, isStatusWrite, startTestServer, type TestServer } from '../support/fake-server.js';
import { nextEvent, settle, WAIT_MS, within } from '../support/settle.js';

const DEAD = '511 Command Not Permitted on a dead channel or intercept routine';

describe('Agi session behaviour', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  it('queues commands fired without awaiting and never pipelines them', async () => {
    let results: unknown[] = [];
    const placed = await t.call(async (agi) => {
      results = await Promise.all([agi.getVariable('A'), agi.getVariable('B'), agi.getVariable('C')]);
    });
    const fake = placed.fake;
    for (const name of ['A', 'B', 'C']) {
      const cmd = await fake.nextCommand();
      assert.deepEqual(cmd.words, ['GET', 'VARIABLE', name]);
      // Nothing else may arrive while this command is unanswered.
      await new Promise((r) => setImmediate(r));
      assert.equal(fake.commands.length, ['A', 'B', 'C'].indexOf(name) + 1, 'one command in flight');
      fake.reply(`200 result=1 (value of ${name})`);
    }
    assert.ok(isStatusWrite((await fake.nextCommand()).words));
    fake.reply('200 result=1');
    await placed.ended;
    assert.deepEqual(results, ['value of A', 'value of B', 'value of C']);
  });

  it('reads replies however they are split or coalesced (HANGUP glued to a reply, byte by byte)', async () => {
    let outcome: unknown;
    const placed = await t.call(async (agi) => {
      outcome = [await agi.streamFile('x', '#'), await agi.getVariable('V'), agi.hangupReason];
    });
    const fake = placed.fake;
    await fake.nextCommand();
    for (const ch of '200 result=35 endpos=8000\n') fake.send(ch);
    await fake.nextCommand();
    fake.send('HANGUP\n200 result=1 (v)\n');
    assert.ok(isStatusWrite((await fake.nextCommand()).words));
    fake.reply('200 result=1');
    const end = await placed.ended;
    assert.deepEqual(outcome, [{ digit: '#', endpos: 8000 }, 'v', 'hangup-line']);
    assert.equal(end.status, 'SUCCESS');
  });

  it('on the HANGUP line: hungUp resolves, signal aborts, non-dead commands fail fast, dead-capable ones still run', async () => {
    let seen: { reason?: unknown; aborted?: boolean; answer?: unknown; set?: unknown } = {};
    const placed = await t.call(async (agi) => {
      const r = await settle(agi.streamFile('long-prompt'));
      seen.reason = await agi.hungUp;
      seen.aborted = agi.signal.aborted;
      seen.answer = (await settle(agi.answer())).error;
      seen.set = await agi.setVariable('CLEANUP', 'done');
      if (r.error) throw r.error;
    });
    const fake = placed.fake;
    await fake.nextCommand();
    fake.reply('200 result=-1 endpos=4000');
    fake.hangup();
    // The probe after -1 sees the HANGUP line first and then 511.
    const probe = await fake.nextCommand();
    assert.deepEqual(probe.words, ['CHANNEL', 'STATUS']);
    fake.reply(DEAD);
    const set = await fake.nextCommand();
    assert.deepEqual(set.words, ['SET', 'VARIABLE', 'CLEANUP', 'done']);
    fake.reply('200 result=1');
    const status = await fake.nextCommand();
    assert.deepEqual(status.words, ['SET', 'VARIABLE', 'AGIKIT_STATUS', 'HANGUP']);
    fake.reply('200 result=1');
    const end = await placed.ended;
    assert.equal(seen.reason, 'hangup-line');
    assert.equal(seen.aborted, true);
    assert.ok(seen.answer instanceof AgiHangupError && seen.answer.reason === 'hangup-line');
    assert.equal(seen.set, undefined);
    assert.equal(end.status, 'HANGUP');
    assert.ok(end.error instanceof AgiHangupError);
    // ANSWER was never sent: only STREAM FILE, the probe, and the two variable writes.
    assert.equal(fake.commands.length, 4);
  });

  it('runs onHangup cleanup (which may use dead-capable commands) before ending the session', async () => {
    const order: string[] = [];
    const placed = await t.call(async (agi) => {
      agi.onHangup(async (reason) => {
        order.push(`cleanup:${reason}`);
        await agi.databasePut('calls', agi.env.uniqueid, 'hung up');
        order.push('cleanup done');
      });
      await agi.waitForDigit(-1);
    });
    const fake = placed.fake;
    await fake.nextCommand();
    fake.hangup();
    fake.reply('200 result=-1');
    const put = await fake.nextCommand();
    assert.deepEqual(put.words.slice(0, 3), ['DATABASE', 'PUT', 'calls']);
    fake.reply('200 result=1');
    const status = await fake.nextCommand();
    assert.ok(isStatusWrite(status.words));
    assert.deepEqual(order, ['cleanup:hangup-line', 'cleanup done']);
    fake.reply('200 result=1');
    assert.equal((await placed.ended).status, 'HANGUP');
  });

  it('511 without a HANGUP line (AGISIGHUP=no) is a hangup with reason dead-channel', async () => {
    let error: unknown;
    let reason: unknown;
    const placed = await t.call(async (agi) => {
      error = (await settle(agi.answer())).error;
      reason = agi.hangupReason;
    });
    await placed.fake.nextCommand();
    placed.fake.reply(DEAD);
    placed.fake.respond(() => '200 result=1');
    await placed.ended;
    assert.ok(error instanceof AgiHangupError);
    assert.equal(error.reason, 'dead-channel');
    assert.equal(reason, 'dead-channel');
  });

  it('a connection reset mid-command is a hangup with reason socket-closed, and the server carries on', async () => {
    let error: unknown;
    const placed = await t.call(async (agi) => {
      error = (await settle(agi.streamFile('x'))).error;
    });
    await placed.fake.nextCommand();
    placed.fake.destroy();
    const end = await placed.ended;
    assert.ok(error instanceof AgiHangupError);
    assert.equal(error.reason, 'socket-closed');
    assert.equal(end.status, 'SUCCESS');
    // Another call on the same server works.
    let value: unknown;
    const next = await t.call(async (agi) => {
      value = await agi.getVariable('X');
    });
    next.fake.respond(() => '200 result=1 (ok)');
    await next.ended;
    assert.equal(value, 'ok');
  });

  it('a command that times out rejects and closes the session; later commands are refused', async () => {
    let first: unknown;
    let second: unknown;
    const placed = await t.call(async (agi) => {
      first = (await settle(agi.waitForDigit(-1, { timeoutMs: 50 }))).error;
      second = (await settle(agi.noop())).error;
    });
    await placed.fake.nextCommand();
    // Never answered: agikit must give up and close so Asterisk cannot answer out of step.
    await closed(placed.fake, 'the session was not closed after the command timed out');
    const end = await placed.ended;
    assert.ok(first instanceof AgiTimeoutError);
    assert.equal(first.timeoutMs, 50);
    assert.ok(second instanceof AgiSessionClosedError);
    // The dialplan is told why, by a last line sent before the EOF whose reply nobody waits for.
    assert.deepEqual(placed.fake.commands.map((c) => c.words), [['WAIT', 'FOR', 'DIGIT', '-1'], ['SET', 'VARIABLE', 'AGIKIT_STATUS', 'TIMEOUT']]);
    assert.equal(end.status, 'TIMEOUT');
  });

  it('an aborted in-flight command rejects with AgiAbortError and closes the session', async () => {
    const controller = new AbortController();
    let error: unknown;
    const placed = await t.call(async (agi) => {
      const p = settle(agi.getData('prompt', 10_000, 4, { signal: controller.signal }));
      error = (await p).error;
    });
    await placed.fake.nextCommand();
    controller.abort(new Error('caller pressed cancel'));
    await closed(placed.fake, 'the session was not closed after the command was aborted');
    const end = await placed.ended;
    assert.ok(error instanceof AgiAbortError);
    assert.equal(end.status, 'ABORTED');
    assert.deepEqual(placed.fake.commands.at(-1)?.words, ['SET', 'VARIABLE', 'AGIKIT_STATUS', 'ABORTED']);
    assert.equal((error.cause as Error).message, 'caller pressed cancel');
  });

  it('a queued command that is aborted or times out is dropped unsent and the session goes on', async () => {
    const controller = new AbortController();
    let results: unknown[] = [];
    const placed = await t.call(async (agi) => {
      const first = settle(agi.streamFile('a'));
      const aborted = settle(agi.streamFile('b', '', 0, { signal: controller.signal }));
      const timedOut = settle(agi.streamFile('c', '', 0, { timeoutMs: 20 }));
      const last = settle(agi.streamFile('d'));
      controller.abort();
      results = await Promise.all([first, aborted, timedOut, last]);
    });
    const fake = placed.fake;
    const a = await fake.nextCommand();
    assert.equal(a.words[2], 'a');
    await new Promise((r) => setTimeout(r, 60)); // let c's 20 ms budget pass while queued
    fake.reply('200 result=0 endpos=1');
    const d = await fake.nextCommand();
    assert.equal(d.words[2], 'd', 'b and c were never sent');
    fake.reply('200 result=0 endpos=2');
    fake.respond(() => '200 result=1');
    await placed.ended;
    assert.deepEqual(results[0], { value: { digit: null, endpos: 1 } });
    assert.ok((results[1] as { error: unknown }).error instanceof AgiAbortError);
    assert.ok((results[2] as { error: unknown }).error instanceof AgiTimeoutError);
    assert.deepEqual(results[3], { value: { digit: null, endpos: 2 } });
  });

  it('exit() returns the call to the dialplan: status SUCCESS, connection closed, later commands refused', async () => {
    let later: unknown;
    let agiRef: Agi | undefined;
    const placed = await t.call(async (agi) => {
      agiRef = agi;
      void agi.verbose('before exit');
      await agi.exit();
      later = (await settle(agi.noop())).error;
    });
    const fake = placed.fake;
    assert.deepEqual((await fake.nextCommand()).words, ['VERBOSE', 'before exit']);
    fake.reply('200 result=1');
    assert.deepEqual((await fake.nextCommand()).words, ['SET', 'VARIABLE', 'AGIKIT_STATUS', 'SUCCESS']);
    fake.reply('200 result=1');
    await closed(fake, 'exit() did not close the connection');
    const end = await placed.ended;
    assert.ok(later instanceof AgiSessionClosedError);
    assert.equal(agiRef?.closed, true);
    assert.equal(agiRef?.hangupReason, null, 'exit is not a hangup');
    assert.equal(end.status, 'SUCCESS');
    assert.equal(fake.commands.length, 2, 'the status is written once');
  });

  it('closes the session for a handler that lingers after the hangup (hangupGraceMs)', async (t) => {
    const lingering = await startTestServer({ hangupGraceMs: 50 });
    t.after(() => lingering.close());
    let later: unknown;
    const placed = await lingering.call(async (agi) => {
      await agi.hungUp;
      // A handler that ignores the hangup and keeps the channel: Asterisk would hold it forever.
      await new Promise((r) => setTimeout(r, 300));
      later = (await settle(agi.verbose('still here'))).error;
    });
    placed.fake.hangup();
    await closed(placed.fake, 'the session of a handler lingering after the hangup was not closed (hangupGraceMs)');
    const end = await placed.ended;
    assert.ok(later instanceof AgiSessionClosedError);
    assert.equal(end.status, 'LINGERED');
    assert.deepEqual(placed.fake.commands.map((c) => c.words), [['SET', 'VARIABLE', 'AGIKIT_STATUS', 'LINGERED']], 'closed without waiting for the handler, saying why');
    await lingering.close();
  });

  it('interrupt() stops an interruptible command in flight: suppressed reply, own reply, or finished first', async () => {
    const outcomes: unknown[] = [];
    let refused: boolean | undefined;
    const placed = await t.call(async (agi) => {
      refused = agi.interrupt(); // nothing in flight
      const stopped = settle(agi.streamFile('long-prompt', '#'));
      outcomes.push(agi.interrupt());
      outcomes.push(await stopped);
      const wait = settle(agi.waitForDigit(-1));
      agi.interrupt();
      outcomes.push(await wait);
      const done = settle(agi.getOption('menu', '1', 2000));
      agi.interrupt();
      outcomes.push(await done);
      const say = settle(agi.sayNumber(7));
      outcomes.push(agi.interrupt(), await say);
      outcomes.push(await agi.getVariable('AFTER'));
    });
    const fake = placed.fake;
    await fake.expectCommand('STREAM FILE', 'long-prompt', '#');
    // Asterisk stops the playback, prints nothing for it, then answers the marker.
    const marker1 = await fake.expectCommand('GET FULL VARIABLE', 'agikit-interrupt-1');
    fake.reply(`200 result=1 (${marker1.words[3] ?? ''})`);
    await fake.expectCommand('WAIT FOR DIGIT', '-1');
    await fake.expectCommand('GET FULL VARIABLE', 'agikit-interrupt-2');
    fake.reply(['200 result=1', '200 result=1 (agikit-interrupt-2)']);
    await fake.expectCommand('GET OPTION', 'menu', '1', '2000');
    await fake.expectCommand('GET FULL VARIABLE', 'agikit-interrupt-3');
    // The wait had already timed out: its own reply first, then the marker's.
    fake.reply('200 result=0 endpos=8000');
    fake.reply('200 result=1 (agikit-interrupt-3)');
    // SAY * cannot be interrupted over FastAGI: interrupt() refuses and sends nothing.
    await fake.expectCommand('SAY NUMBER', '7', '');
    fake.reply('200 result=0');
    await fake.expectCommand('GET VARIABLE', 'AFTER');
    fake.reply('200 result=1 (in step)');
    fake.respond(() => '200 result=1');
    await placed.ended;
    assert.equal(refused, false);
    assert.equal(outcomes[0], true);
    assert.ok((outcomes[1] as { error: unknown }).error instanceof AgiInterruptedError);
    assert.deepEqual(outcomes[2], { value: null });
    assert.deepEqual(outcomes[3], { value: { digit: null, endpos: 8000 } });
    assert.equal(outcomes[4], false);
    assert.deepEqual(outcomes[5], { value: null });
    assert.equal(outcomes[6], 'in step');
  });

  it('interrupt() does nothing to commands Asterisk cannot stop that way', async () => {
    let result: boolean | undefined;
    const placed = await t.call(async (agi) => {
      const rec = agi.recordFile('/tmp/x', 'wav', '#', 1000);
      result = agi.interrupt();
      await rec;
    });
    await placed.fake.expectCommand('RECORD FILE', '/tmp/x', 'wav', '#', '1000');
    placed.fake.reply('200 result=0 (timeout) endpos=8000');
    placed.fake.respond(() => '200 result=1');
    await placed.ended;
    assert.equal(result, false);
    assert.equal(placed.fake.commands.length, 2);
  });

  it('send() passes a raw command through and returns the parsed reply', async () => {
    let reply: unknown;
    const placed = await t.call(async (agi) => {
      reply = await agi.send('GET VARIABLE "X"');
    });
    const cmd = await placed.fake.nextCommand();
    assert.equal(cmd.line, 'GET VARIABLE "X"');
    placed.fake.reply('200 result=1 (a (b))');
    placed.fake.respond(() => '200 result=1');
    await placed.ended;
    assert.equal((reply as { data: string }).data, 'a (b)');
  });

  it('ignores a stray reply with no command in flight and stays in step', async () => {
    let value: unknown;
    const placed = await t.call(async (agi) => {
      await new Promise((r) => setTimeout(r, 30));
      value = await agi.getVariable('X');
    });
    placed.fake.reply('200 result=0');
    placed.fake.reply('');
    const cmd = await placed.fake.nextCommand();
    assert.equal(cmd.words[2], 'X');
    placed.fake.reply('200 result=1 (right)');
    placed.fake.respond(() => '200 result=1');
    await placed.ended;
    assert.equal(value, 'right');
  });
});

describe('Agi session closing without a close grace period (stdio scripts)', () => {
  // Found live (test/live/stdio.test.ts): runStdio uses closeGraceMs 0, which also bounded the final
  // status-variable write, so it timed out before Asterisk could answer and the session was logged
  // as "abandoned mid-flight".
  it('waits for the reply to the status-variable write even with closeGraceMs 0', async () => {
    const fromAsterisk = new PassThrough();
    const toAsterisk = new PassThrough();
    const warnings: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    const connection = new AgiConnection(fromAsterisk, toAsterisk, { log });
    fromAsterisk.write(`${fakeHeaderLines({ network: false }).join('\n')}\n\n`);
    const agi = new Agi(connection, await connection.header, { log, closeGraceMs: 0 });
    let closed = false;
    const closing = agi.close('HANGUP').then(() => {
      closed = true;
    });
    const sent = await nextEvent<Buffer>(toAsterisk, 'data', 'close() did not write the status variable');
    assert.equal(sent.toString(), 'SET VARIABLE "AGIKIT_STATUS" "HANGUP"\n');
    // Asterisk answers a few milliseconds later; the session must still be waiting for it.
    await delay(30);
    assert.equal(closed, false, 'close() gave up on the status write');
    fromAsterisk.write('200 result=1\n');
    await within(closing, WAIT_MS, 'close() did not finish once the status write was answered');
    assert.deepEqual(warnings, []);
  });
});
