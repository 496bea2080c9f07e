import { AgiProtocolError } from '../errors.js';

/**
 * The `agi_*` environment Asterisk sends when a session starts, typed.
 *
 * Values are as Asterisk sent them, with one exception: the placeholder `unknown`, which Asterisk
 * writes when caller ID, DNID or RDNIS is empty or invalid, becomes `null`. The verbatim text of
 * every line (including keys agikit does not know) stays in {@link AgiHeader.raw}.
 */
export interface AgiEnv {
  /** `agi_request`: the full `agi://…` URL (FastAGI) or the script path (stdio AGI). */
  request: string;
  /** `agi_channel`, e.g. `PJSIP/alice-00000001`. */
  channel: string;
  /** `agi_language`, e.g. `en`. */
  language: string;
  /** `agi_type`: the channel technology, e.g. `PJSIP`, `Local`. */
  type: string;
  /** `agi_uniqueid`, e.g. `1723456789.12`. */
  uniqueid: string;
  /** `agi_version`: the Asterisk version, e.g. `22.6.0`. */
  version: string;
  /** `agi_callerid`: caller number, `null` when Asterisk sent `unknown`. */
  callerid: string | null;
  /** `agi_calleridname`: caller name, `null` when Asterisk sent `unknown`. */
  calleridname: string | null;
  /** `agi_callingpres`: caller ID presentation (integer). */
  callingpres: number;
  /** `agi_callingani2`: ANI2 (integer). */
  callingani2: number;
  /** `agi_callington`: type of number / numbering plan (integer). */
  callington: number;
  /** `agi_callingtns`: transit network select (integer). */
  callingtns: number;
  /** `agi_dnid`: dialed number, `null` when Asterisk sent `unknown`. */
  dnid: string | null;
  /** `agi_rdnis`: redirecting number, `null` when Asterisk sent `unknown`. */
  rdnis: string | null;
  /** `agi_context`: dialplan context AGI was called from. */
  context: string;
  /** `agi_extension`: dialplan extension AGI was called from. */
  extension: string;
  /** `agi_priority`: dialplan priority AGI was called from. */
  priority: number;
  /** `agi_enhanced`: `true` for EAGI (`1.0`). Never true for FastAGI. */
  enhanced: boolean;
  /** `agi_accountcode`; often empty. */
  accountcode: string;
  /** `agi_threadid`: Asterisk's thread id, kept as text because it does not fit a JS number. */
  threadid: string;
  /** `agi_network`: `true` for FastAGI. */
  network: boolean;
  /** `agi_network_script`: the URL part after `agi://host[:port]/`, query included; `''` if none. */
  networkScript: string;
}

/** Everything a session's header tells: typed env, arguments, and the FastAGI script path and query. */
export interface AgiHeader {
  env: AgiEnv;
  /** `agi_arg_1` … `agi_arg_N`, in order (an empty argument is `''`). */
  args: string[];
  /** Every `key: value` line verbatim, keyed by the full key (`agi_channel`, …), unknown keys included. */
  raw: Record<string, string>;
  /** FastAGI script path with a leading `/` and without the query, e.g. `/ivr/main`; `/` if none. */
  path: string;
  /** FastAGI query string parameters (`agi://host/ivr?lang=fr` gives `lang=fr`). */
  query: URLSearchParams;
}

/** Limits that turn an endless or huge header into a clean error instead of unbounded memory. */
export interface HeaderLimits {
  /** Most `agi_*` lines accepted (default 256). */
  maxLines: number;
  /** Most bytes (UTF-8, including LFs) accepted (default 64 KiB). */
  maxBytes: number;
}

export const DEFAULT_HEADER_LIMITS: HeaderLimits = { maxLines: 256, maxBytes: 64 * 1024 };

const KEY = /^agi_[A-Za-z0-9_]+$/;

/**
 * Reads header lines one at a time until the empty line that ends the header.
 * Pure and incremental, so the I/O shell can feed it lines as they arrive.
 */
export class HeaderReader {
  private readonly raw: Record<string, string> = {};
  private lines = 0;
  private bytes = 0;

  constructor(private readonly limits: HeaderLimits = DEFAULT_HEADER_LIMITS) {}

  /**
   * Feeds one line (without its LF). Returns the parsed header once the terminating empty line
   * arrives, `undefined` while more lines are needed. Throws {@link AgiProtocolError} on input
   * that is not an AGI header or exceeds the limits.
   */
  push(line: string): AgiHeader | undefined {
    // Tolerate CRLF senders in the header; Asterisk itself only ever sends LF.
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line === '') {
      // Stray empty lines before the first key are skipped; after it, the empty line ends the header.
      return this.lines === 0 ? undefined : buildHeader(this.raw);
    }
    this.lines += 1;
    this.bytes += Buffer.byteLength(line) + 1;
    if (this.lines > this.limits.maxLines) {
      throw new AgiProtocolError(`AGI header exceeds ${this.limits.maxLines} lines`);
    }
    if (this.bytes > this.limits.maxBytes) {
      throw new AgiProtocolError(`AGI header exceeds ${this.limits.maxBytes} bytes`);
    }
    addHeaderLine(this.raw, line);
    return undefined;
  }
}

