import { AgiProtocolError } from '../errors.js';

/** One final reply from Asterisk to one command, parsed but not yet interpreted. */
export interface AgiReply {
  /** Status code: 200, 510, 511, 520 or 503. */
  code: number;
  /** The token after `result=`, verbatim: `'0'`, `'-1'`, `'35'`, a digit string, or `''`. `''` when absent. */
  result: string;
  /** The parenthesised value or keyword (`timeout`, `dtmf`, a variable's value, …), without the parentheses. */
  data: string | undefined;
  /** `key=value` attributes after the result/data, e.g. `{ endpos: '8000' }`; quoted values unquoted. */
  attrs: Record<string, string>;
  /** Text after the status code, or after the result token for 200 lines (e.g. `Gosub complete`). */
  text: string;
  /** For 520: the usage text between `520-…` and `520 End of proper usage.` (may be `''`). */
  usage: string | undefined;
  /** Every line this reply consisted of, provisional `100` lines and usage lines included. */
  lines: string[];
  /** Set (and `code` is 0) when agikit interrupted the command and Asterisk printed no reply for it. */
  interrupted?: boolean;
}

/**
 * How to read a parenthesised value: `keyword` values (`(timeout)`, `(dtmf)`) end at the first `)`
 * and are followed by attributes; `freeText` values (variables, astdb, received text) run to the last
 * `)` and may even span several lines when the value itself contains LF.
 */
export type DataMode = 'keyword' | 'freeText';

/** What one line from Asterisk turned out to be. */
export type ReplyEvent =
  | { kind: 'reply'; reply: AgiReply }
  | { kind: 'hangup' }
  | { kind: 'provisional'; line: string }
  | { kind: 'partial' }
  | { kind: 'unexpected'; line: string };

/** Bound on the lines of a multi-line reply (usage block, free-text value containing LF, `100` lines). */
const MAX_CONTINUATION_LINES = 4096;

/**
 * Default bound on the bytes of one multi-line reply, all its lines and their LFs together. Each line
 * is already bounded on its own (64 KiB by default), but 4,096 of them are not: without this a peer
 * could make one connection hold hundreds of MiB by never closing a value.
 */
export const DEFAULT_MAX_REPLY_BYTES = 64 * 1024;

const HANGUP_EVENT: ReplyEvent = { kind: 'hangup' };

/** What {@link ReplyReader.read} says of a line that did not finish a reply. */
export const enum ReplyStep {
  Hangup,
  Provisional,
  Partial,
  Unexpected,
}

/** `true` for an ASCII digit's char code. */
function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/**
 * Incremental reader for everything Asterisk sends after the header: final replies in every form,
 * `100 … Trying...` provisional lines (gosub), `520-` usage blocks, free-text values spanning lines,
 * and the out-of-band `HANGUP` line. Pure: feed it lines, it tells what each one was.
 */
export class ReplyReader {
  private usage: string[] | undefined;
  private continuation: string[] | undefined;
  private lines: string[] = [];
  /** Bytes of the lines held in {@link lines} (LFs included). */
  private heldBytes = 0;

  /**
   * @param maxReplyBytes bound on one multi-line reply (all its lines, LFs included); past it
   *   {@link push} throws {@link AgiProtocolError}.
   */
  constructor(readonly maxReplyBytes: number = DEFAULT_MAX_REPLY_BYTES) {}

  /** True while a reply has started (provisional, usage or continuation lines) but not finished. */
  get inProgress(): boolean {
    return this.lines.length > 0;
  }

  /**
   * Feeds one line (without LF). `mode` says how the pending command's parenthesised value is read;
   * it only matters for 200 lines.
   */
  push(line: string, mode: DataMode = 'keyword'): ReplyEvent {
    const step = this.read(line, mode);
    if (typeof step !== 'number') return { kind: 'reply', reply: step };
    switch (step) {
      case ReplyStep.Hangup:
        return HANGUP_EVENT;
      case ReplyStep.Provisional:
        return { kind: 'provisional', line };
      case ReplyStep.Partial:
        return { kind: 'partial' };
      default:
        return { kind: 'unexpected', line };
    }
  }

