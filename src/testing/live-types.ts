/**
 * What the live-Asterisk kit promises: the options of {@link startAsterisk} and
 * {@link LiveAsterisk.originate}, and the shapes of a running Asterisk, a call and its result. The
 * implementations live in container.ts, running-asterisk.ts and live-calls.ts.
 *
 * @module
 */

import type { FarStep } from './far-steps.js';

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
  /**
   * Enable the Asterisk Manager Interface (off by default): a manager.conf with AMI bound to
   * 127.0.0.1 on a port chosen free for this run, and one user, `agikit`, with a random secret and
   * the read and write classes given (`all` by default). {@link startAsterisk} resolves once the
   * manager answers; {@link LiveAsterisk.ami} says where and how to log in. Cannot be combined with
   * a `manager.conf` in {@link StartAsteriskOptions.config}.
   */
  readonly ami?: boolean | LiveAmiOptions;
  /**
   * Give Asterisk a PJSIP loopback (off by default): a UDP transport on 127.0.0.1 at a port chosen
   * free for this run, and an endpoint (`loop`) whose contact is that transport, so that a SIP
   * `MESSAGE` sent with `MessageSend` to `pjsip:PJSIP/<user>@loop` comes back into the same Asterisk,
   * in the endpoint's `message_context` with exten `<user>`. The PJSIP modules are loaded only then
   * (the default Asterisk opens no network socket). {@link LiveAsterisk.pjsip} says where it is.
   * Cannot be combined with a `pjsip.conf` in {@link StartAsteriskOptions.config}.
   */
  readonly pjsipLoopback?: boolean | LivePjsipOptions;
}

/** Names of the PJSIP loopback of {@link StartAsteriskOptions.pjsipLoopback}. */
export interface LivePjsipOptions {
  /** Endpoint name (default `loop`). */
  readonly endpoint?: string;
  /** Dialplan context inbound SIP MESSAGEs go to (default `relay-messages`). */
  readonly messageContext?: string;
  /** Dialplan context inbound calls go to (default `agikit-continue`, which hangs up). */
  readonly context?: string;
}

/** The PJSIP loopback of a live Asterisk ({@link LiveAsterisk.pjsip}). */
export interface PjsipLoopbackAccess {
  /** Always 127.0.0.1. */
  readonly host: string;
  /** The UDP port of the transport, chosen for this run. */
  readonly port: number;
  /** The endpoint: `MessageSend` to `pjsip:PJSIP/<user>@<endpoint>`, `Dial(PJSIP/<user>@<endpoint>)`. */
  readonly endpoint: string;
  /** Where inbound MESSAGEs go (the endpoint's `message_context`). */
  readonly messageContext: string;
  /** Where inbound calls go (the endpoint's `context`). */
  readonly context: string;
}

/** Classes of the AMI user of {@link StartAsteriskOptions.ami}, as in manager.conf. */
export interface LiveAmiOptions {
  /** Event classes it receives, comma-separated (default `all`), e.g. `system,call`. */
  readonly read?: string;
  /** Action classes it may use, comma-separated (default `all`). */
  readonly write?: string;
}

/**
 * Where and how to log in to a live Asterisk's AMI ({@link LiveAsterisk.ami}); the fields are those
 * of `AmiClient.connect`'s options.
 */
export interface AmiAccess {
  /** Always 127.0.0.1. */
  readonly host: string;
  /** The port chosen for this run. */
  readonly port: number;
  /** The manager user. */
  readonly username: string;
  /** Its secret, random per run. */
  readonly secret: string;
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
  /** AMI login when started with {@link StartAsteriskOptions.ami}, else undefined. */
  readonly ami: AmiAccess | undefined;
  /** The PJSIP loopback when started with {@link StartAsteriskOptions.pjsipLoopback}, else undefined. */
  readonly pjsip: PjsipLoopbackAccess | undefined;
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
