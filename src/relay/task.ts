/**
 * {@link Task}: SignalWire Relay's `Relay.Task` on agikit: a short-lived process (a web app, a
 * deploy script, `agikit task`) hands a job to the consumers listening on a context; exactly one of
 * them runs it in its `onTask`. Also what the consumer side uses to receive ({@link serveTasks}),
 * and the choice of transport from a URL ({@link taskTransport}).
 *
 * ```ts
 * const task = new Task({ project: 'acme', token: process.env.RELAY_TOKEN! });
 * if (await task.deliver('office', { uuid: randomUUID(), action: 'call', to: '+15551234' })) console.log('Task delivered');
 * ```
 *
 * @module
 */

import type { Logger } from 'pino';
import { checkName } from './context-name.js';
import { RelayArgumentError } from './errors.js';
import { encodeTaskMessage, type TaskMessage } from './task-message.js';
import type { TaskDelivery, TaskReceiver, TaskTransport } from './task-transport.js';
import { LocalHttpTaskTransport } from './transports/local-http.js';
import { RedisTaskTransport } from './transports/redis.js';

/**
 * How tasks travel: a transport object (shared, never closed by its user), or a URL:
 * `http://127.0.0.1:<port>` (the local transport, one machine), `redis://…` / `rediss://…`
 * (Redis Streams, many machines). Default: the local transport on 127.0.0.1:4574.
 */
export type TaskTransportSpec = TaskTransport | string;

/** The transport a spec names, and whether the caller made it (and so closes it). */
export function taskTransport(spec: TaskTransportSpec | undefined): { transport: TaskTransport; owned: boolean } {
  if (spec === undefined) return { transport: new LocalHttpTaskTransport(), owned: true };
  if (typeof spec !== 'string') return { transport: spec, owned: false };
  if (/^rediss?:/i.test(spec)) return { transport: new RedisTaskTransport({ url: spec }), owned: true };
  return { transport: LocalHttpTaskTransport.fromUrl(spec), owned: true };
}

/** What a {@link Task} is made with. */
export interface TaskOptions {
  /** The Relay project: consumers of this project get the tasks. */
  project: string;
  /** The project's token: consumers refuse tasks sent with another one. */
  token: string;
  /** How tasks travel (default: the local transport on 127.0.0.1:4574). */
  transport?: TaskTransportSpec;
}

/** A token goes into an HTTP header and a signature key: printable ASCII, no spaces. */
const TOKEN = /^[\x21-\x7e]{1,1024}$/;

/** Throws {@link RelayArgumentError} unless `project` and `token` can address tasks. */
function checkProject(project: unknown, token: unknown, where: string): void {
  checkName(project, 'project', where);
  if (typeof token !== 'string' || !TOKEN.test(token)) throw new RelayArgumentError(`${where}: the token must be printable ASCII without spaces (1 to 1024 characters)`);
}

/**
 * Sends tasks to the consumers of a project. `deliver(context, message)` is the seed's method;
 * {@link attempt} also tells why a task was not delivered. {@link close} releases a connection the
 * task opened (Redis); a task that was given a transport object leaves it open.
 */
export class Task {
  readonly project: string;
  private readonly token: string;
  private readonly transport: TaskTransport;
  private readonly ownsTransport: boolean;

  /** Throws {@link RelayArgumentError} for a bad project, token or transport URL. */
  constructor(options: TaskOptions) {
    checkProject(options.project, options.token, 'Task');
    this.project = options.project;
    this.token = options.token;
    const { transport, owned } = taskTransport(options.transport);
    this.transport = transport;
    this.ownsTransport = owned;
  }

  /** The transport's description, e.g. `local-http 127.0.0.1:4574`. */
  get transportName(): string {
    return this.transport.name;
  }

  /**
   * Delivers `message` to one consumer listening on `context`. Resolves `true` once a consumer (or
   * the broker) has it, `false` when it cannot be delivered (nobody listens, the token is refused,
   * all are busy, the broker is down). Throws {@link RelayArgumentError} for a bad context or a
   * message that is not a plain object of JSON values (nothing is sent then).
   */
  async deliver(context: string, message: Record<string, unknown>): Promise<boolean> {
    return (await this.attempt(context, message)).delivered;
  }

  /** {@link deliver}, telling why a task was not delivered: `{ delivered: false, reason, detail }`. */
  async attempt(context: string, message: Record<string, unknown>): Promise<TaskDelivery> {
    checkName(context, 'context', 'Task.deliver');
    const data = encodeTaskMessage(message);
    return this.transport.deliver({ project: this.project, token: this.token, context }, data);
  }

  /** Releases what the task opened (its Redis connection); the task may still deliver afterwards. */
  async close(): Promise<void> {
    if (this.ownsTransport) await this.transport.close();
  }
}

/** What {@link serveTasks} needs: a consumer's project, token, contexts, transport and `onTask`. */
export interface TaskService {
  /** Who receives, for messages (e.g. the consumer's class name). */
  owner: string;
  project: string;
  token: string;
  contexts: readonly string[];
  transport?: TaskTransportSpec;
  onTask: (message: TaskMessage, context: string) => Promise<void> | void;
  log: Logger;
}

/**
 * Starts receiving a consumer's tasks: each one runs `onTask` (its failure is logged with the
 * context). The receiver's `close(timeoutMs)` stops taking tasks, waits for those running, and
 * closes a transport made from a URL. Throws {@link RelayArgumentError} for a bad project or token.
 */
export async function serveTasks(service: TaskService): Promise<TaskReceiver> {
  checkProject(service.project, service.token, `${service.owner}.onTask`);
  const { transport, owned } = taskTransport(service.transport);
  const log = service.log.child({ tasks: transport.name });
  let receiver: TaskReceiver;
  try {
    receiver = await transport.consume({
      project: service.project,
      token: service.token,
      contexts: service.contexts,
      log,
      handle: async (context, message) => {
        try {
          await service.onTask(message, context);
        } catch (error) {
          log.error({ err: error, context }, 'onTask failed');
          throw error;
        }
      },
    });
  } catch (error) {
    if (owned) await transport.close();
    throw error;
  }
  log.info({ contexts: service.contexts }, `relay consumer taking tasks for ${service.contexts.join(', ')} over ${transport.name}`);
  return {
    close: async (timeoutMs) => {
      await receiver.close(timeoutMs);
      if (owned) await transport.close();
    },
  };
}