  /**
   * {@link push} without the event object: the finished reply, or what else the line was. The
   * connection reads every reply of every call through this, so it allocates only the reply itself.
   */
  read(line: string, mode: DataMode = 'keyword'): AgiReply | ReplyStep {
    if (this.continuation) {
      // Inside a value that contained LF: every line is data (Asterisk never interleaves HANGUP here).
      this.hold(line);
      this.continuation.push(line);
      if (line.endsWith(')')) {
        const joined = this.continuation.join('\n');
        this.continuation = undefined;
        return this.finish(parseFinal(joined, 'freeText', this.lines));
      }
      return ReplyStep.Partial;
    }
    if (this.usage) {
      this.hold(line);
      if (line.startsWith('520 ')) {
        const reply = parseFinal(line, 'keyword', this.lines);
        reply.usage = this.usage.join('\n');
        this.usage = undefined;
        return this.finish(reply);
      }
      this.usage.push(line);
      return ReplyStep.Partial;
    }
    if (line === 'HANGUP') return ReplyStep.Hangup;
    // A status line is three digits, then a space, a hyphen (520- usage block) or nothing.
    const sep = line.length === 3 ? 32 : line.charCodeAt(3);
    if (!(isDigit(line.charCodeAt(0)) && isDigit(line.charCodeAt(1)) && isDigit(line.charCodeAt(2)) && (sep === 32 || sep === 45))) {
      return ReplyStep.Unexpected;
    }
    // Compared by char code: no substring per reply.
    const c0 = line.charCodeAt(0);
    const c1 = line.charCodeAt(1);
    const c2 = line.charCodeAt(2);
    if (c0 === 49 && c1 === 48 && c2 === 48) {
      this.hold(line);
      return ReplyStep.Provisional;
    }
    if (sep === 45) {
      // `520-Invalid command syntax.  Proper usage follows:` opens a usage block.
      this.hold(line);
      this.usage = [];
      return ReplyStep.Partial;
    }
    if (mode === 'freeText' && c0 === 50 && c1 === 48 && c2 === 48 && opensUnclosedValue(line)) {
      this.hold(line);
      this.continuation = [line];
      return ReplyStep.Partial;
    }
    if (this.lines.length === 0) return parseFinal(line, mode);
    this.lines.push(line);
    return this.finish(parseFinal(line, mode, this.lines));
  }

  /** Forgets any half-read reply (after the session is torn down). */
  reset(): void {
    this.usage = undefined;
    this.continuation = undefined;
    this.lines = [];
    this.heldBytes = 0;
  }

  private finish(reply: AgiReply): AgiReply {
    this.lines = [];
    this.heldBytes = 0;
    return reply;
  }

  /** Keeps one line of a reply that is not finished yet, within the reply's bounds. */
  private hold(line: string): void {
    this.heldBytes += Buffer.byteLength(line) + 1;
    this.lines.push(line);
    if (this.heldBytes > this.maxReplyBytes) {
      this.reset();
      throw new AgiProtocolError(`reply exceeds the ${this.maxReplyBytes}-byte limit (multi-line reply never ended)`);
    }
    if (this.lines.length > MAX_CONTINUATION_LINES) {
      this.reset();
      throw new AgiProtocolError(`reply spans more than ${MAX_CONTINUATION_LINES} lines`);
    }
  }
}

/** `200 result=1 (some value` with no `)` at the end: the value continues on the next line. */
function opensUnclosedValue(line: string): boolean {
  if (!line.startsWith('200 result=') || line.endsWith(')')) return false;
  // The result token runs to the first space; a value follows only as ` (`.
  const space = line.indexOf(' ', 11);
  if (space === -1 || line.charCodeAt(space + 1) !== 40) return false;
  for (let i = 11; i < space; i++) if (isSpace(line.charCodeAt(i))) return false;
  return true;
}

