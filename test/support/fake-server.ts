import type { TestContext } from 'node:test';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { Agi } from '../../src/agi/agi.js';
import { FastAgiServer, type CallEnd, type FastAgiServerOptions } from '../../src/server/fastagi-server.js';
import type { AgiHandler } from '../../src/server/router.js';
import { FakeCall, type FakeHeaderOptions } from '../../src/testing/fake-asterisk.js';
import { WAIT_MS, within } from './settle.js';

/** A silent logger for tests that do not look at logs. */
export const quiet: Logger = pino({ level: 'silent' });

/** A pino logger at `level` whose lines are kept, parsed, in `lines`. */
export function capturingLogger(level = 'warn'): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: pino({ level }, sink), lines };
}

/** One call placed by {@link TestServer.call}: the fake Asterisk side and the server's view of its end. */
export interface PlacedCall {
  fake: FakeCall;
  /** Resolves with the server's `callEnd` for this call; rejects if it has not come {@link WAIT_MS} after asking. */
  readonly ended: Promise<CallEnd>;
  /** Resolves with the Agi once the handler has started; rejects if it has not {@link WAIT_MS} after asking. */
  readonly agi: Promise<Agi>;
}

/** A FastAGI server on a free port whose calls each run the handler given to {@link call}. */
export interface TestServer {
  server: FastAgiServer;
  port: number;
  call(handler: AgiHandler, header?: FakeHeaderOptions): Promise<PlacedCall>;
  close(): Promise<void>;
}

export async function startTestServer(options: FastAgiServerOptions = {}): Promise<TestServer> {
  const handlers = new Map<string, AgiHandler>();
  const ends = new Map<string, (end: CallEnd) => void>();
  const starts = new Map<string, (agi: Agi) => void>();
  const server = new FastAgiServer({ port: 0, logger: quiet, ...options });
  server.route('/t/:id', async (agi) => {
    const id = agi.params.id ?? '';
    starts.get(id)?.(agi);
    await handlers.get(id)?.(agi);
  });
  server.on('callEnd', (end: CallEnd) => ends.get(end.agi.params.id ?? '')?.(end));
  const { port } = await server.listen();
  let next = 0;
  return {
    server,
    port,
    async call(handler, header = {}) {
      const id = String(++next);
      handlers.set(id, handler);
      const ended = new Promise<CallEnd>((resolve) => ends.set(id, resolve));
      const agi = new Promise<Agi>((resolve) => starts.set(id, resolve));
      const query = header.script?.includes('?') ? header.script.slice(header.script.indexOf('?')) : '';
      const fake = await FakeCall.connect(port, { ...header, script: `t/${id}${query}` });
      // Each wait is bounded from when the test asks for it, so a call that never ends fails its test.
      return {
        fake,
        get ended() {
          return within(ended, WAIT_MS, `call t/${id}: the server never ended it (no callEnd)`);
        },
        get agi() {
          return within(agi, WAIT_MS, `call t/${id}: its handler never started`);
        },
      };
    },
    close: () => server.close({ timeoutMs: 2000 }),
  };
}

/**
 * A FastAGI server (quiet logger, free port; not yet listening) that is closed once test `t` ends,
 * passed or failed: a server left open would keep the test file from ever exiting.
 */
export function serverForTest(t: TestContext, options: FastAgiServerOptions = {}): FastAgiServer {
  const server = new FastAgiServer({ port: 0, logger: quiet, ...options });
  t.after(() => server.close({ timeoutMs: 100 }));
  return server;
}

/** The reply the fake gives the status-variable write at the end of every call. */
export function isStatusWrite(words: readonly string[]): boolean {
  return words[0] === 'SET' && words[1] === 'VARIABLE' && words[2] === 'AGIKIT_STATUS';
}

/** Resolves once the server has closed the fake call's connection; fails with `message` after {@link WAIT_MS}. */
export function closed(fake: FakeCall, message = 'the server never closed the call'): Promise<void> {
  return within(fake.closed, WAIT_MS, message);
}
