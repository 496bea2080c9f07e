/**
 * AMI messages both ways, as pure functions: {@link AmiMessage} (what Asterisk sends: a response or
 * an event) and {@link encodeAction} (what the client sends).
 *
 * @module
 */

import { AmiArgumentError } from './errors.js';

/** Line terminator of AMI, both ways. */
export const CRLF = '\r\n';

/**
 * One AMI message (response or event): `Key: Value` lines in order. Keys are matched without regard
 * to case, and a key may occur more than once (`getAll`). A line without a colon (old `Command`
 * output) is kept under the key `''`.
 */
export class AmiMessage {
  constructor(readonly fields: ReadonlyArray<readonly [string, string]>) {}

  /** The first value of a key, or `undefined`. */
  get(key: string): string | undefined {
    const fields = this.fields;
    // Asterisk spells keys one way (`Uniqueid`, `ActionID`): an exact scan finds nearly all of them
    // without allocating; only a miss pays for the case-insensitive one.
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i] as readonly [string, string];
      if (field[0] === key) return field[1];
    }
    const wanted = key.toLowerCase();
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i] as readonly [string, string];
      if (field[0].length === wanted.length && field[0].toLowerCase() === wanted) return field[1];
    }
    return undefined;
  }

  /** Every value of a key, in order. */
  getAll(key: string): string[] {
    const wanted = key.toLowerCase();
    return this.fields.filter(([k]) => k.toLowerCase() === wanted).map(([, v]) => v);
  }

  /** The fields as an object (the last value of a repeated key wins). */
  toObject(): Record<string, string> {
    return Object.fromEntries(this.fields);
  }

  /** `'event'` or `'response'`, from the first line (Asterisk always starts a message with one of them). */
  get kind(): 'event' | 'response' | undefined {
    const first = this.fields[0]?.[0].toLowerCase();
    if (first === 'event') return 'event';
    if (first === 'response') return 'response';
    // Not Asterisk's own order: look further.
    if (this.get('Event') !== undefined) return 'event';
    return this.get('Response') !== undefined ? 'response' : undefined;
  }
}

/**
 * Parses one line of a message. AMI writes `Key: Value`; the single space after the colon is part
 * of the separator, anything after it belongs to the value.
 */
export function parseField(line: string): readonly [string, string] {
  const colon = line.indexOf(':');
  if (colon < 0) return ['', line];
  const start = line.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1;
  return [line.slice(0, colon), line.slice(start)];
}

/** Values of an action's fields; an array sends the key once per element (e.g. `Variable`). */
export type AmiFields = Readonly<Record<string, string | number | boolean | readonly string[] | undefined>>;

/** Fields the client sets itself; an action may not carry them. */
const CLIENT_FIELDS = new Set(['action', 'actionid']);

/**
 * Encodes an action with its `ActionID`, ending with the blank line. `undefined` values are left
 * out; an array repeats the key. Throws {@link AmiArgumentError} when a key or value would break the
 * framing (CR or LF, or a colon in a key) or names a field the client sets.
 */
export function encodeAction(name: string, actionId: string, fields: AmiFields): string {
  checkText(name, name, 'the action name');
  let text = `Action: ${name}${CRLF}ActionID: ${actionId}${CRLF}`;
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (value === undefined) continue;
    if (CLIENT_FIELDS.has(key.toLowerCase())) throw new AmiArgumentError(`AMI ${name}: ${key} is set by the client`);
    if (/[\r\n:]/.test(key) || key === '') throw new AmiArgumentError(`AMI ${name}: invalid field name ${JSON.stringify(key)}`);
    for (const item of Array.isArray(value) ? (value as readonly string[]) : [value]) {
      const itemText = String(item);
      checkText(name, itemText, `field ${key}`);
      text += `${key}: ${itemText}${CRLF}`;
    }
  }
  return text + CRLF;
}

function checkText(action: string, text: string, what: string): void {
  if (/[\r\n]/.test(text)) throw new AmiArgumentError(`AMI ${action}: ${what} must not contain line breaks`);
}
