/**
 * A real Asterisk for tests: start Asterisk 22 in a Docker container, place
 * calls whose one side runs your AGI application and whose other side (the
 * "far leg") follows a script you write per call, and read back what
 * happened.
 *
 * ```ts
 * import { after, before, describe, it } from 'node:test';
 * import { far, liveAsteriskAvailable, startAsterisk, type LiveAsterisk } from 'agikit/testing';
 *
 * const live = await liveAsteriskAvailable();
 * const skip = live.ok ? false : live.reason; // reported as skipped, with the reason
 *
 * describe('my IVR against Asterisk', () => {
 *   let asterisk: LiveAsterisk | undefined;
 *   before(async () => { if (live.ok) asterisk = await startAsterisk(); });
 *   after(async () => { await asterisk?.stop(); });
 *
 *   it('reads a digit', { skip }, async () => {
 *     assert.ok(asterisk);
 *     const call = await asterisk.originate({
 *       agi: { port: myServerPort, route: 'menu' },
 *       far: [far.waitFor('menu-ready'), far.dtmf('1')],
 *       record: ['CHOICE'],
 *     });
 *     // the app sends: DATABASE PUT agikit-sync/<agi_extension> menu-ready 1
 *     const result = await call.result();
 *     assert.equal(result.variables.CHOICE, '1');
 *   });
 * });
 * ```
 *
 * Requirements: Node.js 20 or later, the `testcontainers` package (11.x;
 * a dev dependency, loaded only when a container is started), a Docker
 * engine, and the image built by `scripts/asterisk-image.sh` (done
 * automatically; the first build takes about a minute). Containers use host
 * networking, so an AGI server listening on 127.0.0.1 is reachable from
 * Asterisk as `agi://127.0.0.1:<port>/...`. Nothing in the container
 * listens on a TCP/UDP port, so several containers can run side by side.
 *
 * testcontainers' resource reaper (Ryuk) needs an image from a registry;
 * unless `TESTCONTAINERS_RYUK_DISABLED` is already set, {@link startAsterisk}
 * sets it to `true`. With a local engine it also defaults
 * `TESTCONTAINERS_HOST_OVERRIDE` to 127.0.0.1 (testcontainers otherwise
 * looks for the default bridge network, which an engine started with
 * `--bridge=none` does not have). Without Ryuk, a container whose test
 * process dies without calling {@link LiveAsterisk.stop} is still removed after
 * {@link StartAsteriskOptions.maxLifetimeSeconds} (Asterisk runs under
 * `timeout`, and the container is started with auto-remove).
 *
 * Start one Asterisk per test file (in `before`) or per run, not per test:
 * starting takes about a second, a call a few hundred milliseconds.
 *
 * Environment variables: `AGIKIT_ASTERISK_IMAGE` (image to use or build),
 * `AGIKIT_SKIP_LIVE=1` (report live Asterisk as unavailable), and those
 * of `scripts/asterisk-image.sh` and `scripts/ensure-docker.sh`.
 *
 * @module
 */

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import type { StartedTestContainer } from 'testcontainers';
import {
  MAX_CLI_COMMAND_BYTES,
  addExtensionCommand,
  chunk,
  cliCommandBytes,
  cliQuote,
  escapeAppArgument,
  needsSubstitutionGuard,
  parseDatabaseShow,
} from './dialplan-text.js';

// ---------------------------------------------------------------------------
// Names shared with asterisk-conf/extensions.conf
// ---------------------------------------------------------------------------

/** Dialplan contexts and astdb families the harness and asterisk-conf/extensions.conf share. */
export const AGIKIT_DIALPLAN = {
  /** Context holding one extension per call, named after the call id, that runs AGI(). */
  appContext: 'agikit-app',
  /** Context holding one extension per call that runs the far-leg steps. */
  farContext: 'agikit-far',
  /** Context a test's AGI app may send the call to (all-digit extensions and `s`, priorities 1-9 hang up). */
  continueContext: 'agikit-continue',
  /** Context with `GOSUB agikit-sub echo 1 <a>,<b>` for AGI GOSUB tests. */
  subContext: 'agikit-sub',
  /** astdb family prefix of synchronisation signals: `agikit-sync/<call>/<name>`. */
  syncFamily: 'agikit-sync',
  /** astdb family prefix of per-call results: `agikit-result/<call>/<key>`. */
  resultFamily: 'agikit-result',
} as const;

const DONE_MARKER = /AGIKIT-DONE (\S+)/;
const SIGNAL_MARKER = /AGIKIT-SIGNAL (\S+) (\S+)/;
const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const CALL_ID_PATTERN = /^[A-Za-z0-9]{1,40}$/;
const FILE_PATTERN = /^[A-Za-z0-9_./-]{1,200}$/;
const VARIABLE_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*(\([^&()]*\))?$/;
const SYNC_POLL_MS = 50;

/**
 * The AGI command an application sends to raise a signal that the far leg
 * (see {@link far.waitFor}) or the test ({@link LiveCall.waitForSignal})
 * is waiting for.
 *
 * @param callId - the call id; the app sees it as `agi_extension` and in the channel variable `AGIKIT_CALL`
 * @param name - signal name (letters, digits, `_`, `.`, `-`)
 * @returns e.g. `DATABASE PUT agikit-sync/c1a2b3 ready 1`
 */
export function signalCommand(callId: string, name: string): string {
  assertName(name, 'signal name');
  return `DATABASE PUT ${AGIKIT_DIALPLAN.syncFamily}/${callId} ${name} 1`;
}

/**
 * Build a FastAGI URL.
 *
 * @param port - TCP port the AGI server listens on
 * @param route - script/route part, becomes `agi_network_script` (no leading slash needed)
 * @param host - host Asterisk connects to; defaults to 127.0.0.1 (host networking)
 * @returns e.g. `agi://127.0.0.1:4573/ivr/main`
 */
export function fastAgiUrl(port: number, route = '', host = '127.0.0.1'): string {
  return `agi://${host}:${port}/${route.replace(/^\/+/, '')}`;
}

// ---------------------------------------------------------------------------
// Far-leg steps
// ---------------------------------------------------------------------------

/** Wait until a signal is raised (by the AGI app or the test). */
export interface FarWaitForStep {
  readonly kind: 'waitFor';
  /** Signal name. */
  readonly signal: string;
  /** Give up after this long (default 10000 ms): the far leg records `farTimeout` and hangs up. */
  readonly timeoutMs?: number;
}

/** Raise a signal the test ({@link LiveCall.waitForSignal}) or the AGI app (`DATABASE GET`) can wait for. */
export interface FarSignalStep {
  readonly kind: 'signal';
  /** Signal name. */
  readonly signal: string;
}

