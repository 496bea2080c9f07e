/**
 * The testing kit's own errors, in one place.
 *
 * @module
 */

/** Thrown by {@link startAsterisk} when Docker or the image is unavailable. */
export class LiveAsteriskUnavailableError extends Error {
  /**
   * @param reason - why a live Asterisk cannot run here
   */
  constructor(reason: string) {
    super(`live Asterisk unavailable: ${reason}`);
    this.name = 'LiveAsteriskUnavailableError';
  }
}
