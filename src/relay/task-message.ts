/**
 * A task's message on the wire: the seed's "dict with your custom data", checked and serialised
 * once by the sender ({@link encodeTaskMessage}) and parsed once by the receiver
 * ({@link decodeTaskMessage}), so every transport carries the same JSON text and `onTask` gets
 * exactly what was delivered.
 *
 * @module
 */

import { RelayArgumentError } from './errors.js';

/** A value JSON carries unchanged. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A task's message: a JSON object (the seed's dict). */
export type TaskMessage = { [key: string]: JsonValue };

/** The largest message, as UTF-8 JSON text: 1 MiB. Bounds what a receiver reads and keeps. */
export const MAX_TASK_BYTES = 1024 * 1024;

/**
 * Checks that `message` is a plain object of JSON values that survive the trip unchanged, and
 * returns its JSON text. Throws {@link RelayArgumentError} naming the first offending path for what
 * JSON would drop or change silently: `undefined`, functions, symbols, `bigint`, `NaN`/`Infinity`,
 * array holes, cycles, class instances (a `Date`, a `Map`: convert them first), symbol keys; and for
 * a message larger than {@link MAX_TASK_BYTES}.
 */
export function encodeTaskMessage(message: unknown, where = 'Task.deliver'): string {
  if (!isPlainObject(message)) throw new RelayArgumentError(`${where}: the message must be an object ({ … }), not ${describe(message)}`);
  checkJson(message, 'message', new Set(), where);
  const text = JSON.stringify(message);
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_TASK_BYTES) throw new RelayArgumentError(`${where}: the message is ${bytes} bytes of JSON, more than ${MAX_TASK_BYTES}`);
  return text;
}

/**
 * Parses a task's JSON text back into its message. Throws {@link RelayArgumentError} for text that
 * is too long, not JSON, or not a JSON object (what a foreign producer may send).
 */
export function decodeTaskMessage(text: string): TaskMessage {
  if (Buffer.byteLength(text) > MAX_TASK_BYTES) throw new RelayArgumentError(`a task message is at most ${MAX_TASK_BYTES} bytes of JSON`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RelayArgumentError(`a task message must be JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(value)) throw new RelayArgumentError(`a task message must be a JSON object, not ${describe(value)}`);
  return value as TaskMessage;
}

function checkJson(value: unknown, path: string, ancestors: Set<object>, where: string): void {
  const fail = (why: string): never => {
    throw new RelayArgumentError(`${where}: ${path} ${why}; a task message holds JSON values only`);
  };
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) fail(`is ${value}, which JSON turns into null`);
      return;
    case 'object': {
      if (value === null) return;
      if (ancestors.has(value)) fail('refers back to an object that contains it (a cycle)');
      if (!Array.isArray(value) && !isPlainObject(value)) fail(`is ${describe(value)} (convert it to a string, number or plain object first)`);
      if (Object.getOwnPropertySymbols(value).length > 0) fail('has symbol keys, which JSON drops');
      ancestors.add(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (!(i in value)) throw new RelayArgumentError(`${where}: ${path}[${i}] is a hole, which JSON turns into null; a task message holds JSON values only`);
          checkJson(value[i], `${path}[${i}]`, ancestors, where);
        }
      } else {
        for (const [key, item] of Object.entries(value)) checkJson(item, `${path}${/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`}`, ancestors, where);
      }
      ancestors.delete(value);
      return;
    }
    default:
      fail(`is ${describe(value)}, which JSON ${typeof value === 'bigint' ? 'cannot carry' : 'drops'}`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `a ${(value as object).constructor?.name ?? 'object'}`;
  if (typeof value === 'function') return 'a function';
  return value === undefined ? 'undefined' : `a ${typeof value}`;
}
