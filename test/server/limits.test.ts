/**
 * Limits that protect the server from a hostile or broken peer, and that say so: connections still in
 * their header are bounded (`maxPendingConnections`), a flood of stray lines costs a few log lines
 * (and is counted), and running out of file descriptors is logged and counted instead of silent.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { FastAgiServer } from '../../src/server/fastagi-server.js';
import { FakeCall } from '../../src/testing/fake-asterisk.js';
import { ChildServer } from '../support/child-server.js';
import { capturingLogger } from '../support/fake-server.js';
import { until, within } from '../support/settle.js';

/** Opens a raw connection that sends the start of a header and then nothing. */
async function stalledHeader(port: number): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  await within(once(socket, 'connect'), 5000, 'connect');
  socket.write('agi_network: yes\n');
  return socket;
}

describe('limits against hostile peers', () => {
  it('100,000 stray lines in a call: a handful of log lines, every line counted, the call goes on', async () => {
    const { logger, lines } = capturingLogger();
    const server = new FastAgiServer({ port: 0, logger });
    server.fallback(async (agi) => {
      await agi.waitForDigit(-1);
    });
    const { port } = await server.listen();
    try {
      const call = await FakeCall.connect(port);
      await call.nextCommand();
      call.send(Buffer.from('this is not AGI\n'.repeat(100_000)));
      call.reply('200 result=49');
      call.respond(() => '200 result=1');
      await within(call.closed, 10_000, 'the call did not end');
      assert.deepEqual(call.commands.at(-1)?.words, ['SET', 'VARIABLE', 'AGIKIT_STATUS', 'SUCCESS']);
      await until(() => server.stats.strayLines === 100_000, `stray lines counted: ${server.stats.strayLines}`, 2000);
      const logged = lines.filter((l) => l.msg === 'unexpected line from Asterisk; ignored');
      assert.equal(logged.length, 5, `${logged.length} log lines for 100,000 stray lines`);
      const summary = lines.find((l) => l.msg === 'unexpected lines from Asterisk ignored without a log line');
      assert.equal(summary?.notLogged, 99_995);
    } finally {
      await server.close({ timeoutMs: 500 });
    }
  });

  it('maxPendingConnections: connections that never finish their header cannot pile up; calls are served once they go', async () => {
    const { logger, lines } = capturingLogger();
    const server = new FastAgiServer({ port: 0, logger, maxPendingConnections: 3, headerTimeoutMs: 30_000 });
    server.fallback(async (agi) => {
      await agi.noop();
    });
    const { port } = await server.listen();
    try {
      const stalled = [await stalledHeader(port), await stalledHeader(port), await stalledHeader(port)];
      await until(() => server.stats.pending === 3, 'three pending', 2000);
      const over = await Promise.all([stalledHeader(port), stalledHeader(port)]);
      await Promise.all(over.map((s) => within(new Promise((r) => s.once('close', r)), 5000, 'a connection over the limit was left open')));
      assert.equal(server.stats.overPendingLimit, 2);
      assert.equal(server.stats.pending, 3);
      assert.equal(lines.filter((l) => String(l.msg).includes('too many connections pending')).length, 1, 'logged once (rate-limited)');
      for (const s of stalled) s.destroy();
      await until(() => server.stats.pending === 0, 'stalled connections gone', 2000);
      const call = await FakeCall.connect(port);
      call.respond(() => '200 result=1');
      await within(call.closed, 5000, 'call not served');
      assert.deepEqual(call.commands.map((c) => c.words[0]), ['NOOP', 'SET']);
    } finally {
      await server.close({ timeoutMs: 500 });
    }
  });

  it('near the file-descriptor limit (ulimit -n 200), connections are closed, counted and logged: none is dropped silently', async () => {
    const server = await ChildServer.start({ fdLimit: 200, logLevel: 'warn' });
    const sockets: Socket[] = [];
    try {
      const count = 300;
      for (let i = 0; i < count; i++) sockets.push(await stalledHeader(server.port));
      let stats = (await server.memory()).stats;
      for (const deadline = Date.now() + 10_000; stats.connections + stats.overFdLimit < count && Date.now() < deadline; stats = (await server.memory()).stats) {
        await new Promise((r) => setTimeout(r, 50));
      }
      // Every connection is either held or closed with a count: libuv dropped none behind our back.
      assert.equal(stats.connections + stats.overFdLimit, count, JSON.stringify(stats));
      assert.ok(stats.overFdLimit >= 100, `closed for lack of descriptors: ${stats.overFdLimit}`);
      assert.equal(stats.acceptErrors, 0);
      const warnings = server.logs().filter((l) => String(l.msg).includes('running out of file descriptors'));
      assert.equal(warnings.length, 1, 'logged once (rate-limited)');
      assert.equal(warnings[0]?.fdLimit, 200);
    } finally {
      for (const s of sockets) s.destroy();
      server.stop();
    }
  });
});
