import { AGI_COMMANDS, type AgiCommandName } from '../agi/commands.js';
import { parseAgiArgs } from '../testing/parse-args.js';

/** A line typed by a person, read as a typed method call (`streamFile beep #`) or a raw AGI command. */
export type TypedLine = { kind: 'method'; method: AgiCommandName; args: unknown[] } | { kind: 'raw'; command: string };

const METHODS = new Set(Object.keys(AGI_COMMANDS));

/**
 * Reads a typed line. If its first word is a method of `Agi` (`streamFile`), the rest are its
 * arguments, tokenized like AGI (`"quoted words"`, `\\` escapes) and read as: integers and decimals →
 * numbers, `true`/`false` → booleans, `_` → omitted, `{…}`/`[…]` → JSON; anything else stays text.
 * Otherwise the line is a raw AGI command (`STREAM FILE beep ""`), sent as typed.
 */
export function readTypedLine(line: string): TypedLine {
  const words = parseAgiArgs(line);
  const first = words[0] ?? '';
  if (!METHODS.has(first)) return { kind: 'raw', command: line.trim() };
  return { kind: 'method', method: first as AgiCommandName, args: words.slice(1).map(coerce) };
}

function coerce(word: string): unknown {
  if (/^-?\d+(\.\d+)?$/.test(word)) return Number(word);
  if (word === 'true') return true;
  if (word === 'false') return false;
  if (word === '_') return undefined;
  if (/^[[{]/.test(word)) {
    try {
      return JSON.parse(word) as unknown;
    } catch {
      return word;
    }
  }
  return word;
}

/** Everything a person can type as a command name: method names and raw command words. */
export function completions(): string[] {
  const raw = Object.values(AGI_COMMANDS).map((spec) => spec.words);
  return [...METHODS, ...raw, 'exit', 'help', 'env'].sort();
}
