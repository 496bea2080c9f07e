/**
 * The Redis task transport against a real redis-server (started for this file on a port chosen per
 * run; skipped, with the reason, where it cannot run): durable delivery, competing consumer
 * processes, a consumer killed mid-task whose task another finishes (XAUTOCLAIM), running tasks kept
 * from live consumers, retries then dead letters, and entries not signed with the token refused.
 */
import assert from 'node:assert/strict';
import { after, describe, it, type TestContext } from 'node:test';
import { pino } from 'pino';
import { Task } from '../../src/relay/task.js';
import { RedisTaskTransport } from '../../src/relay/transports/redis.js';
import { signTask } from '../../src/relay/transports/redis-streams.js';
import { freeLocalPort } from '../../src/testing/live-ami.js';
import { startRedis } from '../support/redis-server.js';
import { until } from '../support/settle.js';
import { Recorder, spawnTaskConsumer, start, type TaskConsumerProcess } from '../support/task-consumers.js';

const redis = await startRedis();
const skip = 'skip' in redis ? redis.skip : false;
after(() => ('skip' in redis ? undefined : redis.stop()));
const server = 'skip' in redis ? undefined : redis;
const url = server?.url ?? '';
const log = pino({ level: 'silent' });

/** The number of entries pending (delivered, not acknowledged) in a context's group. */
function pending(context: string): number {
  return Number(server?.cli('XPENDING', `relay:acme:tasks:${context}`, 'relay-consumers').split('\n')[0]);
}

/** The dead letters of a context, as field maps. */
function deadLetters(context: string): Array<Record<string, string>> {
  const lines = (server?.cli('--json', 'XRANGE', `relay:acme:tasks:${context}:dead`, '-', '+') ?? '[]').trim();
  return (JSON.parse(lines || '[]') as Array<[string, string[]]>).map(([, fields]) => {
    const map: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) map[fields[i] ?? ''] = fields[i + 1] ?? '';
    return map;
  });
}

/** A task sender to the test's Redis, closed when the test ends. */
function sender(t: TestContext, token = 'secret'): Task {
  const task = new Task({ project: 'acme', token, transport: url });
  t.after(() => task.close());
  return task;
}

/** Two consumer processes of `context`, ready, and a sender. */
async function twoConsumers(t: TestContext, context: string, env: Record<string, string> = {}): Promise<{ a: TaskConsumerProcess; b: TaskConsumerProcess; task: Task }> {
  const a = spawnTaskConsumer(t, url, context, env);
  const b = spawnTaskConsumer(t, url, context, env);
  await Promise.all([a.ready(), b.ready()]);
  return { a, b, task: sender(t) };
}

const done = (p: TaskConsumerProcess): unknown[] => p.events().filter((e) => e.event === 'done').map((e) => e.id);
const started = (p: TaskConsumerProcess): unknown[] => p.events().filter((e) => e.event === 'task').map((e) => e.id);

