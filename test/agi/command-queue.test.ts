/**
 * The command queue on its own: one task in flight, FIFO, deadlines counted from the call, queued
 * tasks dropped unstarted on timeout or abort, and the deadline/signal race of a started command.
 * Tasks are promises the test settles by hand, so no outcome depends on how fast the machine is;
 * the only waits are the (short) deadlines under test.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { armDeadline, budgetFrom, CommandQueue, raceDeadline, type Budget } from '../../src/agi/command-queue.js';
import { AgiAbortError, AgiTimeoutError, type AgiError } from '../../src/errors.js';
import { settle } from '../support/settle.js';

/** A promise with its resolve and reject. */
function deferred<T = string>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A task the test finishes by hand, recording when it started and with what budget. */
function handTask(log: string[], name: string): { task: (budget: Budget | undefined) => Promise<string>; done: ReturnType<typeof deferred<string>>; budgets: (Budget | undefined)[] } {
  const done = deferred<string>();
  const budgets: (Budget | undefined)[] = [];
  return {
    done,
    budgets,
    task: (budget) => {
      log.push(`start ${name}`);
      budgets.push(budget);
      return done.promise;
    },
  };
}

/** Tasks a, b and c, logging into one log. */
function threeTasks(log: string[]): [ReturnType<typeof handTask>, ReturnType<typeof handTask>, ReturnType<typeof handTask>] {
  return [handTask(log, 'a'), handTask(log, 'b'), handTask(log, 'c')];
}

describe('CommandQueue', () => {
  it('runs one task at a time, in order, and starts the next before the caller sees the result', async () => {
    const queue = new CommandQueue();
    const log: string[] = [];
    const [a, b, c] = threeTasks(log);
    const ra = queue.run('A', undefined, undefined, a.task);
    const rb = queue.run('B', undefined, undefined, b.task);
    const rc = queue.run('C', undefined, undefined, c.task);
    assert.deepEqual(log, ['start a']);
    const seen = ra.then((value) => log.push(`caller got ${value}`));
    a.done.resolve('a1');
    await seen;
    assert.deepEqual(log, ['start a', 'start b', 'caller got a1']);
    b.done.reject(new Error('b failed'));
    assert.equal(((await settle(rb)).error as Error).message, 'b failed');
    assert.deepEqual(log.slice(3), ['start c'], 'a failed task frees the queue too');
    c.done.resolve('c1');
    assert.equal(await rc, 'c1');
  });

  it('claimIfIdle: the fast path claims an idle queue only, and queued tasks wait for it', async () => {
    const queue = new CommandQueue();
    assert.equal(queue.claimIfIdle(), true);
    assert.equal(queue.claimIfIdle(), false);
    const first = deferred();
    const returned = queue.releaseAfter(first.promise);
    assert.equal(returned, first.promise, 'hands back the same promise (no wrapper)');
    const log: string[] = [];
    const b = handTask(log, 'b');
    const rb = queue.run('B', undefined, undefined, b.task);
    assert.deepEqual(log, []);
    first.resolve('x');
    await first.promise;
    assert.deepEqual(log, ['start b']);
    b.done.resolve('b1');
    await rb;
    await Promise.resolve();
    assert.equal(queue.claimIfIdle(), true, 'idle again once everything settled');
  });

  it('counts a deadline from the call: a task still queued when it passes is dropped unstarted', async () => {
    const queue = new CommandQueue();
    const log: string[] = [];
    const [a, b, c] = threeTasks(log);
    const ra = queue.run('A', undefined, undefined, a.task);
    const budget = budgetFrom(20);
    const rb = queue.run('B', budget, undefined, b.task);
    const cBudget = budgetFrom(60_000);
    const rc = queue.run('C', cBudget, undefined, c.task);
    const error = (await settle(rb)).error;
    assert.ok(error instanceof AgiTimeoutError);
    assert.equal(error.command, 'B');
    assert.equal(error.timeoutMs, 20);
    assert.deepEqual(log, ['start a'], 'B never started');
    a.done.resolve('a1');
    await ra;
    assert.deepEqual(log, ['start a', 'start c'], 'the queue went on with C');
    assert.equal(c.budgets[0], cBudget, 'a started task gets the budget made when it was issued');
    c.done.resolve('c1');
    assert.equal(await rc, 'c1');
  });

  it('drops a queued task whose signal aborts, and refuses one whose signal already has', async () => {
    const queue = new CommandQueue();
    const log: string[] = [];
    const a = handTask(log, 'a');
    const b = handTask(log, 'b');
    queue.run('A', undefined, undefined, a.task).catch(() => undefined);
    const controller = new AbortController();
    const rb = queue.run('B', undefined, controller.signal, b.task);
    const reason = new Error('user hung up on the menu');
    controller.abort(reason);
    const error = (await settle(rb)).error;
    assert.ok(error instanceof AgiAbortError);
    assert.equal(error.command, 'B');
    assert.equal(error.cause, reason);

    const idle = new CommandQueue();
    const x = handTask(log, 'x');
    const refused = (await settle(idle.run('X', undefined, AbortSignal.abort('early'), x.task))).error;
    assert.ok(refused instanceof AgiAbortError);
    assert.equal(refused.cause, 'early');
    assert.deepEqual(log, ['start a'], 'neither B nor X started');
    assert.equal(idle.claimIfIdle(), true, 'a refused task does not occupy the queue');
    a.done.resolve('a1');
  });
});