/** Send DTMF digits with SendDTMF(). */
export interface FarDtmfStep {
  readonly kind: 'dtmf';
  /** Digits: 0-9, A-D, *, #, and w (500 ms pause). */
  readonly digits: string;
  /** Tone length in ms (Asterisk's default: 100). */
  readonly durationMs?: number;
  /** Gap between tones in ms (Asterisk's default: 250). */
  readonly betweenMs?: number;
}

/** Play sound files (audio) with Playback(). */
export interface FarPlaybackStep {
  readonly kind: 'playback';
  /** Sound file names without extension, e.g. `hello-world`, `digits/5`. */
  readonly files: readonly string[];
}

/** Send silent audio frames (Playback of silence/N files). */
export interface FarSilenceStep {
  readonly kind: 'silence';
  /** Whole seconds of silence (1 or more). */
  readonly seconds: number;
}

/** Do nothing for a while: no audio frames at all (Wait()). */
export interface FarWaitStep {
  readonly kind: 'wait';
  /** Seconds, fractions allowed. */
  readonly seconds: number;
}

/** Collect DTMF digits the app sends (Read()); they appear in {@link CallResult.farDigits}. */
export interface FarReadStep {
  readonly kind: 'read';
  /** Key under which the digits are reported. */
  readonly name: string;
  /** Stop after this many digits (default: until # or timeout). */
  readonly maxDigits?: number;
  /** Seconds to wait for digits (default 10). */
  readonly timeoutSeconds?: number;
}

/** Record what the app sends to the caller (Record()), e.g. to check STREAM FILE produced audio. */
export interface FarRecordStep {
  readonly kind: 'record';
  /** Path in the container including the format extension, e.g. `/tmp/heard.wav`. */
  readonly path: string;
  /** Maximum length in seconds (default 10). */
  readonly maxSeconds?: number;
  /** Stop after this many seconds of silence (default 0: never). */
  readonly silenceSeconds?: number;
}

/** Echo the app's audio and DTMF back to it (Echo()), until hangup. */
export interface FarEchoStep {
  readonly kind: 'echo';
}

/** Hang up the far leg (the AGI side then sees a hangup). */
export interface FarHangupStep {
  readonly kind: 'hangup';
  /** Optional hangup cause code, e.g. 16 (normal clearing) or 17 (busy). */
  readonly cause?: number;
}

/** Run any dialplan application on the far leg. */
export interface FarAppStep {
  readonly kind: 'app';
  /** Application name, e.g. `MusicOnHold`. */
  readonly application: string;
  /** Application data exactly as in extensions.conf (variables are substituted). */
  readonly data: string;
}

/** One step of the far leg's script. Build them with {@link far}. */
export type FarStep =
  | FarWaitForStep
  | FarSignalStep
  | FarDtmfStep
  | FarPlaybackStep
  | FarSilenceStep
  | FarWaitStep
  | FarReadStep
  | FarRecordStep
  | FarEchoStep
  | FarHangupStep
  | FarAppStep;

/**
 * Builders for far-leg steps. The far leg always answers first; after the
 * last step it stays silent on the line until the app side hangs up (or the
 * call times out), unless a step hangs up.
 */
export const far = {
  /**
   * Wait for a signal from the AGI app (`DATABASE PUT agikit-sync/<call> <name> 1`,
   * see {@link signalCommand}) or from the test ({@link LiveCall.signal}).
   *
   * @param signal - signal name
   * @param options - timeoutMs: give up after this long (default 10000)
   * @returns the step
   */
  waitFor(signal: string, options: { readonly timeoutMs?: number } = {}): FarWaitForStep {
    return { kind: 'waitFor', signal, ...options };
  },
  /**
   * Raise a signal for the test or the AGI app.
   *
   * @param signal - signal name
   * @returns the step
   */
  signal(signal: string): FarSignalStep {
    return { kind: 'signal', signal };
  },
  /**
   * Send DTMF digits.
   *
   * @param digits - 0-9, A-D, *, #, w
   * @param options - durationMs and betweenMs of the tones
   * @returns the step
   */
  dtmf(digits: string, options: { readonly durationMs?: number; readonly betweenMs?: number } = {}): FarDtmfStep {
    return { kind: 'dtmf', digits, ...options };
  },
  /**
   * Play sound files to the app side.
   *
   * @param files - sound names without extension
   * @returns the step
   */
  playback(...files: string[]): FarPlaybackStep {
    return { kind: 'playback', files };
  },
  /**
   * Send silent audio for a number of seconds (real frames, so silence
   * detection in RECORD FILE works).
   *
   * @param seconds - whole seconds
   * @returns the step
   */
  silence(seconds: number): FarSilenceStep {
    return { kind: 'silence', seconds };
  },
  /**
   * Pause without sending any frames.
   *
   * @param seconds - seconds, fractions allowed
   * @returns the step
   */
  wait(seconds: number): FarWaitStep {
    return { kind: 'wait', seconds };
  },
  /**
   * Collect digits sent by the app.
   *
   * @param name - key in {@link CallResult.farDigits}
   * @param options - maxDigits, timeoutSeconds
   * @returns the step
   */
  read(name: string, options: { readonly maxDigits?: number; readonly timeoutSeconds?: number } = {}): FarReadStep {
    return { kind: 'read', name, ...options };
  },
  /**
   * Record the app's audio into a file in the container.
   *
   * @param filePath - container path with format extension, e.g. `/tmp/x.wav`
   * @param options - maxSeconds, silenceSeconds
   * @returns the step
   */
  record(filePath: string, options: { readonly maxSeconds?: number; readonly silenceSeconds?: number } = {}): FarRecordStep {
    return { kind: 'record', path: filePath, ...options };
  },
  /**
   * Echo audio and DTMF back to the app until hangup.
   *
   * @returns the step
   */
  echo(): FarEchoStep {
    return { kind: 'echo' };
  },
  /**
   * Hang up the far leg.
   *
   * @param cause - optional hangup cause code
   * @returns the step
   */
  hangup(cause?: number): FarHangupStep {
    return cause === undefined ? { kind: 'hangup' } : { kind: 'hangup', cause };
  },
  /**
   * Run any dialplan application.
   *
   * @param application - application name
   * @param data - application data as written in extensions.conf
   * @returns the step
   */
  app(application: string, data = ''): FarAppStep {
    return { kind: 'app', application, data };
  },
} as const;

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

/** Where the AGI side of a call connects. */
export interface FastAgiTarget {
  /** Port of the FastAGI server on 127.0.0.1 (or {@link FastAgiTarget.host}). */
  readonly port: number;
  /** Route, becomes `agi_network_script`. */
  readonly route?: string;
  /** Host; default 127.0.0.1. */
  readonly host?: string;
}

