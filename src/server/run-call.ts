import type { Logger } from 'pino';
import { Agi, type AgikitCloseStatus, type AgiOptions } from '../agi/agi.js';
import type { AgiConnection } from '../agi/connection.js';
import { AgiHangupError } from '../errors.js';
import type { AgiHeader } from '../protocol/header.js';
import { TranscriptRecorder, type Transcript } from '../agi/transcript.js';
import type { RouterLike } from './router.js';

/**
 * How a call ended, as written to the status variable (`AGIKIT_STATUS`) for the dialplan:
 * `SUCCESS` (handler finished), `FAILURE` (handler threw), `HANGUP` (handler ended by the caller
 * hanging up: it threw `AgiHangupError`), `NOTFOUND` (no route), `BUSY` (over `maxConnections`);
 * or, when agikit closed the session itself, why: `TIMEOUT`, `ABORTED`, `LINGERED`, `SHUTDOWN`
 * ({@link AgikitCloseStatus}).
 */
export type CallStatus = 'SUCCESS' | 'FAILURE' | 'HANGUP' | 'NOTFOUND' | 'BUSY' | AgikitCloseStatus;

/** Every {@link CallStatus}, in a fixed order (for counters). */
export const CALL_STATUSES: readonly CallStatus[] = ['SUCCESS', 'FAILURE', 'HANGUP', 'NOTFOUND', 'BUSY', 'TIMEOUT', 'ABORTED', 'LINGERED', 'SHUTDOWN'];

/** How one call ended (the server's `callEnd` event). */
export interface CallEnd {
  agi: Agi;
  /** The status the dialplan was given: the handler's outcome, or why agikit closed the session. */
  status: CallStatus;
  /** What the handler threw, if it did. */
  error?: unknown;
  durationMs: number;
}

/** Options of {@link runCall}. */
export interface RunCallOptions extends Pick<AgiOptions, 'statusVariable' | 'commandTimeoutMs' | 'closeGraceMs' | 'hangupGraceMs'> {
  /** The server's logger; the call logs through a child carrying its `uniqueid` and `channel`. */
  log: Logger;
  /** Refuse the call with status `BUSY` instead of running a handler. */
  busy?: boolean;
  /** Called when the handler starts, with the route pattern that matched (and the connection). */
  onStart?: (agi: Agi, route: string, connection: AgiConnection) => void;
  /** Called when the handler has finished (before the session is closed). */
  onFinish?: (agi: Agi, connection: AgiConnection) => void;
  /** Record the session: called with its transcript once it has ended. */
  onTranscript?: (transcript: Transcript, end: CallEnd) => void;
}

/**
 * Runs one call on a connection whose header has been read, the same way for every transport
 * (FastAGI server, stdio script, simulator): picks the route, runs the handler, writes the status
 * variable and closes the session. Never throws.
 */
export async function runCall(connection: AgiConnection, header: AgiHeader, router: RouterLike, options: RunCallOptions): Promise<CallEnd> {
  const base = options.log;
  // The child logger is made only when the call logs something: it is most of a pino call's cost.
  let child: Logger | undefined;
  const log = (): Logger => (child ??= base.child({ uniqueid: header.env.uniqueid, channel: header.env.channel }));
  connection.useLog(log, base);
  const recorder = options.onTranscript ? new TranscriptRecorder(header) : undefined;
  if (recorder) connection.tap(recorder);
  const match = options.busy ? undefined : router.match(header.path);
  // One literal of fixed shape (undefined means default to Agi): no spread objects per call.
  const agi = new Agi(connection, header, {
    log,
    params: match?.params,
    statusVariable: options.statusVariable,
    commandTimeoutMs: options.commandTimeoutMs,
    closeGraceMs: options.closeGraceMs,
    hangupGraceMs: options.hangupGraceMs,
  });
  const started = Date.now();
  let status: CallStatus;
  let error: unknown;
  if (options.busy) {
    status = 'BUSY';
    log().warn('call refused: server busy');
  } else if (!match) {
    status = 'NOTFOUND';
    log().warn({ path: header.path }, 'call refused: no route for this path');
  } else {
    if (base.isLevelEnabled('debug')) log().debug({ path: header.path, route: match.pattern }, 'call started');
    options.onStart?.(agi, match.pattern, connection);
    // Classify how the handler ended, then wait for onHangup cleanup (a handler that lingers after a
    // hangup has its session closed by the Agi itself: AgiOptions.hangupGraceMs).
    try {
      await match.handler(agi);
      status = 'SUCCESS';
    } catch (thrown) {
      ({ status, error } = handlerFailed(agi, thrown));
    }
    if (agi.hasHangupCleanup) await agi.hangupCleanup();
    options.onFinish?.(agi, connection);
  }
  await agi.close(status);
  // Where agikit closed the session itself, that is what the dialplan was told.
  status = agi.closeStatus ?? status;
  const durationMs = Date.now() - started;
  if (base.isLevelEnabled('debug')) log().debug({ status, durationMs }, 'call ended');
  const end: CallEnd = { agi, status, ...(error !== undefined ? { error } : {}), durationMs };
  if (recorder && options.onTranscript) {
    recorder.annotate({ status, path: header.path, ...(match ? { route: match.pattern } : {}) });
    try {
      options.onTranscript(recorder.toJSON(), end);
    } catch (thrown) {
      log().error({ err: thrown }, 'transcript callback failed');
    }
  }
  return end;
}

/** How a handler that threw ended the call. */
export interface HandlerOutcome {
  status: CallStatus;
  /** What the handler threw, if it did. */
  error?: unknown;
}

/** Classifies and logs what a handler threw. */
function handlerFailed(agi: Agi, error: unknown): HandlerOutcome {
  if (error instanceof AgiHangupError) {
    agi.log.info({ reason: error.reason }, 'handler ended by hangup');
    return { status: 'HANGUP', error };
  }
  agi.log.error({ err: error }, 'handler failed');
  return { status: 'FAILURE', error };
}
