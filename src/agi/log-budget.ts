/**
 * A rate limit for a warning that a peer can make us repeat (stray lines, refused connections, an
 * exhausted file-descriptor table): at most `burst` lines per `windowMs`, the rest counted, and the
 * count reported with the next line let through, so a flood costs a few log lines, not one per event.
 */
export class LogBudget {
  private windowStart = Number.NEGATIVE_INFINITY;
  private used = 0;
  private held = 0;

  constructor(
    private readonly burst: number,
    private readonly windowMs: number,
  ) {}

  /**
   * One more occurrence: `undefined` to stay quiet, otherwise the number of occurrences that were not
   * logged since the last one that was (to put in the line).
   */
  take(now: number = Date.now()): number | undefined {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.used = 0;
    }
    if (this.used >= this.burst) {
      this.held += 1;
      return undefined;
    }
    this.used += 1;
    const suppressed = this.held;
    this.held = 0;
    return suppressed;
  }

  /** Occurrences not logged since the last line let through. */
  get suppressed(): number {
    return this.held;
  }
}