/** What {@link LiveAsterisk.originate} should do. */
export interface OriginateOptions {
  /**
   * The AGI to run: a FastAGI target, or the literal first argument of
   * AGI(): an `agi://` or `hagi://` URL, or a script path inside the
   * container (absolute, or relative to /usr/share/asterisk/agi-bin) for
   * stdio AGI; see {@link LiveAsterisk.copy}.
   */
  readonly agi: FastAgiTarget | string;
  /** Arguments passed literally (commas, quotes, `$`, spaces and all) as agi_arg_1... No newlines. */
  readonly args?: readonly string[];
  /** `AGI` (default) or `EAGI`. */
  readonly application?: 'AGI' | 'EAGI';
  /** Far-leg script, after its Answer(). Default: stay on the line silently. */
  readonly far?: readonly FarStep[];
  /**
   * Channel variables (or functions such as `CALLERID(num)`) of the AGI
   * side to record when the call hangs up; see {@link CallResult.variables}.
   * `AGISTATUS` is always recorded.
   */
  readonly record?: readonly string[];
  /** Channel variables set on the AGI side before AGI() runs (values are literal). */
  readonly variables?: Readonly<Record<string, string>>;
  /** Caller ID of the AGI side (agi_callerid / agi_calleridname). */
  readonly callerId?: { readonly number?: string; readonly name?: string };
  /** How long the whole call may take before {@link LiveCall.result} rejects (default 30000 ms). */
  readonly timeoutMs?: number;
  /** Use this call id (letters and digits) instead of a generated one. */
  readonly callId?: string;
  /** Keep the call's dialplan and astdb entries after it ends (for debugging). */
  readonly keep?: boolean;
}

/** A dialplan position. */
export interface DialplanLocation {
  /** Context name. */
  readonly context: string;
  /** Extension name. */
  readonly extension: string;
  /** Numeric priority. */
  readonly priority: number;
}

/** What the app side of a call recorded when it hung up. */
export interface CallResult {
  /** The call id. */
  readonly id: string;
  /** `${AGISTATUS}`: SUCCESS, FAILURE, NOTFOUND or HANGUP; empty if AGI() never ran. */
  readonly agiStatus: string;
  /**
   * Where the AGI side's dialplan was when it hung up. After an app that
   * just returns, that is the `Hangup()` right after AGI() in
   * `agikit-app,<call>`; after `SET CONTEXT/EXTENSION/PRIORITY` it is
   * where the call continued (e.g. `agikit-continue,200,1`).
   */
  readonly location: DialplanLocation | undefined;
  /** `${HANGUPCAUSE}` of the AGI side, if known. */
  readonly hangupCause: number | undefined;
  /** Recorded variables ({@link OriginateOptions.record}); empty string when unset. */
  readonly variables: Readonly<Record<string, string>>;
  /** Digits collected by {@link far.read} steps, by name. */
  readonly farDigits: Readonly<Record<string, string>>;
  /** Name of the signal the far leg gave up waiting for, if it did. */
  readonly farTimeout: string | undefined;
  /** Milliseconds from originate to the recorded hangup. */
  readonly durationMs: number;
}

/** A call placed by {@link LiveAsterisk.originate}. */
export interface LiveCall {
  /** Call id: the AGI side's extension (`agi_extension`) and `${AGIKIT_CALL}`. */
  readonly id: string;
  /** Context of the AGI side (`agi_context`). */
  readonly appContext: string;
  /**
   * Raise a signal the far leg is waiting for ({@link far.waitFor}).
   *
   * @param name - signal name
   */
  signal(name: string): Promise<void>;
  /**
   * Wait until a signal is raised by the far leg ({@link far.signal}) or the AGI app.
   *
   * @param name - signal name
   * @param timeoutMs - default 10000; rejects after that
   */
  waitForSignal(name: string, timeoutMs?: number): Promise<void>;
  /**
   * Wait for the call to end and return what was recorded. Rejects (after
   * hanging the call up) if it does not end within the call's timeout.
   */
  result(): Promise<CallResult>;
  /** Hang up all channels of this call now. */
  hangup(): Promise<void>;
}

/** A file or directory to copy into the container. */
export interface CopySpec {
  /** Path on this machine (file or directory). */
  readonly source: string;
  /** Path in the container; for a directory, the directory that receives its contents. */
  readonly target: string;
  /** File mode, e.g. 0o755 for an AGI script (files only). */
  readonly mode?: number;
}

/** A host directory or file mounted into the container. */
export interface BindMountSpec {
  /** Absolute path on this machine. */
  readonly source: string;
  /** Path in the container. */
  readonly target: string;
  /** Mount read-only (default true). */
  readonly readOnly?: boolean;
}

/** Options of {@link startAsterisk}. */
export interface StartAsteriskOptions {
  /** Image to run; default: `AGIKIT_ASTERISK_IMAGE` or the one scripts/asterisk-image.sh builds. */
  readonly image?: string;
  /** Directory whose `*.conf` files become /etc/asterisk; default: the package's asterisk-conf/. */
  readonly configDir?: string;
  /** Extra or replacement configuration files for /etc/asterisk, by file name. */
  readonly config?: Readonly<Record<string, string>>;
  /** Files and directories copied into the container before Asterisk starts. */
  readonly copy?: readonly CopySpec[];
  /** Host paths mounted into the container (e.g. a built `dist/` for stdio AGI scripts). */
  readonly bindMounts?: readonly BindMountSpec[];
  /** Extra environment variables for Asterisk (and stdio AGI scripts it starts). */
  readonly env?: Readonly<Record<string, string>>;
  /** How long Asterisk may take to be fully booted (default 60000 ms). */
  readonly startupTimeoutMs?: number;
  /** The container stops and removes itself after this long even if never stopped (default 3600 s). */
  readonly maxLifetimeSeconds?: number;
  /** Console verbosity, `-v` count (default 3: every dialplan step is logged). */
  readonly verbosity?: number;
}

/** Output of a command run in the container. */
export interface ExecOutput {
  /** Exit status. */
  readonly exitCode: number;
  /** Standard output. */
  readonly stdout: string;
  /** Standard error. */
  readonly stderr: string;
}

/** Whether a live Asterisk can be started here, and if not, why. */
export type LiveAsteriskAvailability =
  | { readonly ok: true; readonly image: string }
  | { readonly ok: false; readonly reason: string };

