/**
 * Errors of the media layer, all in one place ({@link FilePlayer}, {@link FileRecorder}, text to
 * speech, the audio codecs). Like every agikit error they extend {@link AgiError}; a hangup is still
 * an {@link AgiHangupError}, and a bad argument an {@link AgiArgumentError}.
 *
 * @module
 */

import { AgiError } from '../errors.js';

/**
 * The call or the player/recorder is not in a state that allows the operation: the channel is not
 * answered, a play or record job is already running.
 */
export class MediaStateError extends AgiError {
  override name = 'MediaStateError';
}

/**
 * The operation needs something agikit was not given: a media directory both sides can reach (to
 * convert a file, read or encrypt a recording), an AMI connection (to stop a recording), a text to
 * speech provider. The message says what is missing and why.
 */
export class MediaSetupError extends AgiError {
  override name = 'MediaSetupError';
}

/** Bytes that are not audio agikit can read: not a WAV file, a codec or sample size it cannot decode. */
export class AudioFormatError extends AgiError {
  override name = 'AudioFormatError';
}
