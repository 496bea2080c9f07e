/**
 * Calls on a live Asterisk: place one (add its dialplan, originate it), follow it (signals, its
 * end) and read back its result. The dialplan itself is built by call-dialplan.ts; here is only the
 * I/O, through the CLI and the console log.
 *
 * A call's end and the far leg's signals are announced on the console (see console-log.ts), so
 * waiting for them costs no CLI round trips; the astdb is read as well, now and then, in case a
 * console line was missed.
 *
 * @module
 */

import { AGIKIT_DIALPLAN, assertName, callDialplan, newCallId, parseCallResult } from './call-dialplan.js';
import type { ConsoleLog } from './console-log.js';
import { parseDatabaseShow } from './dialplan-text.js';
import type { CallResult, LiveAsterisk, LiveCall, OriginateOptions } from './live-types.js';

/** What placing calls needs of the running Asterisk. */
export type CallHost = Pick<LiveAsterisk, 'cli' | 'cliMany' | 'dbGet' | 'dbPut'>;

/** Places and follows the calls of one running Asterisk. */
export class LiveCalls {
  constructor(
    private readonly asterisk: CallHost,
    private readonly consoleLog: ConsoleLog,
  ) {}

  /** See {@link LiveAsterisk.originate}. */
  async originate(options: OriginateOptions): Promise<LiveCall> {
    const D = AGIKIT_DIALPLAN;
    const id = options.callId ?? newCallId();
    const timeoutMs = options.timeoutMs ?? 30_000;
    const dialplan = callDialplan(id, options);
    const startedAt = Date.now();
    const outputs = await this.asterisk.cliMany(dialplan.adds);
    outputs.forEach((out, i) => {
      if (!out.includes('added into')) throw new Error(`${dialplan.adds[i] ?? ''} failed: ${out.trim()}`);
    });
    const originateOut = await this.asterisk.cli(dialplan.originate);
    if (originateOut.trim() !== '') throw new Error(`channel originate failed: ${originateOut.trim()}`);

    const cleanup = options.keep === true ? undefined : dialplan.cleanup;
    const result = this.awaitCall(id, startedAt, timeoutMs, cleanup);
    result.catch(() => undefined);
    return {
      id,
      appContext: D.appContext,
      signal: (name: string) => {
        assertName(name, 'signal name');
        return this.asterisk.dbPut(`${D.syncFamily}/${id}`, name, '1');
      },
      waitForSignal: (name: string, signalTimeoutMs = 10_000) => this.waitForSignal(id, name, signalTimeoutMs),
      result: () => result,
      hangup: () => this.hangupCall(id),
    };
  }

  /**
   * Wait until `fast()` (a look at the console log, after each new line) or `slow()` (a CLI round
   * trip, every `slowEveryMs`) says yes, or the deadline passes.
   */
  private async waitUntil(fast: () => boolean, slow: () => Promise<boolean>, deadline: number, slowEveryMs: number): Promise<boolean> {
    let nextSlow = Date.now() + slowEveryMs;
    for (;;) {
      if (fast()) return true;
      const now = Date.now();
      if (now >= deadline) return false;
      if (now >= nextSlow) {
        if (await slow()) return true;
        nextSlow = Date.now() + slowEveryMs;
        continue;
      }
      await this.consoleLog.nextLine(Math.min(deadline, nextSlow) - now);
    }
  }

  private async waitForSignal(id: string, name: string, timeoutMs: number): Promise<void> {
    assertName(name, 'signal name');
    const family = `${AGIKIT_DIALPLAN.syncFamily}/${id}`;
    const ok = await this.waitUntil(
      () => this.consoleLog.signals.has(`${id} ${name}`),
      async () => (await this.asterisk.dbGet(family, name)) !== undefined,
      Date.now() + timeoutMs,
      100,
    );
    if (!ok) throw new Error(`call ${id}: signal '${name}' was not raised within ${timeoutMs} ms`);
  }

  private async callChannels(id: string): Promise<string[]> {
    const out = await this.asterisk.cli('core show channels concise');
    return out
      .split('\n')
      .map((line) => line.split('!')[0] ?? '')
      .filter((name) => name.startsWith(`Local/${id}@`));
  }

  private async hangupCall(id: string): Promise<void> {
    const channels = await this.callChannels(id);
    if (channels.length > 0) await this.asterisk.cliMany(channels.map((c) => `channel request hangup ${c}`));
  }

  /** Wait for the call's end, then read its result; `cleanup` (unless kept) removes its traces. */
  private async awaitCall(id: string, startedAt: number, timeoutMs: number, cleanup: readonly string[] | undefined): Promise<CallResult> {
    const family = `${AGIKIT_DIALPLAN.resultFamily}/${id}`;
    const finished = await this.waitUntil(
      () => this.consoleLog.finishedCalls.has(id),
      async () => (await this.asterisk.dbGet(family, 'done')) !== undefined,
      startedAt + timeoutMs,
      1000,
    );
    const endedAt = Date.now();
    if (!finished) {
      const channels = await this.callChannels(id).catch(() => []);
      await this.hangupCall(id).catch(() => undefined);
      const related = this.consoleLog.text
        .split('\n')
        .filter((line) => line.includes(id))
        .slice(-25)
        .join('\n');
      if (cleanup) await this.asterisk.cliMany(cleanup).catch(() => undefined);
      throw new Error(
        `call ${id} did not end within ${timeoutMs} ms (channels still up: ${channels.join(', ') || 'none'})\n${related}`,
      );
    }
    const entries = parseDatabaseShow(await this.asterisk.cli(`database show ${family}`), family);
    if (cleanup) await this.asterisk.cliMany(cleanup);
    return parseCallResult(id, entries, endedAt - startedAt);
  }
}
