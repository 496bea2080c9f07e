/**
 * {@link RedisTaskConsumer}: one consumer of the Redis task transport, a member of each context's
 * consumer group. Its loop:
 * - `XREADGROUP … BLOCK … STREAMS <keys> >` takes new tasks, at most as many as it may still run;
 * - each task runs `onTask`, then `XACK`; a task whose `onTask` fails stays pending;
 * - while a task runs, `XCLAIM … JUSTID` every third of `minIdleMs` keeps its idle time low, so a
 *   long task (a call placed by it) is never taken from a live consumer;
 * - every half `minIdleMs` (at most every `blockMs`), `XAUTOCLAIM` takes the tasks idle longer than
 *   `minIdleMs`: those of a consumer that died, or whose `onTask` failed; after `maxDeliveries`
 *   deliveries a task goes to the dead-letter stream instead;
 * - an entry with a bad signature or a message that is not a JSON object goes to the dead-letter
 *   stream at once.
 *
 * @module
 */

import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { decodeTaskMessage, type TaskMessage } from '../task-message.js';
import { TaskRuns, type TaskReceiver, type TaskSubscription } from '../task-transport.js';
import { autoClaimReply, deadKey, deliveryCount, GROUP, readGroupReply, signedBy, streamKey, type RedisLink, type StreamEntry } from './redis-streams.js';

/** How a {@link RedisTaskConsumer} works (the transport's options, with defaults applied). */
export interface RedisConsumerSettings {
  readonly minIdleMs: number;
  readonly maxDeliveries: number;
  readonly blockMs: number;
  readonly maxLength: number;
  readonly concurrency: number;
  readonly consumerName: string;
}

/** How long `start` waits for Redis before going on (and retrying in the background). */
const FIRST_CONTACT_MS = 5000;

/** One consumer process's membership in the consumer groups of its contexts. */
export class RedisTaskConsumer implements TaskReceiver {
  private readonly runs: TaskRuns;
  private readonly keys: string[];
  private readonly contextOf = new Map<string, string>();
  /** The ids each stream has running here (kept alive by the heartbeat). */
  private readonly running = new Map<string, Set<string>>();
  private readonly cursors = new Map<string, string>();
  private readonly log: Logger;
  private stopping = false;
  private loop: Promise<void> = Promise.resolve();
  private heartbeat: NodeJS.Timeout | undefined;
  private lastWarning = { text: '', at: 0 };

  private constructor(
    private readonly reader: RedisLink,
    private readonly writer: RedisLink,
    private readonly settings: RedisConsumerSettings,
    private readonly subscription: TaskSubscription,
  ) {
    this.runs = new TaskRuns(settings.concurrency);
    this.keys = subscription.contexts.map((context) => {
      const key = streamKey(subscription.project, context);
      this.contextOf.set(key, context);
      this.running.set(key, new Set());
      return key;
    });
    this.log = subscription.log.child({ consumer: settings.consumerName });
  }

  /**
   * Joins the groups (creating them, and the streams, as needed) and starts the loop. Waits for
   * Redis up to 5 s, then goes on and keeps trying in the background (logging why).
   */
  static async start(reader: RedisLink, writer: RedisLink, settings: RedisConsumerSettings, subscription: TaskSubscription): Promise<RedisTaskConsumer> {
    const consumer = new RedisTaskConsumer(reader, writer, settings, subscription);
    for (const link of [reader, writer]) link.on('error', (error) => consumer.warn('the Redis connection failed; reconnecting', error));
    const joined = (async () => {
      await Promise.all([reader.connect(), writer.connect()]);
      await consumer.joinGroups();
    })();
    consumer.loop = joined.then(() => consumer.run(), (error: unknown) => consumer.warn('cannot reach Redis for tasks', error));
    const contact = await Promise.race([joined.then(() => true, () => true), sleep(FIRST_CONTACT_MS, false)]);
    if (!contact) consumer.warn(`Redis did not answer within ${FIRST_CONTACT_MS} ms; tasks start once it does`);
    const every = Math.max(10, Math.floor(settings.minIdleMs / 3));
    consumer.heartbeat = setInterval(() => void consumer.keepRunningTasks(), every);
    consumer.heartbeat.unref();
    return consumer;
  }

  async close(timeoutMs: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    // Ends a blocking read at once.
    this.reader.destroy();
    await this.loop;
    const finished = await this.runs.settled(timeoutMs);
    clearInterval(this.heartbeat);
    if (!finished) {
      // Make them claimable by the other consumers now rather than after minIdleMs.
      await this.forEachRunning((key, ids) => this.writer.sendCommand(['XCLAIM', key, GROUP, this.settings.consumerName, '0', ...ids, 'IDLE', String(this.settings.minIdleMs), 'JUSTID'])).catch(
        () => undefined,
      );
      this.log.warn({ running: this.runs.size }, 'tasks still running at shutdown are left to the other consumers');
    }
    await this.writer.close().catch(() => this.writer.destroy());
  }

  private async joinGroups(): Promise<void> {
    for (const key of this.keys) {
      try {
        await this.writer.sendCommand(['XGROUP', 'CREATE', key, GROUP, '0', 'MKSTREAM']);
      } catch (error) {
        if (!/BUSYGROUP/.test((error as Error).message)) throw error;
      }
    }
  }