/** A running Asterisk container. */
export interface LiveAsterisk {
  /** Image the container runs. */
  readonly image: string;
  /** Docker container id. */
  readonly containerId: string;
  /** First line of `core show version`. */
  readonly version: string;
  /**
   * Run one CLI command (`asterisk -rx`).
   *
   * @param command - the command; at most {@link MAX_CLI_COMMAND_BYTES} bytes
   * @returns its output
   */
  cli(command: string): Promise<string>;
  /**
   * Run several CLI commands in one round trip to the container.
   *
   * @param commands - the commands, run in order
   * @returns their outputs, in order
   */
  cliMany(commands: readonly string[]): Promise<string[]>;
  /**
   * Place a call: the far leg (Local ;2) answers and runs the given steps,
   * the other half (Local ;1) runs AGI(). Resolves once the call has been
   * handed to Asterisk; await {@link LiveCall.result} for its end.
   *
   * @param options - AGI target, arguments, far-leg steps, variables to record
   * @returns the call, to signal it and to await its result
   */
  originate(options: OriginateOptions): Promise<LiveCall>;
  /**
   * Read an astdb value (`database get`).
   *
   * @param family - astdb family, may contain `/`
   * @param key - key within the family
   * @returns the value, or undefined if the key does not exist
   */
  dbGet(family: string, key: string): Promise<string | undefined>;
  /**
   * Write an astdb value (`database put`).
   *
   * @param family - astdb family, may contain `/`
   * @param key - key within the family
   * @param value - the value
   */
  dbPut(family: string, key: string, value: string): Promise<void>;
  /**
   * Delete an astdb key (`database del`; no error if it does not exist).
   *
   * @param family - astdb family
   * @param key - key within the family
   */
  dbDel(family: string, key: string): Promise<void>;
  /**
   * Delete an astdb family with everything below it (`database deltree`).
   *
   * @param family - astdb family
   */
  dbDeltree(family: string): Promise<void>;
  /**
   * Set a global dialplan variable (`dialplan set global`).
   *
   * @param name - variable name
   * @param value - literal value
   */
  setGlobal(name: string, value: string): Promise<void>;
  /**
   * Read a global dialplan variable (`dialplan eval function GLOBAL(name)`).
   *
   * @param name - variable name
   * @returns its value ('' when unset)
   */
  getGlobal(name: string): Promise<string>;
  /**
   * Run a command in the container (no shell unless you run one).
   *
   * @param argv - program and arguments
   * @returns exit status and output
   */
  exec(argv: readonly string[]): Promise<ExecOutput>;
  /**
   * Copy a file or directory into the running container.
   *
   * @param spec - source, target and mode
   */
  copy(spec: CopySpec): Promise<void>;
  /**
   * Write a file in the container.
   *
   * @param target - container path
   * @param content - file content
   * @param mode - file mode, e.g. 0o755 for an AGI script
   */
  writeFile(target: string, content: string | Uint8Array, mode?: number): Promise<void>;
  /**
   * Read a file from the container (e.g. a recording).
   *
   * @param target - container path
   * @returns the file's bytes
   */
  readFile(target: string): Promise<Buffer>;
  /** Everything the container printed so far (Asterisk's console: verbose output and log messages). */
  logs(): string;
  /**
   * Wait for a console line matching a pattern, printed after this call
   * (or, with `fromStart`, at any time since the container started).
   *
   * @param pattern - substring or regular expression
   * @param options - timeoutMs (default 10000), fromStart
   * @returns the matching line
   */
  waitForLog(pattern: RegExp | string, options?: { readonly timeoutMs?: number; readonly fromStart?: boolean }): Promise<string>;
  /** Stop and remove the container. Safe to call twice. */
  stop(): Promise<void>;
}

/** Thrown by {@link startAsterisk} when Docker or the image is unavailable. */
export class LiveAsteriskUnavailableError extends Error {
  /**
   * @param reason - why a live Asterisk cannot run here
   */
  constructor(reason: string) {
    super(`live Asterisk unavailable: ${reason}`);
    this.name = 'LiveAsteriskUnavailableError';
  }
}

// ---------------------------------------------------------------------------
// Availability: Docker + image
// ---------------------------------------------------------------------------

/**
 * Directory of the agikit package (the one holding scripts/ and
 * asterisk-conf/), found by walking up from this module.
 *
 * @returns an absolute path, or undefined if not found
 */
export function agikitPackageRoot(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'asterisk-conf', 'extensions.conf')) && existsSync(path.join(dir, 'package.json'))) {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * The configuration directory used when {@link StartAsteriskOptions.configDir} is not given.
 *
 * @returns absolute path of the package's asterisk-conf/
 */
export function defaultAsteriskConfigDir(): string {
  const root = agikitPackageRoot();
  if (root === undefined) throw new Error('cannot find the agikit package directory (asterisk-conf/)');
  return path.join(root, 'asterisk-conf');
}

interface ProcessResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function runProcess(command: string, args: readonly string[], timeoutMs: number): Promise<ProcessResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + String(err.message) });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal === null ? 1 : 128), stdout, stderr });
    });
  });
}

function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  return lines[lines.length - 1] ?? '';
}

const availabilityCache = new Map<string, Promise<LiveAsteriskAvailability>>();

async function checkAvailability(image: string | undefined): Promise<LiveAsteriskAvailability> {
  const skip = process.env['AGIKIT_SKIP_LIVE'];
  if (skip !== undefined && skip !== '' && skip !== '0') {
    // A value other than 1 is the reason (set by scripts/run-tests.mjs when Docker cannot run).
    return { ok: false, reason: skip === '1' || skip === 'true' ? 'AGIKIT_SKIP_LIVE is set' : skip };
  }
  const root = agikitPackageRoot();
  const ensureDocker = root === undefined ? undefined : path.join(root, 'scripts', 'ensure-docker.sh');
  if (ensureDocker !== undefined && existsSync(ensureDocker)) {
    const r = await runProcess('bash', [ensureDocker], 5 * 60_000);
    if (r.code !== 0) return { ok: false, reason: lastLine(r.stderr) || `ensure-docker.sh exited with ${r.code}` };
  } else {
    const r = await runProcess('docker', ['info'], 60_000);
    if (r.code !== 0) return { ok: false, reason: `docker does not answer: ${lastLine(r.stderr)}` };
  }
  if (image !== undefined) return { ok: true, image };
  const script = root === undefined ? undefined : path.join(root, 'scripts', 'asterisk-image.sh');
  if (script === undefined || !existsSync(script)) {
    const fromEnv = process.env['AGIKIT_ASTERISK_IMAGE'];
    if (fromEnv !== undefined && fromEnv !== '') return { ok: true, image: fromEnv };
    return { ok: false, reason: 'scripts/asterisk-image.sh not found; set AGIKIT_ASTERISK_IMAGE' };
  }
  const r = await runProcess('bash', [script], 15 * 60_000);
  const built = lastLine(r.stdout);
  if (r.code !== 0 || built === '') {
    return { ok: false, reason: lastLine(r.stderr) || `asterisk-image.sh exited with ${r.code}` };
  }
  return { ok: true, image: built };
}

