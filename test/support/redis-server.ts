/**
 * A real redis-server for the tests of the Redis task transport: one per test file, on 127.0.0.1
 * at a port chosen per run, with no persistence (no RDB, no AOF) and a data directory of its own.
 * Installed by scripts/install-redis.sh (run-tests.mjs runs it first). Where it is not installed and
 * cannot be, {@link startRedis} returns the reason, and the tests skip with it; an installed server
 * that fails to start fails the tests.
 *
 * Not a test file: it only exports helpers.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLocalPort } from '../../src/testing/live-ami.js';
import { within } from './settle.js';

/** A running redis-server. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Runs a command with redis-cli against it; its output (RESP replies as redis-cli prints them). */
  cli(...args: string[]): string;
  /** Stops it (SIGTERM, then SIGKILL) and removes its directory. */
  stop(): Promise<void>;
}

/** Why Redis tests cannot run here, or `undefined` when they can. */
export function redisUnavailable(): string | undefined {
  if (process.env.AGIKIT_SKIP_REDIS) return `redis-server cannot run here: ${process.env.AGIKIT_SKIP_REDIS}`;
  const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (found.error || found.status !== 0) return 'redis-server is not installed (bash scripts/install-redis.sh installs Debian\'s package)';
  return undefined;
}

/** Starts a redis-server, or returns why it cannot run here. */
export async function startRedis(): Promise<RedisServer | { skip: string }> {
  const why = redisUnavailable();
  if (why) return { skip: why };
  let lastError = '';
  // A port found free may be taken before redis binds it: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeLocalPort();
    const dir = mkdtempSync(join(tmpdir(), 'agikit-redis-'));
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'yes'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const ready = new Promise<boolean>((resolve) => {
      const check = (): void => {
        if (/Ready to accept connections/.test(out)) resolve(true);
      };
      child.stdout.on('data', check);
      child.once('exit', () => resolve(false));
    });
    if (await within(ready, 10_000, () => `redis-server did not start:\n${out}`)) return running(child, port, dir);
    lastError = out.trim().split('\n').at(-1) ?? '';
    rmSync(dir, { recursive: true, force: true });
  }
  throw new Error(`redis-server would not start: ${lastError}`);
}

function running(child: ChildProcess, port: number, dir: string): RedisServer {
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    cli: (...args) => {
      const result = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${result.stderr}`);
      return result.stdout;
    },
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await within(exited, 10_000, 'redis-server did not stop on SIGTERM').catch(() => child.kill('SIGKILL'));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