describe('raceDeadline', () => {
  it('settles as the work does, without giving up, when it is in time', async () => {
    const givenUp: AgiError[] = [];
    const controller = new AbortController();
    const value = await raceDeadline(Promise.resolve('ok'), 'W', budgetFrom(60_000), controller.signal, (e) => givenUp.push(e));
    assert.equal(value, 'ok');
    const failure = new Error('reply was bad');
    assert.equal((await settle(raceDeadline(Promise.reject(failure), 'W', budgetFrom(60_000), undefined, (e) => givenUp.push(e)))).error, failure);
    controller.abort();
    await Promise.resolve();
    assert.deepEqual(givenUp, [], 'disarmed once the work settled: a later abort changes nothing');
  });

  it('rejects with AgiTimeoutError when the deadline passes first, and hands the same error to onGiveUp', async () => {
    const givenUp: AgiError[] = [];
    const work = deferred();
    const error = (await settle(raceDeadline(work.promise, 'STREAM FILE x', budgetFrom(10), undefined, (e) => givenUp.push(e)))).error;
    assert.ok(error instanceof AgiTimeoutError);
    assert.equal(error.command, 'STREAM FILE x');
    assert.deepEqual(givenUp, [error]);
    work.resolve('late');
    await work.promise;
    assert.equal(givenUp.length, 1);
  });

  it('rejects with AgiAbortError on abort, at once when the signal already aborted', async () => {
    const work = deferred();
    const controller = new AbortController();
    const givenUp: AgiError[] = [];
    const race = raceDeadline(work.promise, 'W', undefined, controller.signal, (e) => givenUp.push(e));
    controller.abort('stop');
    const error = (await settle(race)).error;
    assert.ok(error instanceof AgiAbortError);
    assert.equal(error.cause, 'stop');
    assert.deepEqual(givenUp, [error]);

    const early: AgiError[] = [];
    const failing = deferred();
    const raced = raceDeadline(failing.promise, 'W', budgetFrom(60_000), AbortSignal.abort('gone'), (e) => early.push(e));
    assert.equal(early.length, 1, 'gave up synchronously');
    failing.reject(new Error('connection closed'));
    assert.ok((await settle(raced)).error instanceof AgiAbortError, 'the later failure of the work is absorbed');
  });
});

describe('armDeadline', () => {
  it('fires once, and never after disarm', async () => {
    const fired: AgiError[] = [];
    const disarm = armDeadline('W', budgetFrom(5), undefined, (e) => fired.push(e));
    disarm();
    const controller = new AbortController();
    const disarmSignal = armDeadline('W', undefined, controller.signal, (e) => fired.push(e));
    disarmSignal();
    controller.abort();
    const both = new AbortController();
    armDeadline('W', budgetFrom(5), both.signal, (e) => fired.push(e));
    await new Promise((resolve) => setTimeout(resolve, 30));
    both.abort();
    assert.equal(fired.length, 1);
    assert.ok(fired[0] instanceof AgiTimeoutError);
  });

  it('budgetFrom: none without a timeout, else a deadline from now', () => {
    assert.equal(budgetFrom(undefined), undefined);
    const before = Date.now();
    const budget = budgetFrom(250);
    assert.equal(budget?.timeoutMs, 250);
    assert.ok(budget !== undefined && budget.deadline >= before + 250 && budget.deadline <= Date.now() + 250);
  });
});
