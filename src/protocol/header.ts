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
  readonly raw: Record<string, string>;
  /** FastAGI script path with a leading `/` and without the query, e.g. `/ivr/main`; `/` if none. */
  path: string;
  /** FastAGI query string parameters (`agi://host/ivr?lang=fr` gives `lang=fr`). */
  readonly query: URLSearchParams;
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
 * The keys Asterisk sends, as shared string constants: a header keeps its keys for the whole call,
 * and 24 fresh copies per call add up over 10,000 idle calls.
 */
const CANONICAL_KEYS = new Map<string, string>(
  [
    'agi_network', 'agi_network_script', 'agi_request', 'agi_channel', 'agi_language', 'agi_type',
    'agi_uniqueid', 'agi_version', 'agi_callerid', 'agi_calleridname', 'agi_callingpres',
    'agi_callingani2', 'agi_callington', 'agi_callingtns', 'agi_dnid', 'agi_rdnis', 'agi_context',
    'agi_extension', 'agi_priority', 'agi_enhanced', 'agi_accountcode', 'agi_threadid',
    ...Array.from({ length: 32 }, (_, i) => `agi_arg_${i + 1}`),
  ].map((key) => [key, key]),
);

/**
 * Reads header lines one at a time until the empty line that ends the header.
 * Pure and incremental, so the I/O shell can feed it lines as they arrive.
 */
export class HeaderReader {
  /**
   * Keys and values alternately, as received (a flat array costs far less than a 24-key record),
   * sized for Asterisk's usual header up front so that it is not regrown three times per call.
   */
  private readonly pairs: string[] = new Array<string>(PAIRS_SIZE);
  private count = 0;
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
      if (this.lines === 0) return undefined;
      this.pairs.length = this.count;
      return new ParsedHeader(this.pairs, true);
    }
    this.lines += 1;
    this.bytes += Buffer.byteLength(line) + 1;
    if (this.lines > this.limits.maxLines) {
      throw new AgiProtocolError(`AGI header exceeds ${this.limits.maxLines} lines`);
    }
    if (this.bytes > this.limits.maxBytes) {
      throw new AgiProtocolError(`AGI header exceeds ${this.limits.maxBytes} bytes`);
    }
    // Keys and whole lines: a value is cut out of its line when it is read (most never are).
    this.pairs[this.count] = headerKey(line);
    this.pairs[this.count + 1] = line;
    this.count += 2;
    return undefined;
  }
}

/**
 * Splits `key: value` at the first colon and drops exactly one separator space (or TAB); the value
 * is otherwise kept verbatim, so URLs with `:` and trailing spaces survive.
 */
export function splitHeaderLine(line: string): [string, string] {
  return [headerKey(line), headerValue(line)];
}

/** Room for the pairs of Asterisk 22's 22 standard keys and a few arguments. */
const PAIRS_SIZE = 64;

/** The key of a header line (a shared constant for Asterisk's keys); throws for a line that is not one. */
function headerKey(line: string): string {
  const colon = line.indexOf(':');
  const key = colon === -1 ? line : line.slice(0, colon);
  if (colon === -1 || !KEY.test(key)) {
    throw new AgiProtocolError(`not an AGI header line: ${JSON.stringify(line.slice(0, 80))}`);
  }
  return CANONICAL_KEYS.get(key) ?? key;
}