/**
 * Find out whether a live Asterisk can run here: make sure Docker answers
 * (scripts/ensure-docker.sh, which may install and start it when running
 * as root) and that the image exists (scripts/asterisk-image.sh, which
 * builds it the first time). Never throws; the result is cached per image.
 *
 * Use it to skip live tests with a reason instead of failing or silently
 * passing them:
 *
 * ```ts
 * const live = await liveAsteriskAvailable();
 * describe('live', { skip: live.ok ? false : live.reason }, () => { ... });
 * ```
 *
 * @param options - image: use this image instead of building the default one
 * @returns `{ ok: true, image }` or `{ ok: false, reason }`
 */
export function liveAsteriskAvailable(options: { readonly image?: string } = {}): Promise<LiveAsteriskAvailability> {
  const key = options.image ?? '';
  let cached = availabilityCache.get(key);
  if (cached === undefined) {
    cached = checkAvailability(options.image).catch(
      (err: unknown): LiveAsteriskAvailability => ({ ok: false, reason: err instanceof Error ? err.message : String(err) }),
    );
    availabilityCache.set(key, cached);
  }
  return cached;
}

// ---------------------------------------------------------------------------
// Container output
// ---------------------------------------------------------------------------

const MAX_LOG_CHARS = 16 * 1024 * 1024;

class ConsoleLog {
  text = '';
  /** Total characters ever received (text may have been trimmed at the front). */
  received = 0;
  readonly finishedCalls = new Set<string>();
  readonly signals = new Set<string>();
  private partial = '';
  private readonly listeners = new Set<(line: string) => void>();

  attach(stream: Readable): void {
    stream.on('data', (chunkData: Buffer | string) => this.push(typeof chunkData === 'string' ? chunkData : chunkData.toString('utf8')));
    stream.on('error', () => undefined);
  }

