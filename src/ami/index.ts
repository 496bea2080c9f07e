/**
 * Asterisk Manager Interface client (see {@link AmiClient}).
 *
 * @module
 */
export {
  AmiActionError,
  AmiClient,
  AmiError,
  AmiMessage,
  type AmiActionOptions,
  type AmiClientOptions,
  type AmiEventListResult,
  type AmiFields,
} from './client.js';
