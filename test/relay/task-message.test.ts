import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RelayArgumentError } from '../../src/relay/errors.js';
import { Task } from '../../src/relay/task.js';
import { decodeTaskMessage, encodeTaskMessage, MAX_TASK_BYTES } from '../../src/relay/task-message.js';
import type { TaskAddress, TaskDelivery, TaskReceiver, TaskTransport } from '../../src/relay/task-transport.js';

/** A transport that records what it was asked to deliver. */
class RecordingTransport implements TaskTransport {
  readonly name = 'recording';
  readonly sent: Array<{ address: TaskAddress; data: string }> = [];
  async deliver(address: TaskAddress, data: string): Promise<TaskDelivery> {
    this.sent.push({ address, data });
    return { delivered: true };
  }
  consume(): Promise<TaskReceiver> {
    throw new Error('not used');
  }
  async close(): Promise<void> {}
}

const nested = {
  uuid: 'f47ac10b-58cc-4372-a567-0e02b2c3d479',
  text: 'Grüße, 你好, emoji 📞, quote " and backslash \\ and newline\nend',
  numbers: [0, -1.5, 1e21, Number.MAX_SAFE_INTEGER],
  flags: { on: true, off: false, none: null },
  deep: { a: [{ b: [{ c: 'd' }] }] },
  'odd key/with spaces': 1,
  empty: { list: [], object: {} },
};

function expectArgumentError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => error instanceof RelayArgumentError && pattern.test(error.message));
}

