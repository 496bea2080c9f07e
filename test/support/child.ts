/**
 * Node child processes for tests (the `agikit` CLI, AGI script fixtures): output collected as it
 * comes, bounded waits for output and exit, and a kill once the test ends, so a process that hangs
 * fails its test instead of keeping the test file running.
 *
 * Not a test file: it only exports helpers.
 */
import { AssertionError } from 'node:assert';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { within } from './settle.js';

/** The bound of a wait on a child process: starting Node on a loaded machine can take seconds. */
export const PROCESS_WAIT_MS = 30_000;

/** A running child process and what it has printed so far. */
export interface TestChild {
  readonly child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Its exit code (`null` when a signal ended it); fails with `message` if it has not exited within `ms`. */
  exit(message: string, ms?: number): Promise<number | null>;
  /** The first match of `pattern` in stdout; fails if the process exits first, or after `ms`. */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpExecArray>;
}

/** Runs `node <args>` (with `env` added to this process's environment); the process is killed once test `t` ends if it is still running. */
export function spawnNode(t: TestContext, args: readonly string[], env: Readonly<Record<string, string>> = {}): TestChild {
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const name = args.map((a) => a.slice(a.lastIndexOf('/') + 1)).join(' ');
  const output = (): string => `\nstdout: ${out}\nstderr: ${err}`;
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exit: (message, ms = PROCESS_WAIT_MS) => within(exited, ms, () => `${name}: ${message}${output()}`),
    async waitFor(pattern, ms = PROCESS_WAIT_MS) {
      const deadline = Date.now() + ms;
      for (;;) {
        const match = pattern.exec(out);
        if (match) return match;
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new AssertionError({ message: `${name}: exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}${output()}` });
        }
        if (Date.now() > deadline) throw new AssertionError({ message: `${name}: did not print ${pattern} (waited ${ms} ms)${output()}` });
        await sleep(10);
      }
    },
  };
}
