/**
 * Tasks between consumers and senders of one process (InProcessTaskTransport), through the real
 * Consumer.run and Client: what every transport must do, without the network.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Client } from '../../src/relay/client.js';
import { RelayArgumentError } from '../../src/relay/errors.js';
import { Task } from '../../src/relay/task.js';
import { InProcessTaskTransport } from '../../src/relay/transports/in-process.js';
import { until } from '../support/settle.js';
import { Recorder, start } from '../support/task-consumers.js';

const log = pino({ level: 'silent' });

describe('tasks in one process', () => {
  it('deliver is true while a consumer listens on the context, false once it has stopped', async (t) => {
    const tasks = new InProcessTaskTransport();
    const consumer = new Recorder({ contexts: ['office'] }, { tasks, log, agi: { port: 0 } });
    const task = new Task({ project: 'acme', token: 'secret', transport: tasks });
    assert.deepEqual(await task.attempt('office', { n: 1 }), { delivered: false, reason: 'no-consumer', detail: 'no consumer listens on acme/office' });
    const running = await start(t, consumer);
    assert.equal(await task.deliver('office', { n: 2, text: 'ünïcødé' }), true);
    await until(() => consumer.tasks.length === 1, 'onTask did not run');
    assert.deepEqual(consumer.tasks, [{ message: { n: 2, text: 'ünïcødé' }, context: 'office' }]);
    assert.equal(await task.deliver('home', { n: 3 }), false, 'a context nobody listens on');
    await running.stop();
    assert.equal(await task.deliver('office', { n: 4 }), false, 'after stop');
    assert.equal(consumer.tasks.length, 1);
  });

  it('two consumers of a context share its tasks, each task once; a wrong token is refused', async (t) => {
    const tasks = new InProcessTaskTransport();
    const a = new Recorder({ contexts: ['office'] }, { tasks, log, agi: { port: 0 } });
    const b = new Recorder({ contexts: ['office', 'home'] }, { tasks, log, agi: { port: 0 } });
    await start(t, a);
    await start(t, b);
    const task = new Task({ project: 'acme', token: 'secret', transport: tasks });
    for (let id = 0; id < 10; id++) assert.equal(await task.deliver('office', { id }), true);
    await until(() => a.tasks.length + b.tasks.length === 10, 'not every task ran');
    const ids = [...a.tasks, ...b.tasks].map((x) => x.message['id']).sort((x, y) => Number(x) - Number(y));
    assert.deepEqual(ids, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'each task exactly once');
    assert.equal(a.tasks.length, 5, 'round robin');
    assert.equal(await task.deliver('home', { id: 'h' }), true);
    await until(() => b.tasks.some((x) => x.context === 'home'), 'the home task did not reach the one consumer of home');
    const wrong = new Task({ project: 'acme', token: 'guess', transport: tasks });
    assert.deepEqual(await wrong.attempt('office', { id: 'x' }), { delivered: false, reason: 'refused', detail: 'the consumers of acme/office refused the token' });
    assert.equal(await new Task({ project: 'other', token: 'secret', transport: tasks }).deliver('office', {}), false, 'another project');
    assert.equal(a.tasks.length + b.tasks.length, 11);
  });

  it('a consumer running as many tasks as it may is busy; stopping waits for the tasks running', async (t) => {
    const tasks = new InProcessTaskTransport(2);
    const consumer = new Recorder({ contexts: ['office'] }, { tasks, log, agi: { port: 0 } });
    let open!: () => void;
    consumer.gate = new Promise((resolve) => (open = resolve));
    const running = await start(t, consumer);
    const task = new Task({ project: 'acme', token: 'secret', transport: tasks });
    assert.equal(await task.deliver('office', { id: 1 }), true);
    assert.equal(await task.deliver('office', { id: 2 }), true);
    const busy = await task.attempt('office', { id: 3 });
    assert.equal(busy.delivered ? '' : busy.reason, 'busy');
    let stopped = false;
    const stopping = running.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(stopped, false, 'stop waits for the tasks running');
    open();
    await stopping;
  });

  it('a failing onTask is logged with its context and does not stop the consumer', async (t) => {
    const tasks = new InProcessTaskTransport();
    const lines: string[] = [];
    const logged = pino({ level: 'error' }, { write: (line: string) => void lines.push(line) });
    const consumer = new Recorder({ contexts: ['office'] }, { tasks, log: logged, agi: { port: 0 } });
    consumer.failWith = new Error('boom');
    await start(t, consumer);
    const task = new Task({ project: 'acme', token: 'secret', transport: tasks });
    assert.equal(await task.deliver('office', { id: 1 }), true);
    await until(() => lines.some((l) => /onTask failed/.test(l)), 'the failure was not logged');
    const line = JSON.parse(lines.find((l) => /onTask failed/.test(l)) ?? '{}') as { context?: string; err?: { message?: string } };
    assert.equal(line.context, 'office');
    assert.equal(line.err?.message, 'boom');
    consumer.failWith = undefined;
    assert.equal(await task.deliver('office', { id: 2 }), true);
    await until(() => consumer.tasks.length === 2, 'the consumer stopped taking tasks after a failure');
  });

  it('client.tasking delivers over the client\'s transport; consumer.client reaches its own consumer', async (t) => {
    const tasks = new InProcessTaskTransport();
    const consumer = new Recorder({ contexts: ['office'] }, { tasks, log, agi: { port: 0 } });
    await start(t, consumer);
    assert.equal(await consumer.client.tasking.deliver('office', { from: 'consumer.client' }), true);
    const client = new Client({ project: 'acme', token: 'secret', tasks, log });
    await client.connect();
    assert.equal(await client.tasking.deliver('office', { from: 'client' }), true);
    await client.disconnect();
    await until(() => consumer.tasks.length === 2, 'the tasks did not arrive');
    assert.deepEqual(consumer.tasks.map((x) => x.message['from']).sort(), ['client', 'consumer.client']);
  });

  it('a consumer with onTask needs a project and a token', async () => {
    const consumer = new Recorder({ contexts: ['office'], token: '' }, { tasks: new InProcessTaskTransport(), log, agi: { port: 0 } });
    await assert.rejects(consumer.run({ handleSignals: false }), (e: unknown) => e instanceof RelayArgumentError && /Recorder\.onTask: the token must be/.test(e.message));
  });
});
