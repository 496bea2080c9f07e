/**
 * The local HTTP task transport: its wire as any sender sees it (plain HTTP requests), and
 * competing consumer processes, each started on its own, sharing the configured port: each task
 * reaches exactly one of them, and when the one holding the port is killed another takes it over.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Task } from '../../src/relay/task.js';
import { LocalHttpTaskTransport } from '../../src/relay/transports/local-http.js';
import { freeLocalPort } from '../../src/testing/live-ami.js';
import { spawnNode } from '../support/child.js';
import { until } from '../support/settle.js';
import { Recorder, spawnTaskConsumer, start } from '../support/task-consumers.js';

const log = pino({ level: 'silent' });

/** A POST as curl would send it. */
async function post(port: number, path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: res.status, json: await res.json() };
}

/** Delivers until `deliver` says `expected`, polling (bounded): a port changing hands takes a moment. */
async function deliveredOnceMore(task: Task, message: Record<string, unknown>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await task.deliver('office', message))) {
    if (Date.now() > deadline) assert.fail(`${what} (waited 10000 ms)`);
    await sleep(25);
  }
}

describe('local HTTP task transport', () => {
  it('speaks plain HTTP: 202 delivered, 401 bad token, 404 nobody, 400 not an object, 413 too large, 405 not POST', async (t) => {
    const port = await freeLocalPort();
    const consumer = new Recorder({ contexts: ['office'] }, { tasks: `http://127.0.0.1:${port}`, log, agi: { port: 0 } });
    await start(t, consumer);
    const auth = { authorization: 'Bearer secret' };
    const sent = { uuid: 'u-1', text: 'Grüße 📞\nline two', nested: { list: [1, { deep: [true, null] }] } };
    assert.deepEqual(await post(port, '/relay/acme/tasks/office', JSON.stringify(sent), auth), { status: 202, json: { delivered: true } });
    await until(() => consumer.tasks.length === 1, 'onTask did not run');
    assert.deepEqual(consumer.tasks[0], { message: sent, context: 'office' }, 'the message arrived intact');
    const refused = await post(port, '/relay/acme/tasks/office', '{}', { authorization: 'Bearer guess' });
    assert.deepEqual(refused, { status: 401, json: { delivered: false, reason: 'refused', detail: 'the consumers of acme/office refused the token' } });
    assert.equal((await post(port, '/relay/acme/tasks/office', '{}')).status, 401, 'no token');
    assert.equal((await post(port, '/relay/acme/tasks/home', '{}', auth)).status, 404);
    assert.equal((await post(port, '/relay/other/tasks/office', '{}', auth)).status, 404);
    const notObject = await post(port, '/relay/acme/tasks/office', '[1,2]', auth);
    assert.equal(notObject.status, 400);
    assert.match(JSON.stringify(notObject.json), /must be a JSON object, not an array/);
    assert.equal((await post(port, '/relay/acme/tasks/office', 'x'.repeat(1024 * 1024 + 1), auth)).status, 413);
    assert.equal((await fetch(`http://127.0.0.1:${port}/relay/acme/tasks/office`)).status, 405);
    assert.equal((await post(port, '/elsewhere', '{}', auth)).status, 404);
    assert.equal(consumer.tasks.length, 1, 'nothing else ran');
  });

  it('deliver is true while a consumer process runs, false before it starts and after it stops (SIGTERM)', async (t) => {
    const port = await freeLocalPort();
    const url = `http://127.0.0.1:${port}`;
    const task = new Task({ project: 'acme', token: 'secret', transport: url });
    assert.deepEqual(await task.attempt('office', { id: 0 }), { delivered: false, reason: 'no-consumer', detail: `no consumer listens on 127.0.0.1:${port}` });
    const consumer = spawnTaskConsumer(t, url, 'office');
    await consumer.ready();
    assert.equal(await task.deliver('office', { id: 1 }), true);
    await consumer.waitFor(/"event":"done","id":1/);
    consumer.child.kill('SIGTERM');
    assert.equal(await consumer.exit('did not exit on SIGTERM'), 0);
    assert.equal(await task.deliver('office', { id: 2 }), false);
    assert.deepEqual(
      consumer.events().filter((e) => e.event === 'task').map((e) => e.id),
      [1],
    );
  });

  it('two consumer processes share the port: each task reaches one of them, in turn; killing the holder hands the port over', async (t) => {
    const port = await freeLocalPort();
    const url = `http://127.0.0.1:${port}`;
    const first = spawnTaskConsumer(t, url, 'office');
    await first.ready();
    const second = spawnTaskConsumer(t, url, 'office,home');
    await second.ready();
    const task = new Task({ project: 'acme', token: 'secret', transport: url });
    for (let id = 0; id < 20; id++) assert.equal(await task.deliver('office', { id }), true, `task ${id}`);
    const done = (p: typeof first): unknown[] => p.events().filter((e) => e.event === 'done').map((e) => e.id);
    await until(() => done(first).length + done(second).length === 20, 'not all 20 tasks ran', 10_000);
    const all = [...done(first), ...done(second)].map(Number).sort((a, b) => a - b);
    assert.deepEqual(all, Array.from({ length: 20 }, (_, i) => i), 'each task exactly once');
    assert.equal(done(first).length, 10, `round robin: ${JSON.stringify({ first: done(first), second: done(second) })}`);
    // Only the second listens on home.
    assert.equal(await task.deliver('home', { id: 'h' }), true);
    await second.waitFor(/"event":"done","id":"h"/);
    assert.equal(await new Task({ project: 'acme', token: 'guess', transport: url }).deliver('office', { id: 'x' }), false, 'a wrong token');

    // The first started holds the port. Kill it: the second takes the port over.
    first.child.kill('SIGKILL');
    await first.exit('was not killed');
    await deliveredOnceMore(task, { id: 'after' }, 'the second consumer did not take the port over');
    await second.waitFor(/"event":"done","id":"after"/);
    assert.ok(!first.events().some((e) => e.id === 'after'));

    second.child.kill('SIGKILL');
    await second.exit('was not killed');
    const none = await task.attempt('office', { id: 'none' });
    assert.equal(none.delivered ? 'delivered' : none.reason, 'no-consumer');
  });

  it('under node:cluster the workers share the port through the primary, each task reaching one worker', async (t) => {
    const port = await freeLocalPort();
    const url = `http://127.0.0.1:${port}`;
    const primary = spawnNode(t, [fileURLToPath(new URL('../fixtures/task-cluster.js', import.meta.url)), url]);
    const ready = (): number => primary.stdout().split('\n').filter((l) => l.includes('"event":"ready"')).length;
    await until(() => ready() === 2, `the two workers did not get ready: ${primary.stderr()}`, 20_000);
    const task = new Task({ project: 'acme', token: 'secret', transport: url });
    for (let id = 0; id < 6; id++) assert.equal(await task.deliver('office', { id }), true);
    const done = (): Array<{ id: number; pid: number }> =>
      primary
        .stdout()
        .split('\n')
        .filter((l) => l.includes('"event":"done"'))
        .map((l) => JSON.parse(l) as { id: number; pid: number });
    await until(() => done().length === 6, 'not all 6 tasks ran');
    assert.deepEqual(done().map((d) => d.id).sort(), [0, 1, 2, 3, 4, 5], 'each task once');
    assert.equal(new Set(done().map((d) => d.pid)).size, 2, `both workers got tasks: ${JSON.stringify(done())}`);
    primary.child.kill('SIGTERM');
    assert.equal(await primary.exit('the cluster did not stop on SIGTERM'), 0);
  });

  it('a consumer started while another holds the port registers with it, and the holder passes tasks on', async (t) => {
    const port = await freeLocalPort();
    const tasks = [new LocalHttpTaskTransport({ port }), new LocalHttpTaskTransport({ port })];
    const a = new Recorder({ contexts: ['office'] }, { tasks: tasks[0], log, agi: { port: 0 } });
    const b = new Recorder({ contexts: ['office'] }, { tasks: tasks[1], log, agi: { port: 0 } });
    const runA = await start(t, a);
    await start(t, b);
    assert.deepEqual(tasks.map((x) => x.holdsPort), [true, false]);
    const task = new Task({ project: 'acme', token: 'secret', transport: `http://127.0.0.1:${port}` });
    for (let id = 0; id < 4; id++) assert.equal(await task.deliver('office', { id }), true);
    await until(() => a.tasks.length === 2 && b.tasks.length === 2, 'the tasks were not shared 2 and 2');
    // A graceful stop of the holder: the other takes the port.
    await runA.stop();
    await deliveredOnceMore(task, { id: 'later' }, 'the port was not taken over after a stop');
    assert.equal(tasks[1]?.holdsPort, true);
    assert.deepEqual(b.tasks.at(-1)?.message, { id: 'later' });
    await Promise.all(tasks.map((x) => x.close()));
  });
});
