/**
 * Splits a command line into words exactly as Asterisk's `parse_args` (res_agi.c) does, so tests can
 * check what Asterisk will read from what agikit sends:
 * - words are separated by runs of space or TAB; leading/trailing whitespace is ignored;
 * - `"` toggles quoting and is removed; `""` after whitespace is an empty word;
 * - `\` makes the next character literal (inside or outside quotes); a lone trailing `\` is dropped;
 * - an unterminated quote runs to the end of the line.
 * Written from the documented behaviour, not from Asterisk's source.
 */
export function parseAgiArgs(line: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quoted = false;
  let escaped = false;
  for (const ch of line) {
    if (escaped) {
      current += ch;
      inWord = true;
      escaped = false;
      continue;
    }
    if (ch === '\\') {
      escaped = true;
      inWord = true;
      continue;
    }
    if (ch === '"') {
      quoted = !quoted;
      inWord = true;
      continue;
    }
    if (!quoted && (ch === ' ' || ch === '\t')) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
      continue;
    }
    current += ch;
    inWord = true;
  }
  if (inWord) words.push(current);
  return words;
}
