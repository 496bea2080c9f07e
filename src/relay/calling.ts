/**
 * {@link Calling}: the seed's `client.calling`: outbound calls (`dial`, `newCall`). See dial.ts for
 * how a call is placed.
 *
 * @module
 */

import { randomUUID } from 'node:crypto';
import { Call } from './call.js';
import { dialDevice, type DialParams, type DialResult } from './dial.js';
import type { RelayRuntime } from './runtime.js';

/** Outbound calls of a client (`client.calling`, also `consumer.client.calling`). */
export class Calling {
  constructor(private readonly runtime: () => RelayRuntime) {}

  /**
   * A new outbound call, not placed yet: attach listeners (`call.on('ringing', ...)`), then
   * `call.dial()`. Its id (the channel's `Uniqueid`) is a new UUID agikit chooses.
   *
   * @throws RelayArgumentError for bad parameters (see {@link DialParams})
   * @throws RelayError when the client is not connected
   */
  newCall(params: DialParams): Call {
    const device = dialDevice(params);
    return new Call(this.runtime(), {
      id: randomUUID(),
      context: params.context ?? '',
      toNumber: device.toNumber,
      fromNumber: device.fromNumber,
      timeout: device.timeout,
      direction: 'outbound',
    });
  }

  /**
   * Places an outbound call and resolves once it was answered (`successful`, `call` answered and
   * ready to play) or not (busy, no answer within `timeout` seconds, failed: `call` has ended, its
   * `hangupReason`, `busy` and `failed` say why). `newCall(params).dial()`.
   *
   * @throws RelayArgumentError for bad parameters
   * @throws RelayCapabilityError without AMI or a FastAGI address
   */
  async dial(params: DialParams): Promise<DialResult> {
    return this.newCall(params).dial();
  }
}
