/**
 * Asterisk Manager Interface client (see {@link AmiClient}): actions, events globally and per
 * channel, reconnection; its errors ({@link AmiError} and subclasses) and pure parts (framing,
 * messages, originate fields).
 *
 * @module
 */
export {
  AmiClient,
  type AmiClientState,
  type AmiClientStats,
  type AmiConnectedInfo,
  type AmiReconnectingInfo,
} from './client.js';
export { type AmiEventListResult } from './actions.js';
export { type AmiEventListener, type AmiSubscribeOptions, type AmiSubscription } from './demux.js';
export {
  AmiActionError,
  AmiArgumentError,
  AmiClosedError,
  AmiConnectError,
  AmiConnectionLostError,
  AmiError,
  AmiLoginError,
  AmiProtocolError,
  AmiTimeoutError,
  isNoSuchChannel,
} from './errors.js';
export { AmiFramer, DEFAULT_AMI_INPUT_LIMITS, type AmiInputLimits } from './framer.js';
export { AmiMessage, encodeAction, type AmiFields } from './message.js';
export { backoffDelay, type AmiActionOptions, type AmiClientOptions, type AmiReconnectOptions } from './options.js';
export { type AmiOriginateOptions, type AmiOriginateResult } from './originate.js';
