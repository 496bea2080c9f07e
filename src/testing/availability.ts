/**
 * Can a live Asterisk run here? Finds the agikit package (its scripts/ and asterisk-conf/), makes
 * sure a Docker engine answers and that the Asterisk image exists, building it the first time.
 *
 * @module
 */

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LiveAsteriskAvailability } from './live-types.js';

/**
 * Directory of the agikit package (the one holding scripts/ and
 * asterisk-conf/), found by walking up from this module.
 *
 * @returns an absolute path, or undefined if not found
 */
export function agikitPackageRoot(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'asterisk-conf', 'extensions.conf')) && existsSync(path.join(dir, 'package.json'))) {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * The configuration directory used when {@link StartAsteriskOptions.configDir} is not given.
 *
 * @returns absolute path of the package's asterisk-conf/
 */
export function defaultAsteriskConfigDir(): string {
  const root = agikitPackageRoot();
  if (root === undefined) throw new Error('cannot find the agikit package directory (asterisk-conf/)');
  return path.join(root, 'asterisk-conf');
}

interface ProcessResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function runProcess(command: string, args: readonly string[], timeoutMs: number): Promise<ProcessResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + String(err.message) });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal === null ? 1 : 128), stdout, stderr });
    });
  });
}

function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  return lines[lines.length - 1] ?? '';
}

const availabilityCache = new Map<string, Promise<LiveAsteriskAvailability>>();

async function checkAvailability(image: string | undefined): Promise<LiveAsteriskAvailability> {
  const skip = process.env['AGIKIT_SKIP_LIVE'];
  if (skip !== undefined && skip !== '' && skip !== '0') {
    // A value other than 1 is the reason (set by scripts/run-tests.mjs when Docker cannot run).
    return { ok: false, reason: skip === '1' || skip === 'true' ? 'AGIKIT_SKIP_LIVE is set' : skip };
  }
  const root = agikitPackageRoot();
  const ensureDocker = root === undefined ? undefined : path.join(root, 'scripts', 'ensure-docker.sh');
  if (ensureDocker !== undefined && existsSync(ensureDocker)) {
    const r = await runProcess('bash', [ensureDocker], 5 * 60_000);
    if (r.code !== 0) return { ok: false, reason: lastLine(r.stderr) || `ensure-docker.sh exited with ${r.code}` };
  } else {
    const r = await runProcess('docker', ['info'], 60_000);
    if (r.code !== 0) return { ok: false, reason: `docker does not answer: ${lastLine(r.stderr)}` };
  }
  if (image !== undefined) return { ok: true, image };
  const script = root === undefined ? undefined : path.join(root, 'scripts', 'asterisk-image.sh');
  if (script === undefined || !existsSync(script)) {
    const fromEnv = process.env['AGIKIT_ASTERISK_IMAGE'];
    if (fromEnv !== undefined && fromEnv !== '') return { ok: true, image: fromEnv };
    return { ok: false, reason: 'scripts/asterisk-image.sh not found; set AGIKIT_ASTERISK_IMAGE' };
  }
  const r = await runProcess('bash', [script], 15 * 60_000);
  const built = lastLine(r.stdout);
  if (r.code !== 0 || built === '') {
    return { ok: false, reason: lastLine(r.stderr) || `asterisk-image.sh exited with ${r.code}` };
  }
  return { ok: true, image: built };
}

/**
 * Find out whether a live Asterisk can run here: make sure Docker answers
 * (scripts/ensure-docker.sh, which may install and start it when running
 * as root) and that the image exists (scripts/asterisk-image.sh, which
 * builds it the first time). Never throws; the result is cached per image.
 *
 * Use it to skip live tests with a reason instead of failing or silently
 * passing them:
 *
 * ```ts
 * const live = await liveAsteriskAvailable();
 * describe('live', { skip: live.ok ? false : live.reason }, () => { ... });
 * ```
 *
 * @param options - image: use this image instead of building the default one
 * @returns `{ ok: true, image }` or `{ ok: false, reason }`
 */
export function liveAsteriskAvailable(options: { readonly image?: string } = {}): Promise<LiveAsteriskAvailability> {
  const key = options.image ?? '';
  let cached = availabilityCache.get(key);
  if (cached === undefined) {
    cached = checkAvailability(options.image).catch(
      (err: unknown): LiveAsteriskAvailability => ({ ok: false, reason: err instanceof Error ? err.message : String(err) }),
    );
    availabilityCache.set(key, cached);
  }
  return cached;
}
