/**
 * Memory under hostile replies, measured on a server in its own process (test/fixtures/memory-server):
 * a peer that opens a free-text value and never closes it must not make one connection hold more than
 * the reply bound, and the per-connection worst case (header phase, command phase) stays a small,
 * known figure (README, "Limits and failure modes").
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ServerStats } from '../../src/server/fastagi-server.js';
import { fakeHeaderLines } from '../../src/testing/fake-asterisk.js';
import { ChildServer } from '../support/child-server.js';
import { within } from '../support/settle.js';

const MiB = 1024 * 1024;
const KiB = 1024;

/** A raw connection that has sent its header and received the first GET VARIABLE. */
async function callAtFirstCommand(port: number): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  await within(once(socket, 'connect'), 5000, 'connect');
  const command = once(socket, 'data');
  socket.write(`${fakeHeaderLines().join('\n')}\n\n`);
  const [data] = (await within(command, 5000, 'no first command')) as [Buffer];
  assert.match(data.toString(), /^GET VARIABLE "X"\n$/);
  return socket;
}

/** Resolves at the first of `events` on `socket` (an 'error' too), and forgets its listeners. */
function first(socket: Socket, events: readonly string[]): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      for (const event of events) socket.off(event, done);
      resolve();
    };
    for (const event of events) socket.on(event, done);
  });
}

/** Writes `chunk` up to `times` times, honouring backpressure, until done or the server closes. */
async function flood(socket: Socket, chunk: Buffer, times: number): Promise<{ written: number; closedByServer: boolean }> {
  let closed = false;
  const gone = first(socket, ['close', 'error']).then(() => (closed = true));
  let written = 0;
  for (let i = 0; i < times && !closed; i++) {
    written++;
    if (!socket.write(chunk)) await first(socket, ['drain', 'close', 'error']);
  }
  await within(gone, 5000, 'the server left the call open after the flood').catch(() => undefined);
  return { written, closedByServer: closed };
}

describe('memory under hostile replies (server in a child process, RSS measured)', () => {
  let server: ChildServer;
  before(async () => {
    server = await ChildServer.start();
  });
  after(() => server.stop());

  it('a free-text value that never ends (4,000 lines of 60 KiB, from 6 calls at once) is cut at the reply bound; RSS stays put; other calls go on', async () => {
    // Warm up: a few ordinary exchanges so code paths and pools exist before the baseline.
    const warm = await callAtFirstCommand(server.port);
    for (let i = 0; i < 50; i++) {
      const next = once(warm, 'data');
      warm.write('200 result=1 (value)\n');
      await within(next, 5000, 'warm-up reply not followed by a command');
    }
    const before = await server.memory();

    const hostile = await Promise.all(Array.from({ length: 6 }, () => callAtFirstCommand(server.port)));
    const line = Buffer.from(`${'x'.repeat(60 * KiB)}\n`);
    const floods = hostile.map(async (socket) => {
      socket.write('200 result=1 (start\n');
      return flood(socket, line, 4000);
    });
    // An ordinary call in the middle of it all is served.
    const next = once(warm, 'data');
    warm.write('200 result=1 (still fine)\n');
    await within(next, 10_000, 'an ordinary call stalled during the flood');
    const outcomes = await within(Promise.all(floods), 60_000, 'the hostile calls were not closed');

    const afterFlood = await server.memory();
    warm.destroy();
    const peakGrowth = afterFlood.maxRss - before.maxRss;
    // Before the bound, each such call held ~240 MiB of strings (~1.4 GiB for six).
    assert.ok(peakGrowth < 48 * MiB, `peak RSS grew by ${(peakGrowth / MiB).toFixed(1)} MiB`);
    for (const { written, closedByServer } of outcomes) {
      assert.equal(closedByServer, true, 'the server closed the hostile call');
      assert.ok(written < 4000, `the server closed it before the end of the flood (after ${written} lines)`);
    }
    assert.ok(afterFlood.stats.protocolErrors >= 6, `protocol errors counted: ${afterFlood.stats.protocolErrors}`);
  });

  it('per-connection worst case: header phase and command phase, each measured over 100 connections on a fresh server', async (t) => {
    const count = 100;
    const partial = Buffer.from('y'.repeat(63 * KiB)); // a line that has not ended (no LF)
    const figures: string[] = [];

    /** RSS per connection of `count` connections each put in a worst-case state by `open`. */
    const perConnection = async (phase: string, open: (port: number) => Promise<Socket>, held: (stats: ServerStats) => number): Promise<number> => {
      const fresh = await ChildServer.start();
      try {
        // Warm up with one connection of the same kind, so one-off allocations are in the baseline.
        (await open(fresh.port)).destroy();
        await new Promise((r) => setTimeout(r, 100));
        const base = await fresh.memory();
        const sockets: Socket[] = [];
        for (let i = 0; i < count; i++) sockets.push(await open(fresh.port));
        // Wait (bounded) until the server holds them all; then let their input be read.
        let loaded = await fresh.memory();
        for (const deadline = Date.now() + 10_000; held(loaded.stats) < count && Date.now() < deadline; loaded = await fresh.memory()) {
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(held(loaded.stats), count, `${phase}: every connection is held: ${JSON.stringify(loaded.stats)}`);
        await new Promise((r) => setTimeout(r, 200));
        loaded = await fresh.memory();
        for (const socket of sockets) socket.destroy();
        const per = (loaded.rss - base.rss) / count;
        const heap = (loaded.heapUsed - base.heapUsed) / count;
        const buffers = (loaded.arrayBuffers - base.arrayBuffers) / count;
        figures.push(`${phase} ${(per / KiB).toFixed(0)} KiB (V8 heap ${(heap / KiB).toFixed(0)} KiB, buffers ${(buffers / KiB).toFixed(0)} KiB)`);
        return per;
      } finally {
        fresh.stop();
      }
    };

    // Header phase: a header just under its 64 KiB bound, then a line just under its own bound.
    const headerBody = Array.from({ length: 60 }, (_, i) => `agi_x${i}: ${'h'.repeat(1000)}`).join('\n');
    const perHeader = await perConnection(
      'header phase',
      async (port) => {
        const socket = connect({ port, host: '127.0.0.1' });
        socket.on('error', () => {});
        await once(socket, 'connect');
        socket.write(`agi_network: yes\n${headerBody}\n`);
        socket.write(partial);
        return socket;
      },
      (stats) => stats.pending,
    );
    // Command phase: a free-text reply just under the reply bound, then a line just under the line bound.
    const perCommand = await perConnection(
      'command phase',
      async (port) => {
        const socket = await callAtFirstCommand(port);
        socket.write(`200 result=1 (${'z'.repeat(62 * KiB)}\n`);
        socket.write(partial);
        return socket;
      },
      (stats) => stats.active,
    );
    t.diagnostic(`per connection, worst case (RSS over ${count} connections): ${figures.join('; ')}`);
    // By construction: header 64 KiB + unfinished line 64 KiB; reply 64 KiB + unfinished line 64 KiB;
    // plus the call's own objects. The bound leaves room for allocator slack, not for another copy.
    assert.ok(perHeader < 384 * KiB, `header phase: ${(perHeader / KiB).toFixed(0)} KiB per connection`);
    assert.ok(perCommand < 384 * KiB, `command phase: ${(perCommand / KiB).toFixed(0)} KiB per connection`);
  });
});
