/**
 * Options shared by {@link FilePlayer} and {@link FileRecorder}: `new FilePlayer(agi, media)`. Build
 * them once (the AMI connection and TTS provider are shared by all calls) and hand them to the
 * player and recorder each handler makes; the transports (`FastAgiServer`, `runStdio`) know nothing
 * of media.
 *
 * @module
 */

import type { AmiClient } from '../ami/client.js';
import type { MediaDirectory } from './paths.js';
import type { TtsProvider } from './tts.js';

/** Media settings of a call. Everything is optional; what needs a missing piece says so when used. */
export interface MediaOptions {
  /**
   * A directory both agikit and Asterisk reach (same host, or shared/mounted). Needed to play files
   * Asterisk cannot play as they are (agikit converts them there), to estimate a file's duration, and
   * for everything the recorder does with the finished file (the WAV container of A-law and µ-law,
   * format and rate conversion, cutting to `maxBytes`, `cipher`, `audioDetectedInRecording()`).
   * Relative file names are taken relative to it.
   */
  directory?: MediaDirectory;
  /** Text to speech for `FilePlayer.say()` / `sayStart()`, e.g. `new EspeakTtsProvider(...)`. */
  tts?: TtsProvider;
  /**
   * A logged-in AMI connection (shared by all calls). Needed only to stop a recording:
   * `RECORD FILE` cannot be interrupted over AGI, so `FileRecorder.stop()` has Asterisk queue
   * {@link MediaOptions.stopDigit} on the channel (`PlayDTMF` with `Receive: yes`).
   */
  ami?: AmiClient;
  /**
   * The DTMF digit reserved for stopping recordings through AMI (default `D`, which phones rarely
   * have). It is always among a recording's escape digits, so a caller who presses it ends the
   * recording too (cause `BARGEIN`).
   */
  stopDigit?: string;
}