  private push(data: string): void {
    this.text += data;
    this.received += data.length;
    if (this.text.length > MAX_LOG_CHARS) this.text = this.text.slice(this.text.length - MAX_LOG_CHARS / 2);
    const lines = (this.partial + data).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const done = DONE_MARKER.exec(line);
      if (done?.[1] !== undefined) this.finishedCalls.add(done[1]);
      const sig = SIGNAL_MARKER.exec(line);
      if (sig?.[1] !== undefined && sig[2] !== undefined) this.signals.add(`${sig[1]} ${sig[2]}`);
      for (const listener of this.listeners) listener(line);
    }
  }

  /** Resolve when the next complete line arrives or after `ms`. */
  nextLine(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.listeners.delete(finish);
        resolve();
      };
      const timer = setTimeout(finish, Math.max(0, ms));
      this.listeners.add(finish);
    });
  }

  onLine(listener: (line: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

// ---------------------------------------------------------------------------
// Starting Asterisk
// ---------------------------------------------------------------------------

/** PID 1 of the container: `sh -c LAUNCHER <lifetime seconds> <asterisk args...>`. */
const LAUNCHER = [
  'timeout "$0" /usr/sbin/asterisk "$@" &',
  'pid=$!',
  "trap 'kill -TERM $pid 2>/dev/null' TERM INT",
  'wait $pid',
  'status=$?',
  'wait $pid 2>/dev/null',
  'exit $status',
].join('\n');

/**
 * Start Asterisk in a container with host networking and wait until it is
 * fully booted.
 *
 * @param options - image, configuration, files to copy or mount
 * @returns the running Asterisk
 * @throws LiveAsteriskUnavailableError if Docker or the image is unavailable
 */
export async function startAsterisk(options: StartAsteriskOptions = {}): Promise<LiveAsterisk> {
  const availability = await liveAsteriskAvailable(options.image === undefined ? {} : { image: options.image });
  if (!availability.ok) throw new LiveAsteriskUnavailableError(availability.reason);
  const image = availability.image;

  process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
  // testcontainers finds "the Docker host" through the gateway of the
  // default bridge network when it runs inside a container, and fails when
  // the engine has no bridge (dockerd --bridge=none). With host networking
  // and a local engine the host is this machine.
  const dockerHost = process.env['DOCKER_HOST'];
  if (dockerHost === undefined || dockerHost === '' || dockerHost.startsWith('unix:')) {
    process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= '127.0.0.1';
  }
  const { GenericContainer, Wait } = await import('testcontainers');

  const configDir = options.configDir ?? defaultAsteriskConfigDir();
  const configFiles = readdirSync(configDir)
    .filter((name) => name.endsWith('.conf'))
    .map((name) => ({ source: path.join(configDir, name), target: `/etc/asterisk/${name}` }));
  if (!configFiles.some((f) => f.target === '/etc/asterisk/asterisk.conf') && options.config?.['asterisk.conf'] === undefined) {
    throw new Error(`${configDir} has no asterisk.conf`);
  }

  const verbosity = Math.max(0, Math.floor(options.verbosity ?? 3));
  const lifetime = Math.max(60, Math.floor(options.maxLifetimeSeconds ?? 3600));
  // Asterisk in the foreground (-f), without colours (-n), with a timestamp
  // on every console line (-T), under `timeout`
  // so that a container nobody stops still goes away. `timeout` cannot be
  // PID 1 (it exits with status 125 there), so a small shell is, and passes
  // docker stop's SIGTERM on.
  const asteriskArgs = ['-f', '-n', '-T'];
  if (verbosity > 0) asteriskArgs.push(`-${'v'.repeat(verbosity)}`);
  const command = ['sh', '-c', LAUNCHER, String(lifetime), ...asteriskArgs];

  const consoleLog = new ConsoleLog();
  let container = new GenericContainer(image)
    .withNetworkMode('host')
    .withCommand(command)
    .withAutoRemove(true)
    .withLabels({ 'org.agikit.role': 'live-asterisk' })
    .withCopyFilesToContainer(configFiles)
    .withWaitStrategy(Wait.forSuccessfulCommand('asterisk -rx "core waitfullybooted"'))
    .withStartupTimeout(options.startupTimeoutMs ?? 60_000)
    .withLogConsumer((stream) => consoleLog.attach(stream));
  const extraConfig = Object.entries(options.config ?? {});
  if (extraConfig.length > 0) {
    container = container.withCopyContentToContainer(
      extraConfig.map(([name, content]) => ({ content, target: `/etc/asterisk/${name}` })),
    );
  }
  const files: { source: string; target: string; mode?: number }[] = [];
  const dirs: { source: string; target: string }[] = [];
  for (const spec of options.copy ?? []) {
    if (statSync(spec.source).isDirectory()) dirs.push({ source: spec.source, target: spec.target });
    else files.push(spec.mode === undefined ? { source: spec.source, target: spec.target } : { ...spec });
  }
  if (files.length > 0) container = container.withCopyFilesToContainer(files);
  if (dirs.length > 0) container = container.withCopyDirectoriesToContainer(dirs);
  if (options.bindMounts !== undefined && options.bindMounts.length > 0) {
    container = container.withBindMounts(
      options.bindMounts.map((m) => ({ source: m.source, target: m.target, mode: m.readOnly === false ? 'rw' : 'ro' })),
    );
  }
  if (options.env !== undefined) container = container.withEnvironment({ ...options.env });

  let started: StartedTestContainer;
  try {
    started = await container.start();
  } catch (err) {
    const tail = consoleLog.text.split('\n').slice(-30).join('\n');
    throw new Error(`Asterisk container did not start: ${err instanceof Error ? err.message : String(err)}\n${tail}`, {
      cause: err,
    });
  }
  const live = new RunningAsterisk(started, image, consoleLog);
  try {
    await live.init();
  } catch (err) {
    await live.stop();
    throw err;
  }
  return live;
}

// ---------------------------------------------------------------------------
// The running container
// ---------------------------------------------------------------------------

let callCounter = 0;

function newCallId(): string {
  callCounter += 1;
  return `c${callCounter.toString(36)}${randomBytes(4).toString('hex')}`;
}

function assertName(name: string, what: string): void {
  if (!NAME_PATTERN.test(name)) throw new Error(`invalid ${what} ${JSON.stringify(name)}: use letters, digits, _ . -`);
}

function assertNoLineBreaks(value: string, what: string): void {
  if (/[\r\n\0]/.test(value)) throw new Error(`${what} must not contain line breaks or NUL: ${JSON.stringify(value)}`);
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

function parseLocation(raw: string | undefined): DialplanLocation | undefined {
  if (raw === undefined) return undefined;
  const m = /^(.*),([^,]*),(-?\d+)$/.exec(raw);
  if (m === null || m[1] === undefined || m[2] === undefined || m[3] === undefined) return undefined;
  return { context: m[1], extension: m[2], priority: Number(m[3]) };
}

/** Collects the priorities of one generated extension. */
class ExtensionBuilder {
  readonly priorities: { application: string; data: string }[] = [];
  private temp = 0;

  add(application: string, data = ''): void {
    this.priorities.push({ application, data });
  }

  /**
   * Text for an application argument that arrives literally as `value`.
   * Values with `$` or that are long go through a channel variable holding
   * base64, since substitution cannot be escaped and CLI commands are short.
   */
  argument(value: string, viaVariable = false): string {
    const escaped = escapeAppArgument(value);
    if (!viaVariable && !needsSubstitutionGuard(value) && escaped.length <= 200) return escaped;
    return `\${BASE64_DECODE(\${${this.stash(base64(escaped))}})}`;
  }

  /** Text for the value part of Set(NAME=...) that yields `value` literally. */
  setValue(value: string): string {
    if (/^[A-Za-z0-9_.:/@+%=-]{0,200}$/.test(value)) return value;
    return `\${BASE64_DECODE(\${${this.stash(base64(value))}})}`;
  }

  private stash(b64: string): string {
    this.temp += 1;
    const name = `AGIKIT_T${this.temp}`;
    const parts = chunk(b64, 300);
    parts.forEach((part, i) => this.add('Set', i === 0 ? `${name}=${part}` : `${name}=\${${name}}${part}`));
    return name;
  }

  commands(context: string, extension: string): string[] {
    return this.priorities.map((p, i) => addExtensionCommand(context, extension, i + 1, p.application, p.data));
  }
}

function compileFarStep(step: FarStep, id: string, ext: ExtensionBuilder): void {
  const D = AGIKIT_DIALPLAN;
  switch (step.kind) {
    case 'waitFor': {
      assertName(step.signal, 'signal name');
      const polls = Math.max(1, Math.ceil((step.timeoutMs ?? 10_000) / SYNC_POLL_MS));
      ext.add('Gosub', `agikit-sync,wait,1(${id},${step.signal},${polls})`);
      return;
    }
    case 'signal':
      assertName(step.signal, 'signal name');
      ext.add('Set', `DB(${D.syncFamily}/${id}/${step.signal})=1`);
      ext.add('Verbose', `0,AGIKIT-SIGNAL ${id} ${step.signal}`);
      return;
    case 'dtmf': {
      if (!/^[0-9A-Da-d*#wW]+$/.test(step.digits)) throw new Error(`invalid DTMF digits ${JSON.stringify(step.digits)}`);
      const parts = [step.digits];
      if (step.betweenMs !== undefined || step.durationMs !== undefined) parts.push(step.betweenMs === undefined ? '' : String(Math.round(step.betweenMs)));
      if (step.durationMs !== undefined) parts.push(String(Math.round(step.durationMs)));
      ext.add('SendDTMF', parts.join(','));
      return;
    }
    case 'playback':
      if (step.files.length === 0) throw new Error('far.playback() needs at least one file');
      for (const f of step.files) if (!FILE_PATTERN.test(f)) throw new Error(`invalid sound file name ${JSON.stringify(f)}`);
      ext.add('Playback', step.files.join('&'));
      return;
    case 'silence': {
      let left = Math.floor(step.seconds);
      if (left < 1) throw new Error('far.silence() needs at least 1 second');
      const files: string[] = [];
      while (left > 0) {
        const n = Math.min(10, left);
        files.push(`silence/${n}`);
        left -= n;
      }
      ext.add('Playback', files.join('&'));
      return;
    }
    case 'wait':
      if (!(step.seconds >= 0)) throw new Error('far.wait() needs a non-negative number of seconds');
      ext.add('Wait', String(step.seconds));
      return;
    case 'read': {
      assertName(step.name, 'read name');
      const max = step.maxDigits === undefined ? '' : String(Math.floor(step.maxDigits));
      const timeout = String(step.timeoutSeconds ?? 10);
      ext.add('Read', `AGIKIT_FAR_READ,,${max},,1,${timeout}`);
      ext.add('Set', `DB(${D.resultFamily}/${id}/far-read-${step.name})=\${AGIKIT_FAR_READ}`);
      return;
    }
    case 'record': {
      if (!FILE_PATTERN.test(step.path) || !/\.[a-z0-9]+$/.test(step.path)) {
        throw new Error(`invalid recording path ${JSON.stringify(step.path)} (needs a format extension such as .wav)`);
      }
      const silence = String(Math.floor(step.silenceSeconds ?? 0));
      const max = String(Math.floor(step.maxSeconds ?? 10));
      // q: no beep, x: DTMF does not stop it, k: keep the file on hangup.
      ext.add('Record', `${step.path},${silence},${max},qxk`);
      return;
    }
    case 'echo':
      ext.add('Echo');
      return;
    case 'hangup':
      ext.add('Hangup', step.cause === undefined ? '' : String(Math.floor(step.cause)));
      return;
    case 'app':
      if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(step.application)) throw new Error(`invalid application ${JSON.stringify(step.application)}`);
      assertNoLineBreaks(step.data, 'application data');
      ext.add(step.application, step.data);
      return;
  }
}

class RunningAsterisk implements LiveAsterisk {
  readonly image: string;
  readonly containerId: string;
  version = '';
  private readonly container: StartedTestContainer;
  private readonly consoleLog: ConsoleLog;
  private stopped: Promise<void> | undefined;

  constructor(container: StartedTestContainer, image: string, consoleLog: ConsoleLog) {
    this.container = container;
    this.image = image;
    this.containerId = container.getId();
    this.consoleLog = consoleLog;
  }

  async init(): Promise<void> {
    const out = await this.cli('core show version');
    this.version = out.split('\n')[0]?.trim() ?? '';
  }

  async exec(argv: readonly string[]): Promise<ExecOutput> {
    const r = await this.container.exec([...argv]);
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  }

  async cli(command: string): Promise<string> {
    const [out] = await this.cliMany([command]);
    return out ?? '';
  }

  async cliMany(commands: readonly string[]): Promise<string[]> {
    if (commands.length === 0) return [];
    for (const c of commands) {
      assertNoLineBreaks(c, 'CLI command');
      const bytes = cliCommandBytes(c);
      if (bytes > MAX_CLI_COMMAND_BYTES) {
        throw new Error(
          `CLI command of ${bytes} bytes is too long (Asterisk's remote console ignores commands of about 496 bytes or more): ${c.slice(0, 80)}...`,
        );
      }
    }
    const sep = `--agikit-${randomBytes(8).toString('hex')}--`;
    const script = 'sep=$1; shift; for c in "$@"; do asterisk -rx "$c" 2>&1; printf "\\n%s %s\\n" "$sep" "$?"; done';
    const r = await this.container.exec(['sh', '-c', script, 'sh', sep, ...commands]);
    const outputs: string[] = [];
    let rest = r.stdout;
    for (const command of commands) {
      const at = rest.indexOf(`\n${sep} `);
      if (at < 0) throw new Error(`no output for CLI command ${JSON.stringify(command)} (exec exit ${r.exitCode}): ${r.stdout}${r.stderr}`);
      const text = rest.slice(0, at);
      const eol = rest.indexOf('\n', at + sep.length + 2);
      const code = Number(rest.slice(at + sep.length + 2, eol < 0 ? undefined : eol));
      rest = eol < 0 ? '' : rest.slice(eol + 1);
      if (code !== 0) throw new Error(`asterisk -rx ${JSON.stringify(command)} failed (exit ${code}): ${text.trim()}`);
      outputs.push(text);
    }
    return outputs;
  }

  async dbGet(family: string, key: string): Promise<string | undefined> {
    const out = await this.cli(`database get ${cliQuote(family)} ${cliQuote(key)}`);
    const m = /^Value: (.*)$/m.exec(out);
    return m?.[1];
  }

  async dbPut(family: string, key: string, value: string): Promise<void> {
    const out = await this.cli(`database put ${cliQuote(family)} ${cliQuote(key)} ${cliQuote(value)}`);
    if (!out.includes('Updated database successfully')) throw new Error(`database put ${family}/${key} failed: ${out.trim()}`);
  }

  async dbDel(family: string, key: string): Promise<void> {
    await this.cli(`database del ${cliQuote(family)} ${cliQuote(key)}`);
  }

  async dbDeltree(family: string): Promise<void> {
    await this.cli(`database deltree ${cliQuote(family)}`);
  }

  async setGlobal(name: string, value: string): Promise<void> {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid variable name ${JSON.stringify(name)}`);
    await this.cli(`dialplan set global ${name} ${cliQuote(value)}`);
  }

  async getGlobal(name: string): Promise<string> {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid variable name ${JSON.stringify(name)}`);
    const out = await this.cli(`dialplan eval function GLOBAL(${name})`);
    const m = /^Result: (.*)$/m.exec(out);
    if (m === null) throw new Error(`cannot read global ${name}: ${out.trim()}`);
    return m[1] ?? '';
  }

  async copy(spec: CopySpec): Promise<void> {
    if (statSync(spec.source).isDirectory()) {
      await this.container.copyDirectoriesToContainer([{ source: spec.source, target: spec.target }]);
    } else {
      await this.container.copyFilesToContainer([
        spec.mode === undefined ? { source: spec.source, target: spec.target } : { source: spec.source, target: spec.target, mode: spec.mode },
      ]);
    }
  }

  async writeFile(target: string, content: string | Uint8Array, mode?: number): Promise<void> {
    const data = typeof content === 'string' ? content : Buffer.from(content);
    await this.container.copyContentToContainer([mode === undefined ? { content: data, target } : { content: data, target, mode }]);
  }

  async readFile(target: string): Promise<Buffer> {
    const r = await this.exec(['base64', '-w0', target]);
    if (r.exitCode !== 0) throw new Error(`cannot read ${target}: ${r.stderr.trim()}`);
    return Buffer.from(r.stdout, 'base64');
  }

  logs(): string {
    return this.consoleLog.text;
  }

  async waitForLog(pattern: RegExp | string, options: { readonly timeoutMs?: number; readonly fromStart?: boolean } = {}): Promise<string> {
    const test = (line: string): boolean => (typeof pattern === 'string' ? line.includes(pattern) : pattern.test(line));
    if (options.fromStart === true) {
      const hit = this.consoleLog.text.split('\n').find(test);
      if (hit !== undefined) return hit;
    }
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no console line matching ${String(pattern)} within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.consoleLog.onLine((line) => {
        if (!test(line)) return;
        clearTimeout(timer);
        off();
        resolve(line);
      });
    });
  }

  async originate(options: OriginateOptions): Promise<LiveCall> {
    const D = AGIKIT_DIALPLAN;
    const id = options.callId ?? newCallId();
    if (!CALL_ID_PATTERN.test(id)) throw new Error(`invalid call id ${JSON.stringify(id)}: letters and digits only`);
    const timeoutMs = options.timeoutMs ?? 30_000;
    const record = options.record ?? [];
    for (const name of record) {
      if (!VARIABLE_PATTERN.test(name)) throw new Error(`cannot record ${JSON.stringify(name)}: use NAME or FUNC(args) without & or nested ()`);
    }

    // AGI side: Local ;1, runs <id>@agikit-app once the far leg answered.
    const app = new ExtensionBuilder();
    app.add('Set', `AGIKIT_CALL=${id}`);
    app.add('Set', `AGIKIT_RECORD=${record.join('&')}`);
    app.add('Set', `CHANNEL(hangup_handler_push)=agikit-hangup,s,1(${id})`);
    if (options.callerId?.number !== undefined) app.add('Set', `CALLERID(num)=${app.setValue(options.callerId.number)}`);
    if (options.callerId?.name !== undefined) app.add('Set', `CALLERID(name)=${app.setValue(options.callerId.name)}`);
    for (const [name, value] of Object.entries(options.variables ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid variable name ${JSON.stringify(name)}`);
      app.add('Set', `${name}=${app.setValue(value)}`);
    }
    const target = typeof options.agi === 'string' ? options.agi : fastAgiUrl(options.agi.port, options.agi.route ?? '', options.agi.host);
    const rawArgs = [target, ...(options.args ?? [])];
    rawArgs.forEach((arg, i) => assertNoLineBreaks(arg, i === 0 ? 'AGI target' : 'AGI argument'));
    const application = options.application ?? 'AGI';
    // If the plain AGI() line would not fit in one CLI command, pass every
    // argument through a channel variable.
    const plainLine = addExtensionCommand(D.appContext, id, 99, application, rawArgs.map(escapeAppArgument).join(','));
    const viaVariables = cliCommandBytes(plainLine) > MAX_CLI_COMMAND_BYTES;
    app.add(application, rawArgs.map((arg) => app.argument(arg, viaVariables)).join(','));
    app.add('Hangup');

    // Far leg: Local ;2, answers first, then the steps, then holds the line.
    const farLeg = new ExtensionBuilder();
    // Option i: return at once; plain Answer() waits up to 500 ms for a
    // first media frame, which never comes over a silent Local channel.
    farLeg.add('Answer', ',i');
    for (const step of options.far ?? []) compileFarStep(step, id, farLeg);
    farLeg.add('Wait', String(Math.ceil(timeoutMs / 1000) + 5));
    farLeg.add('Hangup');

    const adds = [...farLeg.commands(D.farContext, id), ...app.commands(D.appContext, id)];
    const startedAt = Date.now();
    const outputs = await this.cliMany(adds);
    outputs.forEach((out, i) => {
      if (!out.includes('added into')) throw new Error(`${adds[i] ?? ''} failed: ${out.trim()}`);
    });
    const originateOut = await this.cli(`channel originate Local/${id}@${D.farContext}/n extension ${id}@${D.appContext}`);
    if (originateOut.trim() !== '') throw new Error(`channel originate failed: ${originateOut.trim()}`);

    const result = this.awaitCall(id, startedAt, timeoutMs, options.keep === true);
    result.catch(() => undefined);
    return {
      id,
      appContext: D.appContext,
      signal: (name: string) => {
        assertName(name, 'signal name');
        return this.dbPut(`${D.syncFamily}/${id}`, name, '1');
      },
      waitForSignal: (name: string, signalTimeoutMs = 10_000) => this.waitForSignal(id, name, signalTimeoutMs),
      result: () => result,
      hangup: () => this.hangupCall(id),
    };
  }

  private async waitUntil(fast: () => boolean, slow: () => Promise<boolean>, deadline: number, slowEveryMs: number): Promise<boolean> {
    let nextSlow = Date.now() + slowEveryMs;
    for (;;) {
      if (fast()) return true;
      const now = Date.now();
      if (now >= deadline) return false;
      if (now >= nextSlow) {
        if (await slow()) return true;
        nextSlow = Date.now() + slowEveryMs;
        continue;
      }
      await this.consoleLog.nextLine(Math.min(deadline, nextSlow) - now);
    }
  }

  private async waitForSignal(id: string, name: string, timeoutMs: number): Promise<void> {
    assertName(name, 'signal name');
    const family = `${AGIKIT_DIALPLAN.syncFamily}/${id}`;
    const ok = await this.waitUntil(
      () => this.consoleLog.signals.has(`${id} ${name}`),
      async () => (await this.dbGet(family, name)) !== undefined,
      Date.now() + timeoutMs,
      100,
    );
    if (!ok) throw new Error(`call ${id}: signal '${name}' was not raised within ${timeoutMs} ms`);
  }

  private async callChannels(id: string): Promise<string[]> {
    const out = await this.cli('core show channels concise');
    return out
      .split('\n')
      .map((line) => line.split('!')[0] ?? '')
      .filter((name) => name.startsWith(`Local/${id}@`));
  }

  private async hangupCall(id: string): Promise<void> {
    const channels = await this.callChannels(id);
    if (channels.length > 0) await this.cliMany(channels.map((c) => `channel request hangup ${c}`));
  }

  private async cleanupCall(id: string): Promise<void> {
    const D = AGIKIT_DIALPLAN;
    await this.cliMany([
      `dialplan remove extension ${id}@${D.appContext}`,
      `dialplan remove extension ${id}@${D.farContext}`,
      `database deltree ${D.syncFamily}/${id}`,
      `database deltree ${D.resultFamily}/${id}`,
    ]);
  }

  private async awaitCall(id: string, startedAt: number, timeoutMs: number, keep: boolean): Promise<CallResult> {
    const D = AGIKIT_DIALPLAN;
    const family = `${D.resultFamily}/${id}`;
    const finished = await this.waitUntil(
      () => this.consoleLog.finishedCalls.has(id),
      async () => (await this.dbGet(family, 'done')) !== undefined,
      startedAt + timeoutMs,
      1000,
    );
    const endedAt = Date.now();
    if (!finished) {
      const channels = await this.callChannels(id).catch(() => []);
      await this.hangupCall(id).catch(() => undefined);
      const related = this.consoleLog.text
        .split('\n')
        .filter((line) => line.includes(id))
        .slice(-25)
        .join('\n');
      if (!keep) await this.cleanupCall(id).catch(() => undefined);
      throw new Error(
        `call ${id} did not end within ${timeoutMs} ms (channels still up: ${channels.join(', ') || 'none'})\n${related}`,
      );
    }
    const entries = parseDatabaseShow(await this.cli(`database show ${family}`), family);
    if (!keep) await this.cleanupCall(id);
    const raw = new Map(entries.map((e) => [e.key, e.value]));
    const variables: Record<string, string> = {};
    const farDigits: Record<string, string> = {};
    for (const [key, value] of raw) {
      if (key.startsWith('var-')) variables[key.slice(4)] = Buffer.from(value, 'base64').toString('utf8');
      else if (key.startsWith('far-read-')) farDigits[key.slice(9)] = value;
    }
    const cause = raw.get('hangupcause');
    return {
      id,
      agiStatus: raw.get('agistatus') ?? '',
      location: parseLocation(raw.get('location')),
      hangupCause: cause === undefined || cause === '' ? undefined : Number(cause),
      variables,
      farDigits,
      farTimeout: raw.get('far-timeout'),
      durationMs: endedAt - startedAt,
    };
  }

  stop(): Promise<void> {
    this.stopped ??= this.container.stop({ timeout: 2000 }).then(
      () => undefined,
      () => undefined,
    );
    return this.stopped;
  }
}