/**
 * Splits `key: value` at the first colon and drops exactly one separator space (or TAB); the value
 * is otherwise kept verbatim, so URLs with `:` and trailing spaces survive.
 */
export function splitHeaderLine(line: string): [string, string] {
  const one: Record<string, string> = {};
  const key = addHeaderLine(one, line);
  return [key, one[key] ?? ''];
}

/** Parses one header line (as {@link splitHeaderLine}) into `raw`; returns its key. */
function addHeaderLine(raw: Record<string, string>, line: string): string {
  const colon = line.indexOf(':');
  const key = colon === -1 ? line : line.slice(0, colon);
  if (colon === -1 || !KEY.test(key)) {
    throw new AgiProtocolError(`not an AGI header line: ${JSON.stringify(line.slice(0, 80))}`);
  }
  let start = colon + 1;
  const sep = line.charCodeAt(start);
  if (sep === 32 || sep === 9) start += 1;
  raw[key] = line.slice(start);
  return key;
}

/** Parses a complete header given as lines (without LFs); the final empty line is optional. */
export function parseHeader(lines: readonly string[], limits?: HeaderLimits): AgiHeader {
  const reader = new HeaderReader(limits);
  for (const line of lines) {
    const header = reader.push(line);
    if (header) return header;
  }
  const header = reader.push('');
  if (!header) throw new AgiProtocolError('empty AGI header');
  return header;
}

/** Builds the typed header from `agi_*` key/value pairs. */
export function buildHeader(raw: Record<string, string>): AgiHeader {
  const text = (key: string): string => raw[key] ?? '';
  const known = (key: string): string | null => {
    const value = raw[key];
    return value === undefined || value === 'unknown' ? null : value;
  };
  const int = (key: string): number => {
    const value = Number.parseInt(text(key), 10);
    return Number.isFinite(value) ? value : 0;
  };
  const networkScript = text('agi_network_script');
  const env: AgiEnv = {
    request: text('agi_request'),
    channel: text('agi_channel'),
    language: text('agi_language'),
    type: text('agi_type'),
    uniqueid: text('agi_uniqueid'),
    version: text('agi_version'),
    callerid: known('agi_callerid'),
    calleridname: known('agi_calleridname'),
    callingpres: int('agi_callingpres'),
    callingani2: int('agi_callingani2'),
    callington: int('agi_callington'),
    callingtns: int('agi_callingtns'),
    dnid: known('agi_dnid'),
    rdnis: known('agi_rdnis'),
    context: text('agi_context'),
    extension: text('agi_extension'),
    priority: int('agi_priority'),
    enhanced: Number.parseFloat(text('agi_enhanced')) > 0,
    accountcode: text('agi_accountcode'),
    threadid: text('agi_threadid'),
    network: text('agi_network') === 'yes',
    networkScript,
  };
  const q = networkScript.indexOf('?');
  const path = scriptPath(q === -1 ? networkScript : networkScript.slice(0, q));
  const queryText = q === -1 ? '' : networkScript.slice(q + 1);
  let query: URLSearchParams | undefined;
  return {
    env,
    args: collectArgs(raw),
    raw,
    path,
    // Parsed on first use: most calls never read their query.
    get query(): URLSearchParams {
      query ??= new URLSearchParams(queryText);
      return query;
    },
  };
}

/** `agi_arg_N` values in numeric order; a gap (never sent by Asterisk) reads as `''`. */
function collectArgs(raw: Record<string, string>): string[] {
  const args: string[] = [];
  for (const key in raw) {
    if (!key.startsWith('agi_arg_')) continue;
    const n = Number(key.slice(8));
    if (Number.isInteger(n) && n >= 1 && n <= 1024) args[n - 1] = raw[key] ?? '';
  }
  for (let i = 0; i < args.length; i++) if (args[i] === undefined) args[i] = '';
  return args;
}

/**
 * Splits the FastAGI script part (`ivr/main?lang=en`, verbatim from the URL) into a path with a
 * leading slash and its query. Asterisk does no URL decoding; the query follows URL rules.
 */
export function splitScript(script: string): { path: string; query: URLSearchParams } {
  const q = script.indexOf('?');
  return {
    path: scriptPath(q === -1 ? script : script.slice(0, q)),
    query: new URLSearchParams(q === -1 ? '' : script.slice(q + 1)),
  };
}

/** The script's path part with exactly one leading slash. */
function scriptPath(pathPart: string): string {
  return `/${pathPart.replace(/^\/+/, '')}`;
}
