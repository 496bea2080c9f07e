/**
 * agikit: typed Asterisk AGI / FastAGI applications.
 *
 * @module agikit
 */
export { Agi, type AgikitCloseStatus, type AgiOptions, type HangupListener, type LogSource } from './agi/agi.js';
export { AGI_COMMANDS, type AgiCommandName, type CommandSpec } from './agi/commands.js';
export { AgiConnection, type AgiConnectionOptions } from './agi/connection.js';
export type { CommandArgs, CommandOptions, CommandResult } from './agi/method-types.js';
export { assertTranscript, TranscriptRecorder, type LineTap, type Transcript, type TranscriptExchange } from './agi/transcript.js';
export type { AgiCommandMethods } from './agi/methods.generated.js';
export {
  ChannelState,
  type CallerIdInput,
  type ControlStreamOptions,
  type ControlStreamResult,
  type EscapeDigits,
  type GetDataResult,
  type GosubResult,
  type PlaybackResult,
  type RecordEndReason,
  type RecordFileOptions,
  type RecordFileResult,
  type SayCase,
  type SpeechMatch,
  type SpeechResult,
} from './agi/results.js';
export {
  AgiAbortError,
  AgiArgumentError,
  AgiCommandError,
  AgiError,
  AgiHangupError,
  AgiInterruptedError,
  AgiInvalidCommandError,
  AgiProtocolError,
  AgiSessionClosedError,
  AgiTimeoutError,
  AgiUsageError,
  type HangupReason,
} from './errors.js';
export { ANY_DIGIT, encodeCommand, maxLineBytesFor, quoteArg } from './protocol/encode.js';
export { parseHeader, type AgiEnv, type AgiHeader } from './protocol/header.js';
export { DEFAULT_MAX_REPLY_BYTES, parseFinal, ReplyReader, type AgiReply } from './protocol/reply.js';
export { DEFAULT_HEADER_TIMEOUT_MS, DEFAULT_MAX_PENDING_CONNECTIONS, FastAgiServer, type CloseOptions, type FastAgiServerOptions, type ServerStats } from './server/fastagi-server.js';
export { CALL_STATUSES, runCall, type CallEnd, type CallStatus, type RunCallOptions } from './server/run-call.js';
export { Router, type AgiHandler, type RouteMatch, type RouterLike } from './server/router.js';
export { runStdio, type StdioOptions } from './server/stdio.js';
export * from './media/index.js';
export * from './ami/index.js';
export * as relay from './relay/index.js';
