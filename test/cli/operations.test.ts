/**
 * The operations endpoint in process: command labels stay few, the AMI link gauge follows an
 * AmiClient-like emitter, and the figures come from a real server's stats.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { commandLabel, createOperations } from '../../src/cli/operations.js';
import { FastAgiServer } from '../../src/server/fastagi-server.js';
import { FakeCall } from '../../src/testing/fake-asterisk.js';
import { quiet } from '../support/fake-server.js';
import { until, within } from '../support/settle.js';

describe('operations endpoint', () => {
  it('labels a command line by its command name from the table, anything else OTHER', () => {
    assert.equal(commandLabel('STREAM FILE "x" ""'), 'STREAM FILE');
    assert.equal(commandLabel('GET FULL VARIABLE "${X}"'), 'GET FULL VARIABLE');
    assert.equal(commandLabel('GET VARIABLE "X"'), 'GET VARIABLE');
    assert.equal(commandLabel('answer'), 'ANSWER');
    assert.equal(commandLabel('ANSWERX'), 'OTHER');
    assert.equal(commandLabel(`FOO ${'x'.repeat(5000)}`), 'OTHER');
  });

  it('feeds agikit_ami_connected from connected/disconnected events, and serves the server\'s figures', async () => {
    const operations = await createOperations(quiet);
    const server = new FastAgiServer({ port: 0, logger: quiet, observeCommand: operations.observeCommand });
    server.fallback(async (agi) => {
      await agi.streamFile('beep');
    });
    operations.watchServer(server);
    const ami = Object.assign(new EventEmitter(), { connected: true });
    operations.watchAmi(ami);
    const { port } = await server.listen();
    const endpoint = await operations.listen(0);
    const metrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${endpoint.port}/metrics`)).text();
    try {
      assert.equal(endpoint.address, '127.0.0.1');
      assert.match(await metrics(), /^agikit_ami_connected 1$/m);
      ami.emit('disconnected');
      assert.match(await metrics(), /^agikit_ami_connected 0$/m);
      const health = (await (await fetch(`http://127.0.0.1:${endpoint.port}/health`)).json()) as Record<string, unknown>;
      assert.deepEqual(health, { status: 'ok', active: 0, pending: 0, lingering: 0, ami: 'disconnected' });
      ami.emit('connected');
      const call = await FakeCall.connect(port);
      call.respond(() => '200 result=0 endpos=8000');
      await within(call.closed, 5000, 'call not served');
      await until(() => server.stats.calls.SUCCESS === 1, 'call not ended', 2000);
      const text = await metrics();
      assert.match(text, /^agikit_ami_connected 1$/m);
      assert.match(text, /^agikit_command_round_trip_seconds_count\{command="STREAM FILE"\} 1$/m);
      assert.match(text, /^agikit_calls_ended_total\{status="SUCCESS"\} 1$/m);
    } finally {
      await operations.close();
      await server.close({ timeoutMs: 500 });
    }
  });
});