/** The value of a header line {@link headerKey} accepted: after the first colon and one space or TAB. */
function headerValue(line: string): string {
  let start = line.indexOf(':') + 1;
  const sep = line.charCodeAt(start);
  if (sep === 32 || sep === 9) start += 1;
  return line.slice(start);
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

/** Builds the typed header from `agi_*` keys and values given alternately (`['agi_channel', 'SIP/a', …]`). */
export function buildHeader(pairs: readonly string[]): AgiHeader {
  return new ParsedHeader(pairs, false);
}

/** The value of an integer field; 0 when absent or not a number. */
function toInt(value: string): number {
  const n = Number.parseInt(value, 10);
  return Number.isFinite(n) ? n : 0;
}

/** Caller ID, DNID and RDNIS: Asterisk's `unknown` placeholder means none. */
function known(value: string): string | null {
  return value === 'unknown' ? null : value;
}

/**
 * A parsed header. `raw` and `query` are built on first use: most calls never read them, and a
 * 24-key record per call is most of what 10,000 idle calls would otherwise keep.
 */
class ParsedHeader implements AgiHeader {
  readonly path: string;
  private envValue: AgiEnv | undefined;
  private argsValue: string[] | undefined;
  private rawRecord: Record<string, string> | undefined;
  private queryParams: URLSearchParams | undefined;

  /**
   * @param pairs keys and values alternately, or keys and their whole lines (`lines`), the value
   *   then being cut out when read
   */
  constructor(
    private readonly pairs: readonly string[],
    private readonly lines: boolean,
  ) {
    // The path routes the call: read it now; the rest is typed on first use (most calls read little of it).
    this.path = scriptPath(this.field('agi_network_script') ?? '');
  }

  /** The value of one `agi_*` key as received (the last one if repeated), or `undefined`. */
  field(key: string): string | undefined {
    for (let i = this.pairs.length - 2; i >= 0; i -= 2) if (this.pairs[i] === key) return this.valueAt(i);
    return undefined;
  }

  /** The value of the pair at `i`. */
  private valueAt(i: number): string {
    const value = this.pairs[i + 1] as string;
    return this.lines ? headerValue(value) : value;
  }

  get env(): AgiEnv {
    return (this.envValue ??= this.typedEnv());
  }

  get args(): string[] {
    if (!this.argsValue) {
      const args: string[] = [];
      const pairs = this.pairs;
      for (let i = 0; i < pairs.length; i += 2) {
        const key = pairs[i] as string;
        if (!key.startsWith('agi_arg_')) continue;
        const n = Number(key.slice(8));
        if (Number.isInteger(n) && n >= 1 && n <= 1024) args[n - 1] = this.valueAt(i);
      }
      // agi_arg_N are numbered without gaps by Asterisk; a gap (from elsewhere) reads as ''.
      for (let i = 0; i < args.length; i++) if (args[i] === undefined) args[i] = '';
      this.argsValue = args;
    }
    return this.argsValue;
  }

  private typedEnv(): AgiEnv {
    const env: AgiEnv = {
      request: '',
      channel: '',
      language: '',
      type: '',
      uniqueid: '',
      version: '',
      callerid: null,
      calleridname: null,
      callingpres: 0,
      callingani2: 0,
      callington: 0,
      callingtns: 0,
      dnid: null,
      rdnis: null,
      context: '',
      extension: '',
      priority: 0,
      enhanced: false,
      accountcode: '',
      threadid: '',
      network: false,
      networkScript: '',
    };
    const pairs = this.pairs;
    for (let i = 0; i < pairs.length; i += 2) {
      const key = pairs[i] as string;
      const value = this.valueAt(i);
      switch (key) {
        case 'agi_request': env.request = value; break;
        case 'agi_channel': env.channel = value; break;
        case 'agi_language': env.language = value; break;
        case 'agi_type': env.type = value; break;
        case 'agi_uniqueid': env.uniqueid = value; break;
        case 'agi_version': env.version = value; break;
        case 'agi_callerid': env.callerid = known(value); break;
        case 'agi_calleridname': env.calleridname = known(value); break;
        case 'agi_callingpres': env.callingpres = toInt(value); break;
        case 'agi_callingani2': env.callingani2 = toInt(value); break;
        case 'agi_callington': env.callington = toInt(value); break;
        case 'agi_callingtns': env.callingtns = toInt(value); break;
        case 'agi_dnid': env.dnid = known(value); break;
        case 'agi_rdnis': env.rdnis = known(value); break;
        case 'agi_context': env.context = value; break;
        case 'agi_extension': env.extension = value; break;
        case 'agi_priority': env.priority = toInt(value); break;
        case 'agi_enhanced': env.enhanced = Number.parseFloat(value) > 0; break;
        case 'agi_accountcode': env.accountcode = value; break;
        case 'agi_threadid': env.threadid = value; break;
        case 'agi_network': env.network = value === 'yes'; break;
        case 'agi_network_script': env.networkScript = value; break;
        default:
      }
    }
    return env;
  }

  get raw(): Record<string, string> {
    if (!this.rawRecord) {
      const raw: Record<string, string> = {};
      for (let i = 0; i < this.pairs.length; i += 2) raw[this.pairs[i] as string] = this.valueAt(i);
      this.rawRecord = raw;
    }
    return this.rawRecord;
  }

  get query(): URLSearchParams {
    this.queryParams ??= new URLSearchParams(scriptParts(this.field('agi_network_script') ?? '').queryText);
    return this.queryParams;
  }
}

/**
 * Splits the FastAGI script part (`ivr/main?lang=en`, verbatim from the URL) into a path with a
 * leading slash and its query. Asterisk does no URL decoding; the query follows URL rules.
 */
export function splitScript(script: string): { path: string; query: URLSearchParams } {
  const { path, queryText } = scriptParts(script);
  return { path, query: new URLSearchParams(queryText) };
}

/** The script's path alone (as {@link scriptParts}), with no regex or object per call. */
function scriptPath(script: string): string {
  const q = script.indexOf('?');
  let from = 0;
  while (script.charCodeAt(from) === 47) from++;
  const end = q === -1 ? script.length : q;
  // `ivr/main` → `/ivr/main`; an already rooted `/ivr/main` is returned as it is.
  if (from === 1 && end === script.length) return script;
  return `/${script.slice(from, end)}`;
}

/**
 * One `agi_*` value of a header as received, without typing the whole environment when the header
 * is agikit's own (for a value needed on every call, such as `agi_version`).
 */
export function headerField(header: AgiHeader, key: 'agi_version'): string {
  return header instanceof ParsedHeader ? (header.field(key) ?? '') : header.env.version;
}

/** The script's path (exactly one leading slash) and its query text, unparsed. */
function scriptParts(script: string): { path: string; queryText: string } {
  const q = script.indexOf('?');
  const pathPart = q === -1 ? script : script.slice(0, q);
  return { path: `/${pathPart.replace(/^\/+/, '')}`, queryText: q === -1 ? '' : script.slice(q + 1) };
}
