/**
 * The media directory: one directory that both agikit and Asterisk can reach, possibly under
 * different paths (Asterisk in a container with the directory mounted, or on another host with a
 * shared file system). agikit writes converted prompts and synthesized speech there and reads
 * recordings from there; Asterisk plays and records the same files under its own path.
 *
 * Same host, same path: `{ local: '/var/lib/agikit-media' }`. Asterisk in a container that mounts
 * the host's `/srv/media` at `/media`: `{ local: '/srv/media', asterisk: '/media' }`. To let agikit
 * read any file Asterisk names (same machine, no container), use `{ local: '/' }`.
 *
 * @module
 */

import path from 'node:path';
import { AgiArgumentError } from '../errors.js';

/** A directory as agikit sees it (`local`) and as Asterisk sees it (`asterisk`, default: the same path). */
export interface MediaDirectory {
  /** Absolute path on the machine agikit runs on. */
  readonly local: string;
  /** Absolute path of the same directory for Asterisk (default: `local`). */
  readonly asterisk?: string;
}

/** A file both as Asterisk names it and, when agikit can reach it, as agikit does. */
export interface MediaPath {
  /** The path (or sound name) Asterisk uses. */
  readonly asterisk: string;
  /** The same file on agikit's side, or `undefined` when it lies outside the media directory. */
  readonly local: string | undefined;
}

/** Translates paths between agikit's and Asterisk's view of a {@link MediaDirectory}. */
export class PathMapping {
  /** The directory on agikit's side (normalised, absolute). */
  readonly localRoot: string;
  /** The directory on Asterisk's side (normalised, absolute). */
  readonly asteriskRoot: string;

  constructor(directory: MediaDirectory) {
    if (!path.isAbsolute(directory.local)) throw new AgiArgumentError(`media directory must be absolute: ${directory.local}`);
    const asterisk = directory.asterisk ?? directory.local;
    if (!path.posix.isAbsolute(asterisk)) throw new AgiArgumentError(`Asterisk's media directory must be absolute: ${asterisk}`);
    this.localRoot = path.resolve(directory.local);
    this.asteriskRoot = path.posix.normalize(asterisk);
  }

  /** Asterisk's path for a local path inside the directory, else `undefined`. */
  toAsterisk(localPath: string): string | undefined {
    const rel = inside(this.localRoot, path.resolve(localPath), path);
    return rel === undefined ? undefined : path.posix.join(this.asteriskRoot, rel.split(path.sep).join('/'));
  }

  /** The local path for an Asterisk path inside the directory, else `undefined`. */
  toLocal(asteriskPath: string): string | undefined {
    const rel = inside(this.asteriskRoot, path.posix.normalize(asteriskPath), path.posix);
    return rel === undefined ? undefined : path.join(this.localRoot, ...rel.split('/'));
  }

  /**
   * Reads a file argument: an absolute path on either side is translated to the other when it lies
   * in the directory; a relative path is taken relative to the directory.
   */
  resolve(file: string): MediaPath {
    if (!path.posix.isAbsolute(file) && !path.isAbsolute(file)) {
      const local = path.join(this.localRoot, file);
      return { local, asterisk: path.posix.join(this.asteriskRoot, file.split(path.sep).join('/')) };
    }
    const fromLocal = this.toAsterisk(file);
    if (fromLocal !== undefined) return { asterisk: fromLocal, local: path.resolve(file) };
    const fromAsterisk = this.toLocal(file);
    if (fromAsterisk !== undefined) return { asterisk: path.posix.normalize(file), local: fromAsterisk };
    return { asterisk: file, local: undefined };
  }
}

/** The path of `target` relative to `root` when it lies inside it (`''` for the root itself). */
function inside(root: string, target: string, p: typeof path.posix): string | undefined {
  const rel = p.relative(root, target);
  if (rel === '') return '';
  if (rel.startsWith('..') || p.isAbsolute(rel)) return undefined;
  return rel;
}
