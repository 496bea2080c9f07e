/**
 * The wire of the local HTTP task transport: its paths, status codes and bodies, and the two small
 * HTTP pieces both sides use (a bounded body reader, a one-shot POST). Everything on 127.0.0.1.
 *
 * ```
 * POST /relay/<project>/tasks/<context>     Authorization: Bearer <token>   body: the message (a JSON object, at most 1 MiB)
 *   202 {"delivered":true}                  a consumer has the task (its onTask is running)
 *   4xx/5xx {"delivered":false,"reason","detail"}   404 no-consumer, 401 refused, 503 busy, 502 unreachable,
 *                                           400 not a JSON object, 413 too large, 405 not POST
 * POST /relay/<project>/consumers           Authorization: Bearer <token>   body: {"port":n,"contexts":["office"]}
 *   200 {"registered":true}\n, and the response stays open: the consumer listening on 127.0.0.1:<port>
 *   is a member until either side closes it (a consumer process registers with the one holding the port)
 * ```
 *
 * @module
 */

import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { CONTEXT_NAME } from '../context-name.js';
import { MAX_TASK_BYTES } from '../task-message.js';
import { notDelivered, type TaskDelivery, type TaskFailure } from '../task-transport.js';

/** The port of the local task transport unless one is configured. */
export const DEFAULT_TASK_PORT = 4574;

/** Every byte of this transport stays on this machine. */
export const LOOPBACK = '127.0.0.1';

/** HTTP status of each reason a task is not delivered. */
export const FAILURE_STATUS: Readonly<Record<TaskFailure, number>> = { 'no-consumer': 404, refused: 401, busy: 503, unreachable: 502 };

const NAME = CONTEXT_NAME.source.slice(1, -1);
const PATH = new RegExp(`^/relay/(${NAME})/(?:tasks/(${NAME})|(consumers))$`);

/** A parsed request path: a task for a context, a consumer registering, or neither. */
export type WirePath = { kind: 'task'; project: string; context: string } | { kind: 'register'; project: string } | undefined;

/** Reads a request path of this transport. */
export function parsePath(url: string | undefined): WirePath {
  const match = PATH.exec(url ?? '');
  if (!match) return undefined;
  const [, project = '', context, register] = match;
  return register ? { kind: 'register', project } : { kind: 'task', project, context: context ?? '' };
}

/** The path a task for `context` is posted to. */
export function taskPath(project: string, context: string): string {
  return `/relay/${project}/tasks/${context}`;
}

/** The path a consumer registers at. */
export function registerPath(project: string): string {
  return `/relay/${project}/consumers`;
}

/** The bearer token of a request, or `''`. */
export function bearer(req: IncomingMessage): string {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match?.[1] ?? '';
}

/** Reads a request body as UTF-8, at most `limit` bytes; `undefined` when it is longer. */
export async function readBody(req: IncomingMessage, limit = MAX_TASK_BYTES): Promise<string | undefined> {
  if (Number(req.headers['content-length'] ?? 0) > limit) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Answers a task request with its outcome (202, or the failure's status) and closes the connection.
 * A body not read yet is drained, so the sender gets the answer rather than a reset.
 */
export function answer(res: ServerResponse, outcome: TaskDelivery | { status: number; detail: string }): void {
  res.req.resume();
  const status = 'status' in outcome ? outcome.status : outcome.delivered ? 202 : FAILURE_STATUS[outcome.reason];
  const body = 'status' in outcome ? { delivered: false, detail: outcome.detail } : outcome;
  res.writeHead(status, { 'content-type': 'application/json', connection: 'close' }).end(`${JSON.stringify(body)}\n`);
}

/** What a POST got: a status and (at most 4 KiB of) body, or the error that stopped it. */
export type PostReply = { status: number; body: string } | { error: string };

/** Posts `body` to 127.0.0.1:`port` with a bearer token, on a connection of its own. */
export function post(port: number, path: string, token: string, body: string, timeoutMs: number): Promise<PostReply> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: LOOPBACK,
        port,
        path,
        method: 'POST',
        agent: false,
        timeout: timeoutMs,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (text.length < 4096) text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', (error) => resolve({ error: error.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code === 'ECONNREFUSED' ? 'ECONNREFUSED' : error.message }));
    req.end(body);
  });
}

/** The {@link TaskDelivery} a reply means. */
export function deliveryOf(reply: PostReply, where: string): TaskDelivery {
  if ('error' in reply) {
    return reply.error === 'ECONNREFUSED'
      ? notDelivered('no-consumer', `no consumer listens on ${where}`)
      : notDelivered('unreachable', `${where}: ${reply.error}`);
  }
  if (reply.status === 202) return { delivered: true };
  let said: { reason?: unknown; detail?: unknown } = {};
  try {
    said = JSON.parse(reply.body) as typeof said;
  } catch {
    // not one of ours: the status says enough
  }
  const reason = Object.entries(FAILURE_STATUS).find(([, status]) => status === reply.status)?.[0] as TaskFailure | undefined;
  const detail = typeof said.detail === 'string' ? said.detail : `HTTP ${reply.status} from ${where}`;
  return notDelivered(reason ?? 'refused', detail);
}
