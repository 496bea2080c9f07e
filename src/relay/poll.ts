/**
 * Polling over AMI, for what Asterisk reports only when asked (a fax's page counter, a tone
 * detector's hit count).
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Runs `tick` every `intervalMs` (first after one interval) until it resolves `true` or the returned
 * function is called. A tick already waiting on AMI when polling stops still finishes: `active()`
 * tells it whether its answer is still wanted.
 */
export function pollEvery(intervalMs: number, tick: (active: () => boolean) => Promise<boolean | void>): () => void {
  let polling = true;
  const active = (): boolean => polling;
  void (async () => {
    while (polling) {
      await sleep(intervalMs);
      if (!polling) return;
      if ((await tick(active)) === true) polling = false;
    }
  })();
  return () => {
    polling = false;
  };
}