describe('task messages', () => {
  it('a nested message with UTF-8 text round-trips unchanged', () => {
    const text = encodeTaskMessage(nested);
    assert.deepEqual(decodeTaskMessage(text), nested);
    assert.equal(JSON.stringify(decodeTaskMessage(text)), JSON.stringify(nested), 'key order kept too');
  });

  it('what JSON would drop or change is refused, naming where it is', () => {
    expectArgumentError(() => encodeTaskMessage({ a: undefined }), /message\.a is undefined, which JSON drops/);
    expectArgumentError(() => encodeTaskMessage({ a: { f: () => 1 } }), /message\.a\.f is a function/);
    expectArgumentError(() => encodeTaskMessage({ n: 10n }), /message\.n is a bigint, which JSON cannot carry/);
    expectArgumentError(() => encodeTaskMessage({ list: [1, Number.NaN] }), /message\.list\[1\] is NaN/);
    expectArgumentError(() => encodeTaskMessage({ x: Infinity }), /message\.x is Infinity/);
    expectArgumentError(() => encodeTaskMessage({ when: new Date(0) }), /message\.when is a Date \(convert it/);
    expectArgumentError(() => encodeTaskMessage({ m: new Map() }), /message\.m is a Map/);
    expectArgumentError(() => encodeTaskMessage({ 'a b': Symbol('s') }), /message\["a b"\] is a symbol/);
    expectArgumentError(() => encodeTaskMessage({ [Symbol('k')]: 1 }), /message has symbol keys/);
    // eslint-disable-next-line no-sparse-arrays
    expectArgumentError(() => encodeTaskMessage({ holes: [1, , 3] }), /message\.holes\[1\] is a hole/);
    const cycle: Record<string, unknown> = { a: 1 };
    cycle['self'] = { back: cycle };
    expectArgumentError(() => encodeTaskMessage(cycle), /message\.self\.back refers back .* \(a cycle\)/);
  });

  it('the same object twice (not a cycle) is fine', () => {
    const shared = { x: 1 };
    assert.deepEqual(decodeTaskMessage(encodeTaskMessage({ a: shared, b: [shared, shared] })), { a: { x: 1 }, b: [{ x: 1 }, { x: 1 }] });
  });

  it('the message itself must be a plain object', () => {
    for (const bad of [null, undefined, 'text', 42, [1, 2], new Date(0)]) {
      expectArgumentError(() => encodeTaskMessage(bad), /the message must be an object/);
    }
    assert.deepEqual(decodeTaskMessage(encodeTaskMessage(Object.assign(Object.create(null) as object, { k: 'v' }))), { k: 'v' });
  });

  it('a message over 1 MiB of JSON is refused, by the sender and by the receiver', () => {
    const big = { s: 'x'.repeat(MAX_TASK_BYTES) };
    expectArgumentError(() => encodeTaskMessage(big), /bytes of JSON, more than 1048576/);
    expectArgumentError(() => decodeTaskMessage(JSON.stringify(big)), /at most 1048576 bytes/);
    // UTF-8 bytes count, not characters.
    expectArgumentError(() => encodeTaskMessage({ s: 'é'.repeat(MAX_TASK_BYTES / 2) }), /more than/);
  });

  it('the receiver refuses text that is not a JSON object', () => {
    expectArgumentError(() => decodeTaskMessage('{"a":'), /must be JSON/);
    expectArgumentError(() => decodeTaskMessage('[1]'), /must be a JSON object, not an array/);
    expectArgumentError(() => decodeTaskMessage('"s"'), /not a string/);
    expectArgumentError(() => decodeTaskMessage('null'), /not null/);
  });
});

describe('Task', () => {
  it('deliver sends the message as JSON text to the context, with the project and token', async () => {
    const transport = new RecordingTransport();
    const task = new Task({ project: 'acme', token: 'PT-secret', transport });
    assert.equal(await task.deliver('office', nested), true);
    assert.deepEqual(transport.sent.map((s) => s.address), [{ project: 'acme', token: 'PT-secret', context: 'office' }]);
    assert.deepEqual(JSON.parse(transport.sent[0]?.data ?? ''), nested);
    await task.close();
  });

  it('a bad context or message throws RelayArgumentError and sends nothing', async () => {
    const transport = new RecordingTransport();
    const task = new Task({ project: 'acme', token: 't', transport });
    for (const context of ['', 'two words', 'a/b', 'x'.repeat(65), 'ünï']) {
      await assert.rejects(task.deliver(context, {}), (e: unknown) => e instanceof RelayArgumentError && /Task\.deliver: bad context/.test(e.message), context);
    }
    await assert.rejects(task.deliver('office', { a: () => 1 } as Record<string, unknown>), RelayArgumentError);
    await assert.rejects(task.deliver('office', [1] as unknown as Record<string, unknown>), RelayArgumentError);
    assert.deepEqual(transport.sent, []);
  });

  it('a bad project, token or transport URL throws at construction', () => {
    expectArgumentError(() => new Task({ project: '', token: 't' }), /Task: bad project ""/);
    expectArgumentError(() => new Task({ project: 'a:b', token: 't' }), /bad project/);
    expectArgumentError(() => new Task({ project: 'acme', token: '' }), /token must be printable ASCII/);
    expectArgumentError(() => new Task({ project: 'acme', token: 'has space' }), /token/);
    expectArgumentError(() => new Task({ project: 'acme', token: 't', transport: 'http://10.0.0.5:4574' }), /127\.0\.0\.1 only; across machines use redis/);
    expectArgumentError(() => new Task({ project: 'acme', token: 't', transport: 'ftp://127.0.0.1' }), /local transport is http/);
    expectArgumentError(() => new Task({ project: 'acme', token: 't', transport: 'redis://' }), /bad Redis URL/);
    expectArgumentError(() => new Task({ project: 'acme', token: 't', transport: 'not a url' }), /bad task URL/);
  });

  it('the default transport is the local one on 127.0.0.1:4574; URLs choose the others', () => {
    assert.equal(new Task({ project: 'acme', token: 't' }).transportName, 'local-http 127.0.0.1:4574');
    assert.equal(new Task({ project: 'acme', token: 't', transport: 'http://localhost:4600' }).transportName, 'local-http 127.0.0.1:4600');
    assert.equal(new Task({ project: 'acme', token: 't', transport: 'redis://u:pw@127.0.0.1:7000/2' }).transportName, 'redis 127.0.0.1:7000');
  });
});
