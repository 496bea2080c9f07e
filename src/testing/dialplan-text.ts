/**
 * Text helpers for talking to Asterisk through its CLI and for generating
 * dialplan at run time, used by the live-Asterisk harness
 * (src/testing/asterisk.ts). They are pure functions, so their quoting rules
 * can be unit-tested without Docker.
 *
 * Three layers of parsing sit between a JavaScript string and what an
 * Asterisk application finally receives:
 *
 * 1. the CLI (`asterisk -rx`) splits a command into words; double quotes
 *    group a word, a backslash makes the next character literal;
 * 2. the PBX substitutes `${...}` and `$[...]` in application data (there is
 *    no escape for `$`);
 * 3. most applications (AGI() among them) split their data at commas;
 *    double quotes group and are removed, a backslash makes the next
 *    character literal, and commas inside `()` or `[]` do not split.
 *
 * @module
 */

/**
 * Longest CLI command, in bytes, that Asterisk's remote console accepts.
 * Asterisk 22 silently ignores a command of about 496 bytes or more sent
 * with `asterisk -rx` (no output, exit status 0), so the harness refuses to
 * send longer ones.
 */
export const MAX_CLI_COMMAND_BYTES = 480;

/**
 * Quote one word for the Asterisk CLI: wrap it in double quotes and escape
 * backslashes and double quotes with a backslash.
 *
 * @param word - the word as the CLI command should receive it
 * @returns the quoted word, e.g. `"a \"b\" c"`
 */
export function cliQuote(word: string): string {
  return `"${word.replace(/[\\"]/g, '\\$&')}"`;
}

/**
 * Escape a value so that an application that splits its data at commas
 * (standard argument parsing, as AGI() does) receives it unchanged as one
 * argument, provided the value contains no `$` (see {@link needsSubstitutionGuard}).
 *
 * @param value - the literal argument
 * @returns the escaped text to place between the commas of the app data
 */
export function escapeAppArgument(value: string): string {
  return value.replace(/[\\",()[\]]/g, '\\$&');
}

/**
 * Whether a literal value would be changed by the PBX's variable and
 * expression substitution, which has no escape syntax; such values are
 * passed through `${BASE64_DECODE(...)}` instead, whose result is not
 * substituted again.
 *
 * @param value - the literal value
 * @returns true if the value contains `$`
 */
export function needsSubstitutionGuard(value: string): boolean {
  return value.includes('$');
}

/**
 * Build the CLI command that adds one priority to a context.
 *
 * @param context - dialplan context
 * @param extension - extension name
 * @param priority - numeric priority (`dialplan add extension` accepts no labels and no `n`)
 * @param application - application name, e.g. `Playback`
 * @param data - application data, exactly as the dialplan should hold it
 * @returns the `dialplan add extension ...` command
 */
export function addExtensionCommand(
  context: string,
  extension: string,
  priority: number,
  application: string,
  data: string,
): string {
  return `dialplan add extension ${cliQuote(`${extension},${priority},${application}(${data})`)} into ${context}`;
}

/**
 * Refuse a value that would end a CLI command or a dialplan line early.
 *
 * @param value - text bound for a CLI command or application data
 * @param what - what the value is, for the error message
 * @throws Error if it contains CR, LF or NUL
 */
export function assertNoLineBreaks(value: string, what: string): void {
  if (/[\r\n\0]/.test(value)) throw new Error(`${what} must not contain line breaks or NUL: ${JSON.stringify(value)}`);
}

/**
 * Byte length of a CLI command as Asterisk's remote console sees it.
 *
 * @param command - the command text
 * @returns its length in UTF-8 bytes
 */
export function cliCommandBytes(command: string): number {
  return Buffer.byteLength(command, 'utf8');
}

/**
 * Split a string into chunks of at most `size` characters.
 *
 * @param text - the string
 * @param size - maximum chunk length (positive)
 * @returns the chunks (one empty chunk for an empty string)
 */
export function chunk(text: string, size: number): string[] {
  if (text.length === 0) return [''];
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** One line of `database show <family>` output, parsed. */
export interface AstDbEntry {
  /** Key relative to the family that was shown. */
  readonly key: string;
  /** Value, with the padding Asterisk adds on the right removed. */
  readonly value: string;
}

/**
 * Parse `database show <family>` output.
 *
 * Asterisk pads keys to 50 and values to 25 columns, so trailing spaces of
 * values are lost; the harness stores anything that could end in a space
 * base64-encoded.
 *
 * @param output - CLI output
 * @param family - the family that was shown (without leading slash)
 * @returns the entries under that family
 */
export function parseDatabaseShow(output: string, family: string): AstDbEntry[] {
  const prefix = `/${family}/`;
  const entries: AstDbEntry[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const sep = line.indexOf(': ');
    if (sep < 0) continue;
    const key = line.slice(prefix.length, sep).trimEnd();
    const value = line.slice(sep + 2).trimEnd();
    entries.push({ key, value });
  }
  return entries;
}