describe('Redis task transport', () => {
  it('a task delivered while no consumer runs waits in Redis; the first consumer takes it, intact', { skip }, async (t) => {
    const task = sender(t);
    const sent = { uuid: 'a1', text: 'Grüße 你好 📞 "quoted"\nnext line', nested: { list: [1, 2.5, { deep: [true, null, ''] }] } };
    assert.equal(await task.deliver('early', sent), true, 'Redis has it');
    const consumer = new Recorder({ contexts: ['early'] }, { tasks: new RedisTaskTransport({ url }), log, agi: { port: 0 } });
    await start(t, consumer);
    await until(() => consumer.tasks.length === 1, 'the waiting task did not reach the consumer');
    assert.deepEqual(consumer.tasks[0], { message: sent, context: 'early' });
    await until(() => pending('early') === 0, 'the task was not acknowledged');
  });

  it('any language can produce: one XADD with the HMAC of the context and the JSON', { skip }, async (t) => {
    const consumer = new Recorder({ contexts: ['foreign'] }, { tasks: new RedisTaskTransport({ url }), log, agi: { port: 0 } });
    await start(t, consumer);
    const data = '{"from":"redis-cli","n":1}';
    server?.cli('XADD', 'relay:acme:tasks:foreign', '*', 'data', data, 'sig', signTask('secret', 'foreign', data));
    await until(() => consumer.tasks.length === 1, 'the task added with redis-cli did not arrive');
    assert.deepEqual(consumer.tasks[0]?.message, { from: 'redis-cli', n: 1 });
  });

  it('two consumer processes share the tasks, each task exactly once, all acknowledged', { skip }, async (t) => {
    const { a, b, task } = await twoConsumers(t, 'share');
    for (let id = 0; id < 20; id++) {
      assert.equal(await task.deliver('share', { id }), true);
      // Paced a little, so both readers are blocked waiting when the next one comes.
      await until(() => done(a).length + done(b).length === id + 1, `task ${id} did not run`);
    }
    const all = [...done(a), ...done(b)].map(Number).sort((x, y) => x - y);
    assert.deepEqual(all, Array.from({ length: 20 }, (_, i) => i), 'each task exactly once');
    assert.ok(done(a).length > 0 && done(b).length > 0, `each got a share: ${JSON.stringify({ a: done(a), b: done(b) })}`);
    await until(() => pending('share') === 0, 'not all were acknowledged');
  });

  it('a consumer killed mid-task (SIGKILL): another takes the task over after minIdleMs and finishes it', { skip }, async (t) => {
    const { a, b, task } = await twoConsumers(t, 'crash', { TASK_MIN_IDLE_MS: '1000' });
    assert.equal(await task.deliver('crash', { id: 'k', hold: 1500 }), true);
    await until(() => started(a).includes('k') || started(b).includes('k'), 'nobody started the task', 10_000);
    const [victim, survivor] = started(a).includes('k') ? [a, b] : [b, a];
    victim.child.kill('SIGKILL');
    await victim.exit('was not killed');
    assert.deepEqual(done(victim), [], 'the victim did not finish it');
    // Redis still holds it as pending on the dead consumer (named <host>:<pid>:<random>).
    assert.equal(pending('crash'), 1);
    assert.match(server?.cli('XPENDING', 'relay:acme:tasks:crash', 'relay-consumers') ?? '', new RegExp(`:${victim.child.pid}:`));
    await until(() => done(survivor).includes('k'), 'the survivor did not finish the task of the killed consumer', 15_000);
    assert.deepEqual(started(survivor), ['k'], 'the survivor ran it once');
    await until(() => pending('crash') === 0, 'the task taken over was not acknowledged');
  });

  it('a long task is not taken from a live consumer (its running tasks are kept claimed)', { skip }, async (t) => {
    const { a, b, task } = await twoConsumers(t, 'long', { TASK_MIN_IDLE_MS: '300' });
    // Held for 6 times minIdleMs: without the heartbeat the idle consumer would take it over.
    assert.equal(await task.deliver('long', { id: 'l', hold: 1800 }), true);
    await until(() => done(a).includes('l') || done(b).includes('l'), 'the long task did not finish', 10_000);
    assert.deepEqual([...started(a), ...started(b)], ['l'], 'it ran once, on one consumer');
    await until(() => pending('long') === 0, 'the long task was not acknowledged');
  });

  it('a failing onTask is delivered again after minIdleMs, then goes to the dead letters after maxDeliveries', { skip }, async (t) => {
    const consumer = new Recorder({ contexts: ['flaky'] }, { tasks: new RedisTaskTransport({ url, minIdleMs: 150, maxDeliveries: 3 }), log, agi: { port: 0 } });
    consumer.failWith = new Error('always');
    await start(t, consumer);
    const task = sender(t);
    assert.equal(await task.deliver('flaky', { id: 'f' }), true);
    await until(() => deadLetters('flaky').length === 1, 'the task did not reach the dead letters', 10_000);
    assert.equal(consumer.tasks.length, 3, 'tried maxDeliveries times');
    const [dead] = deadLetters('flaky');
    assert.equal(dead?.['reason'], 'not acknowledged after 3 deliveries');
    assert.equal(dead?.['data'], '{"id":"f"}');
    // Moved, then acknowledged.
    await until(() => pending('flaky') === 0, 'the dead task was not acknowledged');
  });

  it('an entry not signed with the project\'s token is refused into the dead letters; onTask never sees it', { skip }, async (t) => {
    const consumer = new Recorder({ contexts: ['guarded'] }, { tasks: new RedisTaskTransport({ url }), log, agi: { port: 0 } });
    await start(t, consumer);
    const intruder = sender(t, 'guess');
    assert.equal(await intruder.deliver('guarded', { id: 'bad' }), true, 'Redis took it: the consumer judges it');
    server?.cli('XADD', 'relay:acme:tasks:guarded', '*', 'data', '{"id":"unsigned"}');
    await until(() => deadLetters('guarded').length === 2, 'the bad entries did not reach the dead letters');
    assert.deepEqual(
      deadLetters('guarded').map((d) => [d['data'], d['reason']]),
      [
        ['{"id":"bad"}', "refused: not signed with this project's token"],
        ['{"id":"unsigned"}', "refused: not signed with this project's token"],
      ],
    );
    const task = sender(t);
    assert.equal(await task.deliver('guarded', { id: 'good' }), true);
    await until(() => consumer.tasks.length === 1, 'the signed task did not arrive');
    assert.deepEqual(consumer.tasks.map((x) => x.message['id']), ['good']);
  });

  it('deliver is false (unreachable) when Redis cannot be reached', { skip }, async (t) => {
    const nowhere = new Task({ project: 'acme', token: 'secret', transport: `redis://127.0.0.1:${await freeLocalPort()}` });
    t.after(() => nowhere.close());
    const outcome = await nowhere.attempt('office', { id: 1 });
    assert.equal(outcome.delivered ? 'delivered' : outcome.reason, 'unreachable');
    assert.match(outcome.delivered ? '' : outcome.detail, /ECONNREFUSED/);
  });
});
