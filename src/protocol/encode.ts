import { AgiArgumentError } from '../errors.js';

/** A value the encoder can put on the wire; `undefined` marks an omitted trailing optional argument. */
export type WireArg = string | number | undefined;

/** Longest command line (bytes, LF included) Asterisk 22.6.0 and later read in one go (`AGI_BUF_LEN` 8192). */
export const MAX_LINE_BYTES_8K = 8191;
/** Longest command line (bytes, LF included) before 22.6.0 (`AGI_BUF_LEN` 2048). */
export const MAX_LINE_BYTES_2K = 2047;

const UNSAFE = /[\n\r\0]/;
const NEEDS_ESCAPE = /["\\]/;

/**
 * Quotes one argument the way Asterisk's `parse_args` reads it back: wrapped in `"`, with `\` and `"`
 * escaped by a backslash. LF, CR and NUL cannot be represented (LF ends the command line, and Asterisk
 * keeps a CR literally), so they are refused with {@link AgiArgumentError}: no argument can ever
 * smuggle in a second command.
 */
export function quoteArg(value: string): string {
  if (UNSAFE.test(value)) {
    throw new AgiArgumentError(`AGI argument contains LF, CR or NUL: ${JSON.stringify(value.slice(0, 60))}`);
  }
  if (!NEEDS_ESCAPE.test(value)) return `"${value}"`;
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

/**
 * Builds one command line, LF included: the command words as given, then every argument quoted.
 * Trailing `undefined` arguments are dropped (an omitted optional); an `undefined` before a defined
 * argument is a programming error. Throws {@link AgiArgumentError} when the line would exceed
 * `maxLineBytes`, because Asterisk would execute the overflow as a separate command.
 */
export function encodeCommand(words: string, args: readonly WireArg[], maxLineBytes: number): string {
  let end = args.length;
  while (end > 0 && args[end - 1] === undefined) end--;
  let line = words;
  for (let i = 0; i < end; i++) {
    const arg = args[i];
    if (arg === undefined) throw new AgiArgumentError(`${words}: argument ${i + 1} missing before a later one`);
    const text = typeof arg === 'number' ? numberArg(words, arg) : arg;
    // The common case inline (one string per argument less than quoteArg's `"…"` then `' '`).
    if (UNSAFE.test(text) || NEEDS_ESCAPE.test(text)) line += ` ${quoteArg(text)}`;
    else line += ` "${text}"`;
  }
  line += '\n';
  // Bytes can only exceed characters, so measure bytes only when the character count is close.
  if (line.length * 3 > maxLineBytes) {
    const bytes = Buffer.byteLength(line);
    if (bytes > maxLineBytes) {
      throw new AgiArgumentError(`${words}: command line of ${bytes} bytes exceeds Asterisk's ${maxLineBytes}-byte limit`);
    }
  }
  return line;
}

function numberArg(words: string, value: number): string {
  if (!Number.isFinite(value)) throw new AgiArgumentError(`${words}: number argument is ${value}`);
  return String(value);
}

/**
 * Checks a raw command line typed by a person or tool (CLI shell, one-shots) before it is sent:
 * one line only, and never a line Asterisk treats specially (`failure…` ends the session).
 * Returns the line with its LF.
 */
export function encodeRawCommand(text: string, maxLineBytes: number): string {
  if (UNSAFE.test(text)) throw new AgiArgumentError('raw AGI command contains LF, CR or NUL');
  if (text.trim() === '') throw new AgiArgumentError('raw AGI command is empty');
  if (/^failure/i.test(text)) throw new AgiArgumentError('a line starting with "failure" would end the AGI session');
  const line = `${text}\n`;
  if (Buffer.byteLength(line) > maxLineBytes) {
    throw new AgiArgumentError(`raw command exceeds Asterisk's ${maxLineBytes}-byte limit`);
  }
  return line;
}

/**
 * The command-line limit for an Asterisk version string (`agi_version`): 8191 bytes (+LF included)
 * from 22.6.0 and on 23+, 2047 otherwise. Unknown or unparsable versions get the safe 2047.
 */
export function maxLineBytesFor(version: string): number {
  // Every call of a server names the same version: remember the last answer (no regex per call).
  if (version === lastVersion) return lastVersionBytes;
  lastVersionBytes = lineLimitOf(version);
  lastVersion = version;
  return lastVersionBytes;
}

let lastVersion: string | undefined;
let lastVersionBytes = MAX_LINE_BYTES_2K;

function lineLimitOf(version: string): number {
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) return MAX_LINE_BYTES_2K;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major >= 23 || (major === 22 && minor >= 6)) return MAX_LINE_BYTES_8K;
  return MAX_LINE_BYTES_2K;
}

/** The DTMF characters an escape-digit set may contain. */
export const DTMF_CHARS = '0123456789*#ABCD';

/** Every digit a caller can press on an ordinary keypad: pass as escape digits to stop on any key. */
export const ANY_DIGIT = '0123456789*#';

/**
 * Normalises escape digits given as a string (`'#'`, `'123'`) or an array (`['1', '#']`, `[1, 2]`)
 * to the string Asterisk expects; `''` means none. Lower-case `a`–`d` are accepted.
 */
export function escapeDigitsArg(digits: string | number | readonly (string | number)[] | undefined): string {
  if (digits === undefined) return '';
  const text = typeof digits === 'string' || typeof digits === 'number' ? String(digits) : digits.map(String).join('');
  const upper = text.toUpperCase();
  for (const ch of upper) {
    if (!DTMF_CHARS.includes(ch)) {
      throw new AgiArgumentError(`escape digits may only contain ${DTMF_CHARS}: ${JSON.stringify(text)}`);
    }
  }
  return upper;
}
