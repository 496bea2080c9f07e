/**
 * Errors of the Relay layer. Like every agikit error they extend {@link AgiError}; a hangup during a
 * Relay method is still an {@link AgiHangupError}, and media failures keep their media errors.
 *
 * @module
 */

import { AgiError } from '../errors.js';

/** Base class of the Relay layer's own errors. */
export class RelayError extends AgiError {
  override name = 'RelayError';
}

/** What a Relay method may need beyond the call's AGI session. */
export type RelayCapability =
  | 'ami'
  | 'agi-server'
  | 'media-directory'
  | 'tts'
  | 'speech-recognizer'
  | 'mp3-encoder'
  | 'pdf-converter'
  | 'messaging-endpoint'
  | 'redis-client'
  | 'ws-client';

/**
 * The method needs something this Relay runtime was not given: an AMI connection (a second action
 * while one runs, pause/resume/volume of a running play, stopping an `EXEC`'d application or a
 * `RECORD FILE`), a FastAGI address Asterisk can send calls back to (a Redirect that returns, a helper
 * channel), a media directory shared with Asterisk, a text to speech provider, a speech recognizer,
 * an MP3 encoder, the PJSIP endpoint messages leave through, the `redis` package of the Redis task
 * transport, or a WebSocket client (ws taps). Nothing was started; nothing degrades silently.
 */
export class RelayCapabilityError extends RelayError {
  override name = 'RelayCapabilityError';
  constructor(
    readonly capability: RelayCapability,
    /** The method or control that needed it, e.g. `PlayAction.pause`. */
    readonly method: string,
    detail?: string,
  ) {
    super(`${method} needs ${CAPABILITY_TEXT[capability]}${detail ? `: ${detail}` : ''}`);
  }
}

const CAPABILITY_TEXT: Record<RelayCapability, string> = {
  ami: 'an AMI connection (RelayOptions.ami)',
  'agi-server': "this process's FastAGI address, for calls to come back to (a running Consumer, or RelayOptions.owner)",
  'media-directory': 'a media directory shared with Asterisk (RelayOptions.media.directory)',
  tts: 'a text to speech provider (RelayOptions.media.tts)',
  'speech-recognizer': 'a speech recognizer (RelayOptions.speech)',
  'mp3-encoder': 'the LAME MP3 encoder (a `lame` command on the PATH of agikit\'s machine, e.g. apt-get install lame)',
  'pdf-converter': 'ghostscript (a `gs` command on the PATH of agikit\'s machine, e.g. apt-get install ghostscript)',
  'messaging-endpoint': 'the PJSIP endpoint messages leave through (RelayConnection.messaging.endpoint)',
  'redis-client': 'the `redis` package, an optional dependency of agikit (npm install redis)',
  'ws-client': 'a WebSocket client: Node 22 or later, or the `ws` package (npm install ws)',
};

/**
 * The call has no AGI session to run the method on: it has ended, or it is a leg agikit knows only
 * through AMI (e.g. the remote leg of a `connect`), which supports hangup, waiting and events but
 * not methods that need the call's own AGI.
 */
export class CallNotControllableError extends RelayError {
  override name = 'CallNotControllableError';
  constructor(
    readonly method: string,
    readonly why: 'ended' | 'no-agi',
  ) {
    super(why === 'ended' ? `${method}: the call has ended` : `${method}: the call has no AGI session (it is controlled through AMI only)`);
  }
}

/** A method was called with `{ queue: false }` while another action holds the call's AGI lane. */
export class CallBusyError extends RelayError {
  override name = 'CallBusyError';
  constructor(
    readonly method: string,
    /** What holds the lane, e.g. `play`. */
    readonly holder: string,
  ) {
    super(`${method}: the call is busy with ${holder} (queue: false)`);
  }
}

/** A Relay argument is invalid (e.g. a character `sendDigits` cannot send). Nothing was sent. */
export class RelayArgumentError extends RelayError {
  override name = 'RelayArgumentError';
}
