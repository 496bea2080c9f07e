/**
 * AmiClient against a fake AMI server that sends megabytes without a blank line, or a megabyte
 * without a line end: the client buffers no more than its bounds (measured), reports an
 * AmiProtocolError, drops the connection, reconnects, and its actions work again.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AmiClient, AmiProtocolError, type AmiClientOptions, type AmiError } from '../../src/ami/index.js';
import { FakeAmi, loginResponder } from '../support/fake-ami.js';
import { nextEvent } from '../support/settle.js';
import { quiet } from '../support/fake-server.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Writes `total` bytes of `unit` to a socket, respecting backpressure, until done or closed. */
async function flood(socket: Socket, unit: string, total: number): Promise<number> {
  const chunk = Buffer.from(unit.repeat(Math.ceil(65536 / unit.length)));
  let written = 0;
  while (written < total && !socket.destroyed) {
    written += chunk.length;
    if (!socket.write(chunk)) await new Promise((resolve) => (socket.once('drain', resolve), socket.once('close', resolve)));
  }
  return written;
}

describe('AmiClient: bounded input (fake AMI server)', () => {
  let fake: FakeAmi;
  let ami: AmiClient | undefined;
  let floodDone: Promise<number> | undefined;
  beforeEach(async () => {
    fake = new FakeAmi();
    await fake.listen();
  });
  afterEach(async () => {
    await ami?.close();
    await fake.close();
  });

  /** A client whose first connection is flooded with `unit` after Login, and served normally later. */
  async function floodedClient(unit: string, total: number, options: Partial<AmiClientOptions> = {}): Promise<AmiClient> {
    const port = (fake.server.address() as { port: number }).port;
    fake.responder = (action, socket) => {
      if (action['Action'] === 'Ping') return `Response: Success\r\nActionID: ${action['ActionID']}\r\nPing: Pong\r\n\r\n`;
      const answer = loginResponder(action);
      if (action['Action'] === 'Login' && fake.connections === 1) {
        socket.write(answer ?? '');
        socket.write('Event: Junk\r\n');
        floodDone = flood(socket, unit, total);
        return undefined;
      }
      return answer;
    };
    return AmiClient.connect({ port, username: 'u', secret: 'good', logger: quiet, reconnect: { initialDelayMs: 20, maxDelayMs: 50 }, ...options });
  }

  it('megabytes of lines without a blank line: AmiProtocolError, connection dropped and re-established; memory stays bounded', async () => {
    const limits = { maxMessageBytes: 64 * 1024, maxLineBytes: 4096 };
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    let peakBuffered = 0;
    let sampling = true;
    const sample = (): void => {
      if (!sampling) return;
      peakBuffered = Math.max(peakBuffered, ami?.stats.bufferedBytes ?? 0);
      setImmediate(sample);
    };
    ami = await floodedClient(`X-Junk: ${'j'.repeat(100)}\r\n`, 4 * 1024 * 1024, { limits });
    sample();
    const lost = await nextEvent<AmiError>(ami, 'disconnected', 'the client did not report the connection lost');
    sampling = false;
    assert.ok(lost instanceof AmiProtocolError && lost.limit === 'message-bytes', String(lost));
    await nextEvent(ami, 'connected', 'the client did not connect (again)');
    assert.equal((await ami.action('Ping')).get('Ping'), 'Pong');
    const written = await floodDone;
    assert.ok(written !== undefined && written < 4 * 1024 * 1024, `the server could not write it all: ${written}`);
    assert.ok(peakBuffered <= limits.maxMessageBytes + limits.maxLineBytes, `buffered at most ${peakBuffered} bytes`);
    gc();
    const grown = process.memoryUsage().heapUsed - heapBefore;
    assert.ok(grown < 1024 * 1024, `heap grew by ${grown} bytes`);
    assert.equal(fake.received('Login').length, 2);
  });

  it('with the default limits, two megabytes without a blank line end the same way', async () => {
    ami = await floodedClient(`X-Junk: ${'j'.repeat(100)}\r\n`, 2 * 1024 * 1024);
    const lost = await nextEvent<AmiError>(ami, 'disconnected', 'the client did not report the connection lost');
    assert.ok(lost instanceof AmiProtocolError && lost.limit === 'message-bytes' && /1048576-byte limit/.test(lost.message), String(lost));
    await nextEvent(ami, 'connected', 'the client did not connect (again)');
    assert.equal((await ami.action('Ping')).get('Ping'), 'Pong');
  });

  it('a megabyte without a line end: AmiProtocolError (line), reconnect, actions work', async () => {
    ami = await floodedClient('x', 1024 * 1024);
    const pending = ami.action('Ping', { Tag: 'first' });
    const lost = await nextEvent<AmiError>(ami, 'disconnected', 'the client did not report the connection lost');
    assert.ok(lost instanceof AmiProtocolError && lost.limit === 'line-bytes', String(lost));
    await assert.rejects(pending, (e: unknown) => e instanceof Error && e.name === 'AmiConnectionLostError' && (e as { cause?: unknown }).cause === lost);
    await nextEvent(ami, 'connected', 'the client did not connect (again)');
    assert.equal((await ami.action('Ping')).get('Ping'), 'Pong');
  });
});
