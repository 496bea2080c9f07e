/**
 * {@link TaskTransport}: what carries Relay tasks from a {@link Task} to the one consumer that runs
 * each. Transports carry the message as JSON text checked by the sender (task-message.ts); they
 * differ in reach and guarantees (docs/relay-tasks.md):
 * - `InProcessTaskTransport`: one process (tests, an app that delivers to itself);
 * - `LocalHttpTaskTransport`: one machine, nothing to install, at most once;
 * - `RedisTaskTransport`: many machines, through Redis Streams, at least once.
 *
 * Also the two pieces the transports share: {@link TaskRuns} (the tasks a consumer is running,
 * bounded) and {@link TaskRoster} (which consumer gets the next task: round robin among those
 * listening on the context with the right token).
 *
 * @module
 */

import { timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { TaskMessage } from './task-message.js';

/** Where a task goes: the project and its token, and the context. */
export interface TaskAddress {
  readonly project: string;
  readonly token: string;
  readonly context: string;
}

/** Why a task was not delivered. */
export type TaskFailure =
  /** No consumer listens on that project and context. */
  | 'no-consumer'
  /** The consumers there refused the token. */
  | 'refused'
  /** Every consumer there is running as many tasks as it may. */
  | 'busy'
  /** The broker or the consumers could not be reached, or did not answer in time. */
  | 'unreachable';

/** What became of one delivery. */
export type TaskDelivery =
  | { readonly delivered: true }
  | { readonly delivered: false; readonly reason: TaskFailure; readonly detail: string };

/** A consumer's wish to receive tasks: its project, token, contexts, and what runs each task. */
export interface TaskSubscription {
  readonly project: string;
  readonly token: string;
  readonly contexts: readonly string[];
  /** Runs one task (the consumer's `onTask`). A rejection means the task failed. */
  readonly handle: (context: string, message: TaskMessage) => Promise<void>;
  readonly log: Logger;
}

/** A running subscription. */
export interface TaskReceiver {
  /**
   * Stops taking tasks, then waits up to `timeoutMs` for the tasks running to finish. What a
   * transport does with a task still running then is its own guarantee (docs/relay-tasks.md).
   */
  close(timeoutMs: number): Promise<void>;
}

/** A way to carry tasks. */
export interface TaskTransport {
  /** What it is, for logs and messages (e.g. `local-http 127.0.0.1:4574`). */
  readonly name: string;
  /**
   * Hands one task (its message as JSON text, checked by the sender) to a consumer or a broker.
   * Resolves with `delivered: false` and why for "nobody took it"; rejects only for a misuse the
   * application must fix (e.g. a missing optional package).
   */
  deliver(address: TaskAddress, data: string): Promise<TaskDelivery>;
  /** Starts receiving the tasks of `subscription`. */
  consume(subscription: TaskSubscription): Promise<TaskReceiver>;
  /** Releases what it holds (connections, listeners). */
  close(): Promise<void>;
}

/** A failed {@link TaskDelivery}. */
export function notDelivered(reason: TaskFailure, detail: string): TaskDelivery {
  return { delivered: false, reason, detail };
}

/** Whether two tokens are the same, in time that does not depend on where they differ. */
export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Most tasks one consumer process runs at once (by default): past it, tasks go elsewhere or wait. */
export const DEFAULT_TASK_CONCURRENCY = 100;

/**
 * The tasks a consumer is running: at most `limit` at once, and a way
 * to wait (bounded) for them all at shutdown.
 */
export class TaskRuns {
  private readonly running = new Set<Promise<void>>();

  constructor(readonly limit = DEFAULT_TASK_CONCURRENCY) {}

  /** How many are running. */
  get size(): number {
    return this.running.size;
  }

  /** `true` when no more may start. */
  get full(): boolean {
    return this.running.size >= this.limit;
  }

  /** Starts `work` and tracks it until it settles. The returned promise never rejects: it tells how the work ended. */
  start(work: () => Promise<void>): Promise<{ ok: true } | { ok: false; error: unknown }> {
    const outcome = (async () => work())().then(
      () => ({ ok: true }) as const,
      (error: unknown) => ({ ok: false, error }) as const,
    );
    const tracked = outcome.then(() => undefined);
    this.running.add(tracked);
    void tracked.then(() => this.running.delete(tracked));
    return outcome;
  }

  /** Resolves once one of the running tasks has finished (at once when none runs). */
  async oneFinished(): Promise<void> {
    if (this.running.size > 0) await Promise.race(this.running);
  }

  /** Waits up to `timeoutMs` for every running task; `true` when all finished. */
  async settled(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const all = Promise.all(this.running).then(() => true);
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      return await Promise.race([all, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** One consumer in a {@link TaskRoster}. */
export interface TaskMember {
  readonly project: string;
  readonly token: string;
  readonly contexts: ReadonlySet<string>;
}

/**
 * Who may get a task: the consumers listening, and a round robin per project and context, so that
 * competing consumers share the tasks evenly.
 */
export class TaskRoster<M extends TaskMember> {
  private readonly members: M[] = [];
  private readonly turns = new Map<string, number>();

  /** Adds a member; the returned function removes it. */
  add(member: M): () => void {
    this.members.push(member);
    return () => this.remove(member);
  }

  /** Removes a member (no-op when it is gone). */
  remove(member: M): void {
    const at = this.members.indexOf(member);
    if (at >= 0) this.members.splice(at, 1);
  }

  /**
   * The members that may get a task for `address`, the next in turn first; or why there are none
   * (`no-consumer`, or `refused` when those listening have another token).
   */
  candidates(address: TaskAddress): M[] | TaskDelivery {
    const listening = this.members.filter((m) => m.project === address.project && m.contexts.has(address.context));
    if (listening.length === 0) return notDelivered('no-consumer', `no consumer listens on ${address.project}/${address.context}`);
    const allowed = listening.filter((m) => sameToken(m.token, address.token));
    if (allowed.length === 0) return notDelivered('refused', `the consumers of ${address.project}/${address.context} refused the token`);
    const key = `${address.project}\n${address.context}`;
    const turn = (this.turns.get(key) ?? 0) % allowed.length;
    this.turns.set(key, turn + 1);
    return [...allowed.slice(turn), ...allowed.slice(0, turn)];
  }
}
