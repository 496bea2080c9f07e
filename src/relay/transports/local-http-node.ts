/**
 * The consumer side of the local HTTP task transport: one {@link LocalTaskNode} per transport that
 * consumes. Competing consumer processes on one machine, each started on its own, share the
 * configured port like this:
 * - every process runs its tasks on a listener of its own (127.0.0.1, a port the system picks);
 * - one of them also holds the configured port: the door. It keeps a roster of the processes
 *   registered with it and passes each task on to the next one in turn (itself included);
 * - every process registers with the door over a request that stays open, so each side sees the
 *   other go at once (a killed process's sockets are closed by the kernel);
 * - when the door goes, the others race for the port: one wins and is the door, the rest register
 *   with it. Tasks sent in that gap (milliseconds) are not delivered (`deliver` is `false`).
 * Under `node:cluster`, every worker "holds" the port and the cluster's primary shares connections
 * among them; the same code works, with the primary as the door.
 *
 * @module
 */

import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { decodeTaskMessage } from '../task-message.js';
import { notDelivered, sameToken, TaskRoster, TaskRuns, type TaskDelivery, type TaskReceiver, type TaskSubscription } from '../task-transport.js';
import { answer, bearer, deliveryOf, LOOPBACK, parsePath, post, readBody, registerPath, taskPath } from './local-http-wire.js';

/** How long the door waits for one consumer to take a task before trying the next. */
const FORWARD_TIMEOUT_MS = 2000;
/** The longest pause between two tries to hold the port or register with its holder. */
const MAX_BACKOFF_MS = 1000;

/** A consumer process registered with the door. */
interface Registered {
  readonly project: string;
  readonly token: string;
  readonly contexts: ReadonlySet<string>;
  readonly port: number;
}

/** A subscription of this process (a member of its own roster while it holds the port). */
interface Local extends Registered {
  readonly subscription: TaskSubscription;
  readonly stop: AbortController;
}

/** How long `consume` waits for the first registration before going on (and retrying in the background). */
const FIRST_REGISTRATION_MS = 5000;

/** The consumer side of one local HTTP transport: its own listener, its registrations, the door when it holds the port. */
export class LocalTaskNode {
  private readonly locals = new Set<Local>();
  private readonly runs: TaskRuns;
  private readonly own: Server;
  private ownPort: Promise<number> | undefined;
  private door: Server | undefined;
  private doorTry: Promise<void> | undefined;
  private readonly roster = new TaskRoster<Registered>();
  private closed = false;

  constructor(
    readonly port: number,
    concurrency: number,
    private readonly log: Logger,
  ) {
    this.runs = new TaskRuns(concurrency);
    this.own = createServer((req, res) => void this.runTask(req, res));
  }

  /** `true` once closed (a transport then makes a new node to consume again). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** `true` while this process holds the configured port. */
  get isDoor(): boolean {
    return this.door !== undefined;
  }

  /** Starts receiving for `subscription`: listens, then keeps it registered with the door until closed. */
  async add(subscription: TaskSubscription): Promise<TaskReceiver> {
    this.ownPort ??= this.listenOwn();
    const local: Local = {
      project: subscription.project,
      token: subscription.token,
      contexts: new Set(subscription.contexts),
      port: await this.ownPort,
      subscription,
      stop: new AbortController(),
    };
    this.locals.add(local);
    let accepted: () => void = () => undefined;
    const first = new Promise<void>((resolve) => (accepted = resolve));
    const registered = this.keepRegistered(local, accepted);
    const bound = setTimeout(accepted, FIRST_REGISTRATION_MS);
    await first;
    clearTimeout(bound);
    return {
      close: async (timeoutMs) => {
        local.stop.abort();
        await registered;
        this.roster.remove(local);
        this.locals.delete(local);
        await this.runs.settled(timeoutMs);
        if (this.locals.size === 0) await this.close();
      },
    };
  }

  /** Closes the listeners (peers registered with this door see it go and elect another). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const local of this.locals) local.stop.abort();
    for (const server of [this.door, this.own]) {
      if (!server?.listening) continue;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    this.door = undefined;
  }

  private async listenOwn(): Promise<number> {
    this.own.listen({ host: LOOPBACK, port: 0, exclusive: true });
    await once(this.own, 'listening');
    return (this.own.address() as AddressInfo).port;
  }

  /**
   * Makes `local` a member of the door's roster until it stops: of this process's own roster when
   * it holds the port (it can take it), else by registering with the holder, again after each loss.
   */
  private async keepRegistered(local: Local, accepted: () => void): Promise<void> {
    const { signal } = local.stop;
    let backoff = 0;
    let warned = '';
    while (!signal.aborted) {
      await this.tryDoor();
      if (this.door) {
        this.roster.add(local);
        accepted();
        if (!signal.aborted) await once(signal, 'abort');
        return;
      }
      const outcome = await register(this.port, local, signal, accepted);
      if (signal.aborted) return;
      if (outcome === 'lost') {
        backoff = 0;
        continue;
      }
      if (outcome !== warned) {
        warned = outcome;
        local.subscription.log.warn({ port: this.port, why: outcome }, `tasks: cannot register with the task port ${LOOPBACK}:${this.port} yet; retrying`);
      }
      backoff = Math.min(MAX_BACKOFF_MS, backoff * 2 || 25);
      await sleep(backoff, undefined, { signal }).catch(() => undefined);
    }
  }

