import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Client } from '../../src/relay/client.js';
import { RelayError } from '../../src/relay/errors.js';
import { RelayRuntime } from '../../src/relay/runtime.js';

const quiet = pino({ level: 'silent' });

describe('Relay Client', () => {
  it('connect() makes it ready (once, even when called twice); disconnect() ends it', async () => {
    const client = new Client({ project: 'acme', token: 't', log: quiet });
    const ready: Client[] = [];
    const disconnected: Client[] = [];
    client.on('ready', (c) => ready.push(c));
    client.on('disconnected', (c) => disconnected.push(c));
    assert.equal(client.connected, false);
    assert.throws(() => client.runtime, RelayError);
    await Promise.all([client.connect(), client.connect()]);
    assert.equal(client.connected, true);
    assert.deepEqual(ready, [client]);
    assert.ok(client.runtime instanceof RelayRuntime);
    assert.equal(client.runtime.ami, undefined, 'no AMI was asked for');
    await client.disconnect();
    assert.equal(client.connected, false);
    assert.deepEqual(disconnected, [client]);
  });

  it('over() shares a running runtime and is connected from the start', () => {
    const runtime = new RelayRuntime({ log: quiet });
    const client = Client.over(runtime, { project: 'acme', token: 't' });
    assert.equal(client.connected, true);
    assert.equal(client.runtime, runtime);
    assert.equal(client.project, 'acme');
  });
});
