import { Duplex, PassThrough } from 'node:stream';

/**
 * Two connected in-memory duplex streams: what one side writes, the other reads. Ending one side's
 * writable ends the other side's readable (a half-close), as on a TCP socket.
 */
export function duplexPair(): [Duplex, Duplex] {
  const aToB = new PassThrough();
  const bToA = new PassThrough();
  return [Duplex.from({ readable: bToA, writable: aToB }), Duplex.from({ readable: aToB, writable: bToA })];
}