/** Whitespace as the regex class `\s` sees it in a reply line (space, TAB, CR, VT, FF). */
function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

/**
 * Parses one complete final reply line (or, for free-text values with LF, the joined lines).
 * Never throws: anything unrecognised lands in `text`. Scans by index (no regex, one substring
 * per field): every reply of every call goes through here.
 */
export function parseFinal(line: string, mode: DataMode = 'keyword', lines: string[] = [line]): AgiReply {
  const code = Number(line.slice(0, 3));
  const reply: AgiReply = { code, result: '', data: undefined, attrs: NO_ATTRS, text: '', usage: undefined, lines };
  if (line.length <= 4) return reply;
  if (!line.startsWith('result=', 4)) {
    reply.text = line.slice(4);
    return reply;
  }
  const space = line.indexOf(' ', 11);
  if (space === -1) {
    reply.result = line.slice(11);
    return reply;
  }
  reply.result = line.slice(11, space);
  let at = space + 1;
  reply.text = line.slice(at);
  if (line.charCodeAt(at) === 40) {
    const close = mode === 'freeText' ? line.lastIndexOf(')') : line.indexOf(')', at);
    if (close > at) {
      reply.data = line.slice(at + 1, close);
      at = close + 1;
      while (line.charCodeAt(at) === 32) at++;
    }
  }
  if (at < line.length) reply.attrs = parseAttrs(at === space + 1 ? reply.text : line.slice(at), {});
  return reply;
}

/** The attributes of the many replies that have none: one shared, frozen, empty record. */
const NO_ATTRS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** `true` for a character that may start an attribute key (`[A-Za-z_]`). */
function isKeyStart(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
}

/** `true` for a character that may continue an attribute key (`[A-Za-z0-9_]`). */
function isKeyChar(code: number): boolean {
  return isKeyStart(code) || isDigit(code);
}

/** End of a `key=` starting at `from` (the index of `=`), or -1 if the text there is not one. */
function keyEnd(text: string, from: number): number {
  if (!isKeyStart(text.charCodeAt(from))) return -1;
  let i = from + 1;
  while (isKeyChar(text.charCodeAt(i))) i++;
  return text.charCodeAt(i) === 61 ? i : -1;
}

/**
 * Reads `key=value` pairs separated by spaces into `into`. A value in double quotes may contain spaces
 * and, as in `speech recognize`'s unescaped `textN="…"`, even quotes: it ends at a quote that is
 * followed by the end of the line or by ` key=`. Words that are not `key=value` are skipped.
 */
export function parseAttrs(text: string, into: Record<string, string> = {}): Record<string, string> {
  let i = 0;
  while (i < text.length) {
    while (text.charCodeAt(i) === 32) i++;
    if (i >= text.length) break;
    const eq = keyEnd(text, i);
    if (eq === -1) {
      const next = text.indexOf(' ', i);
      i = next === -1 ? text.length : next + 1;
      continue;
    }
    const key = text.slice(i, eq);
    i = eq + 1;
    let value: string;
    if (text.charCodeAt(i) === 34) {
      const end = closingQuote(text, i + 1);
      value = text.slice(i + 1, end);
      i = end + 1;
    } else {
      const next = text.indexOf(' ', i);
      const end = next === -1 ? text.length : next;
      value = text.slice(i, end);
      i = end;
    }
    into[key] = value;
  }
  return into;
}

/** Index of the quote closing a value that starts at `from`, or the text length if unterminated. */
function closingQuote(text: string, from: number): number {
  let q = text.indexOf('"', from);
  while (q !== -1) {
    const after = text.slice(q + 1);
    if (after === '' || /^ +(?:[A-Za-z_][A-Za-z0-9_]*=|$)/.test(after)) return q;
    q = text.indexOf('"', q + 1);
  }
  return text.length;
}
