/**
 * Bounded waits. The relay layer often waits for an AMI event that may come late (Asterisk sends
 * channel events after the answers of actions that happened later) or not at all.
 *
 * @module
 */

/**
 * Resolves `true` once `promise` has settled (either way), or `false` after `ms`, whichever comes
 * first; the timer is cleared.
 */
export async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(resolve, ms, false);
  });
  try {
    return await Promise.race([promise.then(() => true, () => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
