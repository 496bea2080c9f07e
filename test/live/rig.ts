/**
 * Shared rig of the live tests: one real Asterisk (Docker, see src/testing/asterisk.ts) and one
 * agikit {@link FastAgiServer} per test file. A call placed with {@link LiveRig.run} runs the given
 * handler through the server and resolves once both sides are done: what the dialplan recorded
 * (harness {@link CallResult}) and how the server ended the session ({@link CallEnd}).
 *
 * Handlers are found by the call id, which Asterisk sends as `agi_extension`, so any route that
 * points at {@link LiveRig.dispatch} works.
 *
 * Not a test file: it only exports helpers.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import type { Agi } from '../../src/agi/agi.js';
import { FastAgiServer, type CallEnd } from '../../src/server/fastagi-server.js';
import type { AgiHandler } from '../../src/server/router.js';
import type { CallStatus } from '../../src/server/run-call.js';
import {
  AGIKIT_DIALPLAN,
  liveAsteriskAvailable,
  startAsterisk,
  type CallResult,
  type LiveAsterisk,
  type LiveCall,
  type OriginateOptions,
  type StartAsteriskOptions,
} from '../../src/testing/asterisk.js';
import { addExtensionCommand } from '../../src/testing/dialplan-text.js';
import { within } from '../support/settle.js';

export const live = await liveAsteriskAvailable();
/** `{ skip }` for every live test: the reason when Docker or the image cannot be had, else false. */
export const skip: string | false = live.ok ? false : `live Asterisk unavailable: ${live.reason}`;

/** Options of {@link LiveRig.run}: the harness's originate options, except where the AGI goes. */
export interface RunOptions extends Omit<OriginateOptions, 'agi' | 'callId'> {
  /** FastAGI route (script part of the URL); default `t/<call id>`. */
  readonly route?: string;
  /** Status the server must report for the call (default `SUCCESS`); anything else fails the run. */
  readonly status?: CallStatus;
  /** Called once the call is placed, before its result is awaited (e.g. to signal the far leg). */
  readonly placed?: (call: LiveCall) => Promise<void> | void;
}

/** What {@link LiveRig.run} observed. */
export interface RunResult {
  readonly call: LiveCall;
  /** What the dialplan recorded when the AGI side hung up. */
  readonly result: CallResult;
  /** The server's view of the session: status, error the handler threw. */
  readonly end: CallEnd;
}

let counter = 0;

/** A new harness call id (letters and digits). */
export function newCallId(): string {
  counter += 1;
  return `lt${counter.toString(36)}${randomBytes(4).toString('hex')}`;
}

/** The astdb family of the call's synchronisation signals. */
export function syncFamily(agi: Agi): string {
  return `${AGIKIT_DIALPLAN.syncFamily}/${agi.env.extension}`;
}

/** Raise a signal the far leg waits for (`far.waitFor(name)`). */
export async function signal(agi: Agi, name: string): Promise<void> {
  await agi.databasePut(syncFamily(agi), name, '1');
}

/** Wait, on the AGI side, until the far leg (`far.signal(name)`) or the test raised a signal. */
export async function waitSignal(agi: Agi, name: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await agi.databaseGet(syncFamily(agi), name)) === undefined) {
    if (Date.now() > deadline) throw new Error(`signal '${name}' was not raised within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** One Asterisk container and one agikit FastAGI server. */
export class LiveRig {
  private readonly handlers = new Map<string, AgiHandler>();
  private readonly ends = new Map<string, (end: CallEnd) => void>();

  private constructor(
    readonly asterisk: LiveAsterisk,
    readonly server: FastAgiServer,
    readonly port: number,
  ) {
    server.route('/t/*', this.dispatch);
    server.on('callEnd', (end: CallEnd) => {
      const id = end.agi.env.extension;
      this.ends.get(id)?.(end);
      this.ends.delete(id);
      this.handlers.delete(id);
    });
  }

  /** Start Asterisk and the server (call from `before`, only when {@link live} is ok). */
  static async start(options: StartAsteriskOptions = {}): Promise<LiveRig> {
    const asterisk = await startAsterisk(options);
    try {
      const server = new FastAgiServer({ port: 0, logger: pino({ level: process.env['AGIKIT_LIVE_LOG'] ?? 'silent' }) });
      const { port } = await server.listen();
      return new LiveRig(asterisk, server, port);
    } catch (error) {
      await asterisk.stop();
      throw error;
    }
  }

  /** Route handler that runs the handler registered for the call (by `agi_extension`). */
  readonly dispatch: AgiHandler = async (agi) => {
    const handler = this.handlers.get(agi.env.extension);
    if (!handler) throw new Error(`no handler for call ${agi.env.extension}`);
    await handler(agi);
  };

  /** `agi://127.0.0.1:<port>/<route>`, for AGI() lines written into the dialplan by a test. */
  url(route: string): string {
    return `agi://127.0.0.1:${this.port}/${route}`;
  }

  /**
   * Place a call whose AGI side runs `handler` through the server, wait until the call has ended
   * on both sides, and check the server's status (default `SUCCESS`; an error the handler threw,
   * e.g. a failed assertion, is rethrown).
   */
  async run(handler: AgiHandler, options: RunOptions = {}): Promise<RunResult> {
    const { route, status = 'SUCCESS', placed, ...originate } = options;
    const id = newCallId();
    this.handlers.set(id, handler);
    const ended = new Promise<CallEnd>((resolve) => this.ends.set(id, resolve));
    const call = await this.asterisk.originate({ ...originate, callId: id, agi: { port: this.port, route: route ?? `t/${id}` } });
    await placed?.(call);
    const result = await call.result();
    const end = await within(ended, 10_000, `call ${id}: the server did not end the session (result: ${JSON.stringify(result)})`);
    if (end.status !== status) {
      if (end.error instanceof Error) {
        end.error.message = `call ended with ${end.status}, expected ${status}: ${end.error.message}`;
        throw end.error;
      }
      throw new Error(`call ended with ${end.status}, expected ${status}`);
    }
    return { call, result, end };
  }

  /**
   * Add an extension to a context (created if needed): one priority per `[application, data]`,
   * numbered from 1; `data` is written exactly as in extensions.conf.
   */
  async addExtension(context: string, extension: string, priorities: readonly (readonly [string, string])[]): Promise<void> {
    const commands = priorities.map(([app, data], i) => addExtensionCommand(context, extension, i + 1, app, data));
    const outputs = await this.asterisk.cliMany(commands);
    outputs.forEach((out, i) => assert.match(out, /added into/, commands[i]));
  }

  /** Wait until Asterisk's console shows every pattern (in any order), or fail after `timeoutMs`. */
  async logShows(patterns: readonly (string | RegExp)[], timeoutMs = 5000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = this.asterisk.logs().split('\n');
      const missing = patterns.filter((p) => !lines.some((l) => (typeof p === 'string' ? l.includes(p) : p.test(l))));
      if (missing.length === 0) return lines;
      if (Date.now() > deadline) throw new Error(`Asterisk's console never showed: ${missing.map(String).join(', ')}`);
      await sleep(50);
    }
  }

  async stop(): Promise<void> {
    await this.server.close({ timeoutMs: 2000 });
    await this.asterisk.stop();
  }
}
