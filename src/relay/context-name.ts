/**
 * Names a Relay process routes by: contexts (FastAGI path segments, task stream keys, astdb keys)
 * and projects (task URL paths and Redis key prefixes). One rule for both, so a name never needs
 * escaping anywhere it appears.
 *
 * @module
 */

import { RelayArgumentError } from './errors.js';

/** A context or project name: letters, digits, `_`, `.`, `-`; 1 to 64 characters. */
export const CONTEXT_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Throws {@link RelayArgumentError} (`<where>: bad <what> "…"`) unless `name` follows {@link CONTEXT_NAME}. */
export function checkName(name: unknown, what: 'context' | 'project', where: string): asserts name is string {
  if (typeof name !== 'string' || !CONTEXT_NAME.test(name)) {
    throw new RelayArgumentError(`${where}: bad ${what} ${JSON.stringify(name) ?? String(name)} (letters, digits, '_', '.', '-'; 1 to 64 of them)`);
  }
}