  /** Takes the configured port if nobody holds it (one try at a time). */
  private tryDoor(): Promise<void> {
    if (this.door || this.closed) return Promise.resolve();
    this.doorTry ??= (async () => {
      const door = createServer((req, res) => void this.routeTask(req, res));
      door.listen({ host: LOOPBACK, port: this.port });
      try {
        await Promise.race([once(door, 'listening'), once(door, 'error').then(([error]) => Promise.reject(error as Error))]);
        if (this.closed) door.close();
        else {
          this.door = door;
          this.log.info({ port: this.port }, `tasks: this process holds the task port ${LOOPBACK}:${this.port}`);
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') this.log.warn({ err: error, port: this.port }, 'tasks: cannot listen on the task port');
      } finally {
        this.doorTry = undefined;
      }
    })();
    return this.doorTry;
  }

  /** The door: a registration, or a task passed on to the next registered consumer in turn. */
  private async routeTask(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = parsePath(req.url);
    if (req.method !== 'POST') return answer(res, { status: 405, detail: 'POST only' });
    if (!path) return answer(res, { status: 404, detail: `not a task path: ${req.url}` });
    if (path.kind === 'register') return this.acceptRegistration(req, res, path.project);
    const address = { project: path.project, context: path.context, token: bearer(req) };
    const candidates = this.roster.candidates(address);
    if (!Array.isArray(candidates)) return answer(res, candidates);
    const body = await readBody(req);
    if (body === undefined) return answer(res, { status: 413, detail: 'a task message is at most 1 MiB' });
    const failures: TaskDelivery[] = [];
    for (const member of candidates) {
      const reply = await post(member.port, taskPath(address.project, address.context), address.token, body, FORWARD_TIMEOUT_MS);
      const outcome = deliveryOf(reply, `the consumer on ${LOOPBACK}:${member.port}`);
      if (outcome.delivered) return answer(res, outcome);
      // A bad message is bad for every consumer: say so at once.
      if (!('error' in reply) && (reply.status === 400 || reply.status === 413)) return answer(res, { status: reply.status, detail: outcome.detail });
      failures.push(outcome);
    }
    // Busy beats gone (the caller may try again soon); a consumer that did not answer beats one that went.
    answer(res, failures.find((f) => !f.delivered && f.reason === 'busy') ?? failures.find((f) => !f.delivered && f.reason === 'unreachable') ?? failures[0] ?? notDelivered('no-consumer', 'no consumer'));
  }

  private async acceptRegistration(req: IncomingMessage, res: ServerResponse, project: string): Promise<void> {
    const token = bearer(req);
    let member: Registered | undefined;
    try {
      const body = JSON.parse((await readBody(req, 64 * 1024)) ?? '') as { port?: unknown; contexts?: unknown };
      const contexts = Array.isArray(body.contexts) ? body.contexts.filter((c): c is string => typeof c === 'string') : [];
      if (token && Number.isInteger(body.port) && contexts.length > 0) member = { project, token, contexts: new Set(contexts), port: body.port as number };
    } catch {
      // answered below
    }
    if (!member) return answer(res, { status: 400, detail: 'a registration is {"port":n,"contexts":[…]} with a bearer token' });
    const remove = this.roster.add(member);
    req.socket.once('close', remove);
    res.writeHead(200, { 'content-type': 'application/json' }).write('{"registered":true}\n');
    this.log.debug({ port: member.port, project, contexts: [...member.contexts] }, 'tasks: a consumer registered');
  }

  /** A consumer's own listener: runs the task here, or says why not. */
  private async runTask(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = parsePath(req.url);
    if (req.method !== 'POST') return answer(res, { status: 405, detail: 'POST only' });
    if (path?.kind !== 'task') return answer(res, { status: 404, detail: `not a task path: ${req.url}` });
    const local = [...this.locals].find((l) => l.subscription.project === path.project && l.contexts.has(path.context) && !l.stop.signal.aborted);
    if (!local) return answer(res, notDelivered('no-consumer', `this consumer does not listen on ${path.project}/${path.context}`));
    if (!sameToken(local.subscription.token, bearer(req))) return answer(res, notDelivered('refused', `the consumer of ${path.project}/${path.context} refused the token`));
    const body = await readBody(req);
    if (body === undefined) return answer(res, { status: 413, detail: 'a task message is at most 1 MiB' });
    let message;
    try {
      message = decodeTaskMessage(body);
    } catch (error) {
      return answer(res, { status: 400, detail: (error as Error).message });
    }
    if (this.runs.full) return answer(res, notDelivered('busy', `this consumer is running ${this.runs.limit} tasks`));
    // A failure is logged by the subscription's handler; at most once, so nothing else to do.
    void this.runs.start(() => local.subscription.handle(path.context, message));
    answer(res, { delivered: true });
  }
}

/**
 * One registration of `local` with the holder of `port`. Calls `accepted` once the holder has it,
 * and resolves `'lost'` when that registration ends (the holder went), or why it was not accepted.
 */
function register(port: number, local: Local, signal: AbortSignal, accepted: () => void): Promise<string> {
  const { subscription } = local;
  const body = JSON.stringify({ port: local.port, contexts: subscription.contexts });
  return new Promise((resolve) => {
    const req = request(
      {
        host: LOOPBACK,
        port,
        path: registerPath(subscription.project),
        method: 'POST',
        agent: false,
        signal,
        headers: { authorization: `Bearer ${subscription.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        if (res.statusCode !== 200) {
          resolve(`HTTP ${res.statusCode} (is another program on that port?)`);
          return;
        }
        // The holder writes one line once the registration is in its roster.
        res.once('data', () => accepted());
        res.once('close', () => resolve('lost'));
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end(body);
  });
}