  private async run(): Promise<void> {
    const claimEveryMs = Math.max(10, Math.min(Math.floor(this.settings.minIdleMs / 2), this.settings.blockMs));
    let nextClaim = 0;
    while (!this.stopping) {
      try {
        if (Date.now() >= nextClaim) {
          await this.claimIdle();
          nextClaim = Date.now() + claimEveryMs;
        }
        const free = this.runs.limit - this.runs.size;
        if (free <= 0) {
          await Promise.race([this.runs.oneFinished(), sleep(claimEveryMs)]);
          continue;
        }
        const block = Math.max(1, Math.min(this.settings.blockMs, nextClaim - Date.now()));
        const reply = await this.reader.sendCommand([
          'XREADGROUP', 'GROUP', GROUP, this.settings.consumerName, 'COUNT', String(free), 'BLOCK', String(block),
          'STREAMS', ...this.keys, ...this.keys.map(() => '>'),
        ]);
        for (const [key, entries] of readGroupReply(reply)) for (const entry of entries) this.take(key, entry, 1);
      } catch (error) {
        if (this.stopping) return;
        if (/NOGROUP/.test((error as Error).message)) {
          // The stream or its group was deleted (e.g. FLUSHALL): join again.
          await this.joinGroups().catch(() => undefined);
          continue;
        }
        this.warn('reading tasks from Redis failed; retrying', error);
        await sleep(500);
      }
    }
  }

  /** Takes tasks idle for `minIdleMs` (their consumer died, or their `onTask` failed), as many as may run. */
  private async claimIdle(): Promise<void> {
    for (const key of this.keys) {
      const free = this.runs.limit - this.runs.size;
      if (free <= 0) return;
      const reply = await this.writer.sendCommand([
        'XAUTOCLAIM', key, GROUP, this.settings.consumerName, String(this.settings.minIdleMs), this.cursors.get(key) ?? '0-0', 'COUNT', String(free),
      ]);
      const { cursor, entries } = autoClaimReply(reply);
      this.cursors.set(key, cursor);
      for (const entry of entries) {
        const deliveries = deliveryCount(await this.writer.sendCommand(['XPENDING', key, GROUP, entry.id, entry.id, '1']));
        if (deliveries > this.settings.maxDeliveries) {
          await this.deadLetter(key, entry, `not acknowledged after ${deliveries - 1} deliveries`);
        } else {
          this.log.info({ context: this.contextOf.get(key), id: entry.id, deliveries }, 'tasks: took over a task another consumer did not finish');
          this.take(key, entry, deliveries);
        }
      }
    }
  }

  /** Runs one entry's task: checks it, runs `onTask`, acknowledges it once that resolves. */
  private take(key: string, entry: StreamEntry, deliveries: number): void {
    const context = this.contextOf.get(key) ?? '';
    const { data, sig } = entry.fields;
    if (data === undefined || sig === undefined || !signedBy(this.subscription.token, context, data, sig)) {
      void this.deadLetter(key, entry, 'refused: not signed with this project\'s token').catch((error: unknown) => this.warn('cannot move a task to the dead letters', error));
      return;
    }
    let message: TaskMessage;
    try {
      message = decodeTaskMessage(data);
    } catch (error) {
      void this.deadLetter(key, entry, (error as Error).message).catch((e: unknown) => this.warn('cannot move a task to the dead letters', e));
      return;
    }
    const ids = this.running.get(key);
    ids?.add(entry.id);
    void this.runs.start(() => this.subscription.handle(context, message)).then(async (run) => {
      try {
        if (run.ok) await this.writer.sendCommand(['XACK', key, GROUP, entry.id]);
        else {
          this.log.warn(
            { context, id: entry.id, deliveries, maxDeliveries: this.settings.maxDeliveries, minIdleMs: this.settings.minIdleMs },
            'tasks: onTask failed; the task stays pending and is delivered again after minIdleMs',
          );
        }
      } catch (error) {
        this.warn('cannot acknowledge a task; it will be delivered again', error);
      } finally {
        ids?.delete(entry.id);
      }
    });
  }

  /** Moves an entry to the dead-letter stream and acknowledges it. */
  private async deadLetter(key: string, entry: StreamEntry, reason: string): Promise<void> {
    const fields = Object.entries(entry.fields).flat();
    await this.writer.sendCommand([
      'XADD', deadKey(key), 'MAXLEN', '~', String(this.settings.maxLength), '*',
      ...fields, 'id', entry.id, 'reason', reason, 'consumer', this.settings.consumerName,
    ]);
    await this.writer.sendCommand(['XACK', key, GROUP, entry.id]);
    this.log.warn({ context: this.contextOf.get(key), id: entry.id, reason, dead: deadKey(key) }, 'tasks: a task went to the dead letters');
  }

  /** Resets the idle time of the tasks running here, so no other consumer takes them. */
  private async keepRunningTasks(): Promise<void> {
    await this.forEachRunning((key, ids) => this.writer.sendCommand(['XCLAIM', key, GROUP, this.settings.consumerName, '0', ...ids, 'JUSTID'])).catch(
      (error: unknown) => this.warn('cannot keep running tasks claimed', error),
    );
  }

  private async forEachRunning(action: (key: string, ids: string[]) => Promise<unknown>): Promise<void> {
    for (const [key, ids] of this.running) if (ids.size > 0) await action(key, [...ids]);
  }

  /** Logs a warning, the same one at most every 10 s (a Redis outage repeats them). */
  private warn(text: string, error?: unknown): void {
    const now = Date.now();
    if (text === this.lastWarning.text && now - this.lastWarning.at < 10_000) return;
    this.lastWarning = { text, at: now };
    this.log.warn({ err: error }, `tasks: ${text}`);
  }
}
