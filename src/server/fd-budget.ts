import { readdirSync, readFileSync } from 'node:fs';

/**
 * How many connections the process can hold before it runs out of file descriptors, or `undefined`
 * where that cannot be known (it reads Linux's `/proc`).
 *
 * Why it matters: when `accept()` fails with EMFILE, libuv accepts and closes pending connections to
 * keep its event loop from spinning, and Node never hears of them, so without a budget of our own a
 * server out of descriptors drops calls without a log line. The budget is the soft `RLIMIT_NOFILE`
 * (`ulimit -n`), less the descriptors open now, less headroom for what the application and agikit
 * open per call or later (files, an AMI link, the metrics endpoint, logs).
 */
export function connectionFdBudget(): { budget: number; limit: number } | undefined {
  try {
    const limit = Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]);
    if (!Number.isFinite(limit) || limit <= 0) return undefined;
    const open = readdirSync('/proc/self/fd').length;
    return { budget: Math.max(1, limit - open - Math.max(64, Math.floor(limit / 10))), limit };
  } catch {
    return undefined;
  }
}
