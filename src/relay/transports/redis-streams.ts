/**
 * What the Redis task transport's sender and consumers share: the optional `redis` package loaded
 * on first use, stream keys, the token signature of each entry, and readers for the raw (RESP2)
 * replies of the stream commands.
 *
 * Stream layout (documented in docs/relay-tasks.md, so that any language can produce):
 * - `relay:<project>:tasks:<context>`: one entry per task, fields `data` (the message, JSON text)
 *   and `sig` (hex HMAC-SHA256 of `<context>\n<data>` keyed with the project's token);
 * - consumer group `relay-consumers` on each stream;
 * - `relay:<project>:tasks:<context>:dead`: tasks given up on, with `reason`, `id`, `consumer`.
 *
 * @module
 */

import { createHmac } from 'node:crypto';
import { RelayArgumentError, RelayCapabilityError } from '../errors.js';
import { sameToken } from '../task-transport.js';

/** The consumer group every consumer of a context joins (the competing consumers). */
export const GROUP = 'relay-consumers';

/** The stream of a project's context. */
export function streamKey(project: string, context: string): string {
  return `relay:${project}:tasks:${context}`;
}

/** Where the tasks of a stream go when they are given up on. */
export function deadKey(stream: string): string {
  return `${stream}:dead`;
}

/** The signature of a task's entry: hex HMAC-SHA256 of `<context>\n<data>` keyed with the token. */
export function signTask(token: string, context: string, data: string): string {
  return createHmac('sha256', token).update(`${context}\n${data}`).digest('hex');
}

/** Whether `sig` is the signature of `data` for `context` with `token`. */
export function signedBy(token: string, context: string, data: string, sig: string): boolean {
  return sameToken(signTask(token, context, data), sig);
}

/** The part of a node-redis (5 or later) client the transport uses. */
export interface RedisLink {
  connect(): Promise<unknown>;
  sendCommand(args: string[]): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
  ref(): void;
  unref(): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

interface RedisPackage {
  createClient(options: {
    url: string;
    RESP: 2;
    disableOfflineQueue?: boolean;
    socket: { connectTimeout: number; reconnectStrategy: (retries: number, cause: Error) => number | Error };
  }): RedisLink;
}

/**
 * A client for `url`, not yet connected; `reconnect` decides each retry (a delay in ms, or the
 * error to give up with). Throws {@link RelayCapabilityError} when the `redis` package is not
 * installed, and {@link RelayArgumentError} for a URL that is not `redis://` or `rediss://`.
 */
export async function redisLink(url: string, reconnect: (retries: number, cause: Error) => number | Error, queueWhileDown: boolean): Promise<RedisLink> {
  redisAddress(url);
  let redis: RedisPackage;
  try {
    redis = (await import('redis')) as unknown as RedisPackage;
  } catch (error) {
    throw new RelayCapabilityError('redis-client', 'RedisTaskTransport', (error as Error).message.split('\n')[0]);
  }
  return redis.createClient({ url, RESP: 2, disableOfflineQueue: !queueWhileDown, socket: { connectTimeout: 5000, reconnectStrategy: reconnect } });
}

/** `host:port` of a Redis URL (no credentials: it goes into logs); throws {@link RelayArgumentError} for another URL. */
export function redisAddress(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || !url.hostname) {
    throw new RelayArgumentError(`bad Redis URL ${JSON.stringify(text.replace(/\/\/[^@/]*@/, '//…@'))}: expected redis://[user:password@]host[:port][/db]`);
  }
  return `${url.hostname}:${url.port || 6379}`;
}

/** One stream entry: its id and fields. */
export interface StreamEntry {
  readonly id: string;
  readonly fields: Readonly<Record<string, string>>;
}

/** The entries of an XREADGROUP reply, by stream key (`null`, the reply of a timeout, has none). */
export function readGroupReply(reply: unknown): Array<[key: string, entries: StreamEntry[]]> {
  if (!Array.isArray(reply)) return [];
  return reply.map((stream) => {
    const [key, entries] = stream as [string, unknown[]];
    return [String(key), entriesOf(entries)];
  });
}

/** The next cursor and the entries claimed of an XAUTOCLAIM reply. */
export function autoClaimReply(reply: unknown): { cursor: string; entries: StreamEntry[] } {
  const [cursor, entries] = (Array.isArray(reply) ? reply : []) as [unknown, unknown[]];
  return { cursor: typeof cursor === 'string' ? cursor : '0-0', entries: entriesOf(entries) };
}

/** The delivery count of an entry, from an `XPENDING key group id id 1` reply (0 when it is not pending). */
export function deliveryCount(reply: unknown): number {
  const [row] = (Array.isArray(reply) ? reply : []) as unknown[];
  const count = Array.isArray(row) ? Number(row[3]) : 0;
  return Number.isFinite(count) ? count : 0;
}

function entriesOf(entries: unknown[] | undefined): StreamEntry[] {
  const out: StreamEntry[] = [];
  for (const entry of entries ?? []) {
    // A deleted entry still pending comes as nil (or with nil fields): nothing to run.
    if (!Array.isArray(entry)) continue;
    const [id, list] = entry as [unknown, unknown];
    const fields: Record<string, string> = {};
    if (Array.isArray(list)) for (let i = 0; i + 1 < list.length; i += 2) fields[String(list[i])] = String(list[i + 1]);
    out.push({ id: String(id), fields });
  }
  return out;
}
