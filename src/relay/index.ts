/**
 * SignalWire Relay's calling model on Asterisk: {@link Consumer}, {@link Call} and its actions,
 * built on agikit's `Agi`, media layer and AMI client. Import from `agikit/relay` (or use the
 * `relay` namespace of `agikit`).
 *
 * @module
 */
export { Call, type CallInit } from './call.js';
export { Action, Component, startAction, type ComponentKind, type MethodOptions } from './component.js';
export { Client, RELAY_AMI_EVENTS, type ClientEvents, type ClientOptions } from './client.js';
export { Consumer, type RelayConnection, type RunOptions } from './consumer.js';
export { CallBusyError, CallNotControllableError, RelayArgumentError, RelayCapabilityError, RelayError, type RelayCapability } from './errors.js';
export { DetectAction, TONE_POLL_MS, type DetectState } from './detect.js';
export {
  AMD_DEFAULTS,
  BEEP_TONE,
  DIGIT_DETECT_DEFAULTS,
  FAX_DETECT_DEFAULTS,
  FAX_TONES,
  MAX_DETECT_SECONDS,
  type AmdParams,
  type DetectParams,
  type DigitDetectParams,
  type FaxDetectParams,
  type FaxTone,
  type MachineVerdict,
  type ToneSpec,
} from './detect-options.js';
export type { AnyAction, CallEventName, CallEvents } from './events.js';
export { Lane, type LaneHolder, type LaneOptions } from './lane.js';
export type { Media } from './media-list.js';
export { PlayAction, type PlayOptions, type PlayRingtoneParams, type PlayState, type PlayTTSParams } from './play.js';
export { PromptAction, type PromptState } from './prompt.js';
export {
  PROMPT_DEFAULTS,
  type PromptAudioOptions,
  type PromptOptions,
  type PromptParams,
  type PromptRingtoneOptions,
  type PromptTTSOptions,
  type PromptType,
} from './prompt-options.js';
export {
  hangupReasonFromCause,
  type AnswerResult,
  type ControlResult,
  type DetectResult,
  type DetectType,
  type HangupReason,
  type HangupResult,
  type PlayResult,
  type PromptResult,
  type PromptResultType,
  type RecordResult,
  type RelayEvent,
  type RelayResult,
  type SendDigitsResult,
  type StopResult,
} from './results.js';
export { RECORDINGS_SUBDIRECTORY, RecordAction, type RecordState } from './record.js';
export {
  MAX_RECORD_TIMEOUT_SECONDS,
  RECORD_DEFAULTS,
  type RecordDirection,
  type RecordFormat,
  type RecordOptions,
} from './record-options.js';
export { RelayRuntime, type IncomingCallHandler, type RelayOptions, type SpeechRecognizer } from './runtime.js';
export { parseDigits, SendDigitsAction, type DigitStep, type SendDigitsState } from './send-digits.js';
export { CALL_STATES, type CallState } from './state.js';
export { RINGTONES, type RingtoneName } from './ringtones.js';
