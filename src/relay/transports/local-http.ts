/**
 * {@link LocalHttpTaskTransport}: tasks between processes of one machine over HTTP on 127.0.0.1,
 * with nothing to install. The default transport of {@link Task} and of a consumer with `onTask`.
 *
 * @module
 */

import { RelayArgumentError } from '../errors.js';
import { DEFAULT_TASK_CONCURRENCY, type TaskAddress, type TaskDelivery, type TaskReceiver, type TaskSubscription, type TaskTransport } from '../task-transport.js';
import { LocalTaskNode } from './local-http-node.js';
import { DEFAULT_TASK_PORT, deliveryOf, LOOPBACK, post, taskPath } from './local-http-wire.js';

export { DEFAULT_TASK_PORT } from './local-http-wire.js';

/** Settings of a {@link LocalHttpTaskTransport}. */
export interface LocalHttpTaskOptions {
  /** The port on 127.0.0.1 that tasks are posted to, the same for senders and consumers (default 4574). */
  port?: number;
  /** Most tasks one consumer process runs at once; past it a task goes to another consumer, or is not delivered (`busy`). Default 100. */
  concurrency?: number;
  /** How long `deliver` waits for a consumer to take the task (default 10000 ms); then it is `false` (`unreachable`). */
  timeoutMs?: number;
}

/**
 * Tasks over HTTP on 127.0.0.1:`port`:
 * - a sender posts `POST /relay/<project>/tasks/<context>` with `Authorization: Bearer <token>` and
 *   the message as a JSON body (any language can: `curl`), and gets `202` once a consumer process has
 *   started `onTask`, so `deliver` is `true`;
 * - consumer processes of the machine, each started on its own, compete: each task goes to exactly
 *   one of them, in turn (see local-http-node.ts for how they share the port);
 * - `deliver` is `false` when no consumer listens on the context (`no-consumer`), the token is
 *   refused (`refused`), all are busy (`busy`), or none answered in time (`unreachable`).
 *
 * At most once: nothing is stored. A task whose consumer dies while running it is lost, and one
 * sent while no consumer runs is not delivered. For durable tasks, or many machines, use Redis.
 */
export class LocalHttpTaskTransport implements TaskTransport {
  readonly port: number;
  readonly name: string;
  private readonly concurrency: number;
  private readonly timeoutMs: number;
  private node: LocalTaskNode | undefined;

  constructor(options: LocalHttpTaskOptions = {}) {
    const port = options.port ?? DEFAULT_TASK_PORT;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RelayArgumentError(`LocalHttpTaskTransport: bad port ${port} (1 to 65535)`);
    this.port = port;
    this.concurrency = options.concurrency ?? DEFAULT_TASK_CONCURRENCY;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.name = `local-http ${LOOPBACK}:${port}`;
  }

  /**
   * A transport from a URL: `http://127.0.0.1:4574` (or `localhost`, or `[::1]`; the port defaults
   * to 4574). Throws {@link RelayArgumentError} for any other host: this transport stays on one machine.
   */
  static fromUrl(text: string, options: Omit<LocalHttpTaskOptions, 'port'> = {}): LocalHttpTaskTransport {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new RelayArgumentError(`bad task URL ${JSON.stringify(text)}: expected http://127.0.0.1:<port> or redis://host:port`);
    }
    if (url.protocol !== 'http:') throw new RelayArgumentError(`bad task URL ${JSON.stringify(text)}: the local transport is http://127.0.0.1:<port>`);
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
      throw new RelayArgumentError(`bad task URL ${JSON.stringify(text)}: the local transport listens on 127.0.0.1 only; across machines use redis://`);
    }
    return new LocalHttpTaskTransport({ ...options, port: url.port === '' ? DEFAULT_TASK_PORT : Number(url.port) });
  }

  async deliver(address: TaskAddress, data: string): Promise<TaskDelivery> {
    const reply = await post(this.port, taskPath(address.project, address.context), address.token, data, this.timeoutMs);
    return deliveryOf(reply, `${LOOPBACK}:${this.port}`);
  }

  consume(subscription: TaskSubscription): Promise<TaskReceiver> {
    if (!this.node || this.node.isClosed) this.node = new LocalTaskNode(this.port, this.concurrency, subscription.log);
    return this.node.add(subscription);
  }

  /** `true` while this process holds the port (it passes tasks on to the other consumer processes). */
  get holdsPort(): boolean {
    return this.node?.isDoor ?? false;
  }

  async close(): Promise<void> {
    const node = this.node;
    this.node = undefined;
    await node?.close();
  }
}
