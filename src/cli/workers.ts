/**
 * `agikit serve --workers N`: one FastAGI server per worker process (node:cluster), all on the same
 * port, so a busy server uses every core. The primary runs no calls: it starts the workers, replaces
 * one that dies, and turns SIGTERM/SIGINT into the same drain as one process: every worker stops
 * accepting and lets its calls finish (a second signal ends them at once), and the primary exits once
 * all have exited: 0 if every one drained cleanly, 1 otherwise.
 *
 * Workers ignore the signals themselves (a terminal's Ctrl-C reaches the whole process group, and it
 * must count once): the primary tells them, over the cluster's IPC channel. A worker whose primary is
 * gone drains on its own.
 *
 * @module
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { InvalidArgumentError } from 'commander';
import type { Logger } from 'pino';
import type { WorkersState } from './operations.js';

/** The message the primary sends a worker for each signal it receives. */
interface DrainMessage {
  agikit: 'drain';
}

/** Reads `--workers`: a count from 1, or `auto` (one per core). */
export function parseWorkers(text: string): number {
  if (text === 'auto') return availableParallelism();
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1) throw new InvalidArgumentError('a number of processes from 1, or auto (one per core)');
  return value;
}

/** `true` in a process that `agikit serve --workers` started. */
export function isServeWorker(): boolean {
  return cluster.isWorker;
}

/** The worker's id (1, 2, …) for its log lines, or `undefined` in a single process. */
export function workerId(): number | undefined {
  return cluster.isWorker ? cluster.worker?.id : undefined;
}

/**
 * In a worker: calls `drain` for each drain message from the primary (the second one means "now"),
 * and once if the primary goes away. Signals are left to the primary.
 */
export function drainOnPrimary(drain: (why: string) => void): void {
  const ignore = (): void => {};
  process.on('SIGTERM', ignore);
  process.on('SIGINT', ignore);
  process.on('message', (message: unknown) => {
    if ((message as DrainMessage | null)?.agikit === 'drain') drain('primary');
  });
  process.once('disconnect', () => drain('primary gone'));
}

/**
 * In the primary: starts `count` workers running this same command line, and supervises them until
 * they have all drained. Resolves with the exit code.
 */
export function runPrimary(count: number, log: Logger, what: string, state?: (read: () => WorkersState) => void): Promise<number> {
  return new Promise((resolve) => {
    let draining = false;
    let failed = false;
    let listening = 0;
    const everListened = new WeakSet<Worker>();
    const start = (): Worker => cluster.fork();
    // cluster.workers keeps a worker whose process has exited until its IPC channel has closed too,
    // which may come after its 'exit' (the last exit then saw a worker left, and nothing resolved).
    const live = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
    state?.(() => ({ workers: live().filter((w) => everListened.has(w)).length, draining }));

    cluster.on('listening', (worker, address) => {
      if (everListened.has(worker)) return;
      everListened.add(worker);
      listening += 1;
      if (listening === count) {
        log.info({ port: address.port, workers: count }, `agikit serving ${what} on ${address.address ?? ''}:${address.port} with ${count} workers`);
      }
    });
    cluster.on('exit', (worker, code, signal) => {
      if (!draining) {
        if (!everListened.has(worker)) {
          // It never served: the module or the options are wrong, and a new one would fail the same way.
          log.error({ worker: worker.id, code, signal }, 'worker failed to start; stopping');
          failed = true;
          draining = true;
          for (const w of live()) w.kill('SIGKILL');
        } else {
          log.error({ worker: worker.id, code, signal }, 'worker exited; starting another');
          start();
          return;
        }
      } else if (code !== 0) {
        failed = true;
        log.error({ worker: worker.id, code, signal }, 'worker did not drain cleanly');
      }
      if (live().length === 0) resolve(failed ? 1 : 0);
    });

    let signals = 0;
    const stop = (signal: NodeJS.Signals): void => {
      signals += 1;
      draining = true;
      log.info({ signal, workers: live().length }, signals > 1 ? 'second signal: workers end calls in progress now' : 'draining calls in every worker before exit');
      const message: DrainMessage = { agikit: 'drain' };
      for (const worker of live()) if (worker.isConnected()) worker.send(message);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    for (let i = 0; i < count; i++) start();
  });
}
