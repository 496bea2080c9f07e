/**
 * Options of {@link AmiClient} (one declaration of each option set) and the reconnect backoff they
 * drive.
 *
 * @module
 */

import type { Logger } from 'pino';
import type { AmiInputLimits } from './framer.js';

/** How the client reconnects after losing its connection. */
export interface AmiReconnectOptions {
  /** Delay before the first attempt (default 200 ms); it doubles with each failed attempt. */
  initialDelayMs?: number;
  /** Upper bound of the delay (default 10,000 ms). */
  maxDelayMs?: number;
  /** Attempts before giving up and closing the client (default: never give up). */
  maxAttempts?: number;
}

/** Options of {@link AmiClient.connect}. */
export interface AmiClientOptions {
  /** Host (default 127.0.0.1). */
  host?: string;
  /** TCP port (default 5038). */
  port?: number;
  /** manager.conf user. */
  username: string;
  /** Its secret. */
  secret: string;
  /**
   * Which events to receive: `true` (all the user may read), `false` (none, the default: stopping a
   * recording needs none), or an event-class list such as `'call,dtmf,user,agi'`. Restored at every
   * re-login, as is a later {@link AmiClient.setEvents}.
   */
  events?: boolean | string;
  /** How long connecting, the greeting and logging in may take, per attempt (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Default deadline of an action, counted from the call (default 10,000 ms). */
  actionTimeoutMs?: number;
  /**
   * Interval of the keep-alive `Ping` (default 20,000 ms; 0: none). A Ping left unanswered for
   * `actionTimeoutMs` drops the connection, which then reconnects: a peer that vanished without
   * closing the TCP connection is noticed.
   */
  pingIntervalMs?: number;
  /** Reconnect after losing the connection (default `true`, with the defaults of {@link AmiReconnectOptions}). */
  reconnect?: boolean | AmiReconnectOptions;
  /** Bounds on input from Asterisk (defaults: {@link DEFAULT_AMI_INPUT_LIMITS}). */
  limits?: Partial<AmiInputLimits>;
  /** pino logger for connects, losses and reconnects (default: pino at `info` on stdout). */
  logger?: Logger;
}

/** Options of one action. */
export interface AmiActionOptions {
  /** Override the client's `actionTimeoutMs` (counted from the call, including any wait for a connection). */
  timeoutMs?: number;
}

/** The `Events`/`Login` field for an `events` option. */
export function eventMask(events: boolean | string): string {
  return events === true ? 'on' : events === false ? 'off' : events;
}

/** The reconnect policy with every default filled in. */
export type ReconnectPolicy = Required<AmiReconnectOptions>;

/** The policy of an `AmiClientOptions.reconnect` value, or `undefined` when reconnecting is off. */
export function reconnectPolicy(reconnect: AmiClientOptions['reconnect']): ReconnectPolicy | undefined {
  if (reconnect === false) return undefined;
  const given = reconnect === true || reconnect === undefined ? {} : reconnect;
  return {
    initialDelayMs: given.initialDelayMs ?? 200,
    maxDelayMs: given.maxDelayMs ?? 10_000,
    maxAttempts: given.maxAttempts ?? Number.POSITIVE_INFINITY,
  };
}

/**
 * Delay before reconnect attempt `attempt` (1, 2, ...): exponential from `initialDelayMs`, capped at
 * `maxDelayMs`, with "equal jitter" (a random point in the upper half) so that many clients that
 * lost the same Asterisk do not all come back at the same instant, yet none retries in a tight loop.
 */
export function backoffDelay(attempt: number, policy: ReconnectPolicy, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(base / 2 + (random() * base) / 2);
}
