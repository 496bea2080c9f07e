/**
 * Media for calls, in the manner of Aculab Cloud's `FilePlayer` and `FileRecorder`: playing files
 * (converted when Asterisk cannot play them), text to speech, and recording with limits, audio
 * detection and encryption.
 *
 * @module
 */
export {
  FilePlayer,
  PlayCause,
  PlayState,
  type PlayOptions,
  type SayOptions,
  type StartPlayOptions,
  type WaitOptions,
} from './file-player.js';
export { FileRecorder, type RecordWaitOptions } from './file-recorder.js';
export { RecordCause, RecordState } from './record-job.js';
export { planRecording, type RecordFileFormat, type RecordOptions } from './record-plan.js';
export { decryptRecording, encryptRecording, ENCRYPTED_RECORDING_MAGIC, type RecordingCipher } from './cipher.js';
export { AudioFormatError, MediaSetupError, MediaStateError } from './errors.js';
export { CallJob, DEFAULT_STOP_TIMEOUT_MS } from './job.js';
export type { MediaOptions } from './options.js';
export { PathMapping, type MediaDirectory, type MediaPath } from './paths.js';
export { CONVERTED_SUBDIRECTORY, preparePlayable, type Playable } from './playable.js';
export { EspeakTtsProvider, type EspeakTtsOptions, type SynthesizedSpeech, type TtsOptions, type TtsProvider } from './tts.js';
export {
  analyseLevels,
  decodeWav,
  encodeWav,
  parseWav,
  resample,
  type LevelOptions,
  type LevelReport,
  type PcmAudio,
  type WavEncoding,
  type WavInfo,
} from './audio.js';
export { asteriskPlaysAsIs, audioDurationMs, decodeAudioFile } from './formats.js';
