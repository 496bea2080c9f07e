/**
 * {@link RedisTaskTransport}: tasks through Redis Streams (Redis 6.2 or later, or Valkey), for
 * consumers on many machines. The `redis` package (node-redis 5 or later) is an optional
 * dependency, loaded here on first use only.
 *
 * @module
 */

import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { RelayArgumentError, RelayCapabilityError } from '../errors.js';
import { DEFAULT_TASK_CONCURRENCY, notDelivered, type TaskAddress, type TaskDelivery, type TaskReceiver, type TaskSubscription, type TaskTransport } from '../task-transport.js';
import { RedisTaskConsumer, type RedisConsumerSettings } from './redis-consumer.js';
import { redisAddress, redisLink, signTask, streamKey, type RedisLink } from './redis-streams.js';

/** Settings of a {@link RedisTaskTransport}. */
export interface RedisTaskOptions {
  /** `redis://[user:password@]host[:port][/db]` (or `rediss://` for TLS). */
  url: string;
  /**
   * How long a task may sit unacknowledged on a consumer that stopped confirming it (it died, or its
   * `onTask` failed) before another consumer takes it over (XAUTOCLAIM). Default 30000 ms. A live
   * consumer confirms its running tasks every third of it, so long tasks are never taken over.
   */
  minIdleMs?: number;
  /** Deliveries of one task before it goes to the dead-letter stream `relay:<project>:tasks:<context>:dead`. Default 5. */
  maxDeliveries?: number;
  /** Most tasks one consumer process runs at once (default 100). */
  concurrency?: number;
  /** Most entries kept in a stream (`XADD … MAXLEN ~`); default 100000. */
  maxLength?: number;
  /** Longest blocking read (default 5000 ms). */
  blockMs?: number;
  /** How long `deliver` waits for Redis (default 10000 ms); then it is `false` (`unreachable`). */
  timeoutMs?: number;
  /** This consumer's name in the groups (default `<hostname>:<pid>:<random>`). */
  consumerName?: string;
}

/**
 * Tasks through Redis Streams:
 * - `deliver` is `XADD relay:<project>:tasks:<context> MAXLEN ~ <maxLength> * data <json> sig <hmac>`
 *   and is `true` once Redis has the entry (even if no consumer runs yet: the first to start takes
 *   it); `false` (`unreachable`) when Redis cannot be reached;
 * - consumers of a context form the consumer group `relay-consumers`: each task goes to one of
 *   them; `XACK` once `onTask` resolves; a dead consumer's tasks are taken over by a live one after
 *   `minIdleMs`; after `maxDeliveries` a task goes to the dead letters (see redis-consumer.ts);
 * - each entry is signed with the project's token (HMAC-SHA256 of `<context>\n<data>`); a
 *   consumer refuses, into the dead letters, an entry not signed with its token.
 *
 * At least once: `onTask` may run again for a task whose consumer died after running it but before
 * acknowledging it, so it must be idempotent (key it on something in the message, e.g. a `uuid`).
 */
export class RedisTaskTransport implements TaskTransport {
  readonly name: string;
  private readonly settings: Omit<RedisConsumerSettings, 'consumerName'> & { timeoutMs: number };
  private readonly consumerName: string | undefined;
  private sender: Promise<RedisLink> | undefined;
  private sending = 0;
  private readonly receivers = new Set<RedisTaskConsumer>();

  constructor(private readonly options: RedisTaskOptions) {
    this.name = `redis ${redisAddress(options.url)}`;
    const positive = (name: keyof RedisTaskOptions, fallback: number): number => {
      const value = options[name] ?? fallback;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new RelayArgumentError(`RedisTaskTransport: ${name} must be a positive integer, not ${String(value)}`);
      return value;
    };
    this.settings = {
      minIdleMs: positive('minIdleMs', 30_000),
      maxDeliveries: positive('maxDeliveries', 5),
      concurrency: positive('concurrency', DEFAULT_TASK_CONCURRENCY),
      maxLength: positive('maxLength', 100_000),
      blockMs: positive('blockMs', 5000),
      timeoutMs: positive('timeoutMs', 10_000),
    };
    this.consumerName = options.consumerName;
  }

  async deliver(address: TaskAddress, data: string): Promise<TaskDelivery> {
    const { timeoutMs, maxLength } = this.settings;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)));
    late.catch(() => undefined);
    this.sending += 1;
    let link: RedisLink | undefined;
    try {
      link = await Promise.race([this.senderLink(), late]);
      link.ref();
      const command = ['XADD', streamKey(address.project, address.context), 'MAXLEN', '~', String(maxLength), '*', 'data', data, 'sig', signTask(address.token, address.context, data)];
      await Promise.race([link.sendCommand(command), late]);
      return { delivered: true };
    } catch (error) {
      if (error instanceof RelayCapabilityError || error instanceof RelayArgumentError) throw error;
      // The next delivery starts from a fresh connection.
      this.dropSender();
      return notDelivered('unreachable', `${this.name}: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
      this.sending -= 1;
      // An idle sender does not keep the process alive (a script that forgets close() still exits).
      if (this.sending === 0) link?.unref();
    }
  }

  async consume(subscription: TaskSubscription): Promise<TaskReceiver> {
    // Blocking reads get a connection of their own; both reconnect for as long as the consumer runs.
    const reconnect = (retries: number): number => Math.min(100 * 2 ** retries, 2000);
    const [reader, writer] = await Promise.all([redisLink(this.options.url, reconnect, true), redisLink(this.options.url, reconnect, true)]);
    const consumerName = this.consumerName ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    const consumer = await RedisTaskConsumer.start(reader, writer, { ...this.settings, consumerName }, subscription);
    this.receivers.add(consumer);
    return {
      close: async (timeoutMs) => {
        this.receivers.delete(consumer);
        await consumer.close(timeoutMs);
      },
    };
  }

  /** Closes the sender's connection and stops every consumer (without waiting for their tasks). */
  async close(): Promise<void> {
    await Promise.all([...this.receivers].map((consumer) => consumer.close(0)));
    this.receivers.clear();
    const sender = this.sender;
    this.sender = undefined;
    const link = await sender?.catch(() => undefined);
    await link?.close().catch(() => link.destroy());
  }

  /** The sender's connection: made on first use; it gives up after a few quick retries (the delivery is then `false`). */
  private senderLink(): Promise<RedisLink> {
    this.sender ??= (async () => {
      const link = await redisLink(this.options.url, (retries, cause) => (retries < 2 ? 100 : cause), false);
      link.on('error', () => undefined);
      await link.connect();
      return link;
    })();
    return this.sender;
  }

  private dropSender(): void {
    const sender = this.sender;
    this.sender = undefined;
    void sender?.then((link) => link.destroy(), () => undefined);
  }
}
