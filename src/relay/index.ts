/**
 * SignalWire Relay's model on Asterisk: {@link Consumer}, {@link Client}, {@link Call} and its
 * actions, {@link Messaging}, {@link Task}, built on agikit's `Agi`, media layer and AMI client.
 * Import from `agikit/relay` (or use the `relay` namespace of `agikit`).
 *
 * @module
 */
export { Call, type CallInit } from './call.js';
export { CALL_STATE_EVENTS, callSignalOf, ChannelAmi, type CallEventListener, type CallSignal, type DialplanTarget } from './channel-ami.js';
export { Action, Component, startAction, type ComponentKind, type MethodOptions } from './component.js';
export { Calling } from './calling.js';
export {
  DEFAULT_DIAL_TIMEOUT,
  dialDevice,
  unansweredReason,
  type DialDevice,
  type DialParams,
  type DialResult,
} from './dial.js';
export { Client, RELAY_AMI_EVENTS, type ClientEvents, type ClientOptions } from './client.js';
export { Consumer, type RelayConnection, type RunOptions } from './consumer.js';
export { advertisedOwner, ownerUrl, RELAY_CONTEXTS, RELAY_DIALPLAN, RELAY_ROUTES, RELAY_VARIABLES, RESERVED_CONTEXT_NAMES } from './dialplan.js';
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
export { FAX_PAGE_POLL_MS, FaxAction, type FaxState } from './fax.js';
export { FAXES_SUBDIRECTORY, ghostscriptAvailable } from './fax-document.js';
export { FAX_PAGE_WIDTHS, MAX_HEADER_LENGTH, MAX_IDENTITY_LENGTH, type FaxReceiveParams, type FaxSendParams } from './fax-options.js';
export { readTiff, TIFF_COMPRESSION, TiffError, type TiffInfo, type TiffPage } from './tiff.js';
export { HelperChannel, type HelperOptions } from './helper.js';
export { Lane, type LaneHolder, type LaneOptions } from './lane.js';
export type { Media } from './media-list.js';
export {
  addressNumber,
  MAX_BODY_BYTES,
  MESSAGE_ID_HEADER,
  segmentCount,
  type Message,
  type MessageDirection,
  type MessageSendParams,
  type MessageState,
} from './message.js';
export { Messaging, type MessagingEvents, type MessagingOptions } from './messaging.js';
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
  type FaxResult,
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
  type SendResult,
  type StopResult,
  type TapResult,
  type ConnectResult,
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
export { RESUME_TARGET, type LeaveOptions } from './sessions.js';
export { parseDigits, SendDigitsAction, type DigitStep, type SendDigitsState } from './send-digits.js';
export { CALL_STATES, type CallState } from './state.js';
export { serveTasks, Task, taskTransport, type TaskOptions, type TaskService, type TaskTransportSpec } from './task.js';
export { decodeTaskMessage, encodeTaskMessage, MAX_TASK_BYTES, type JsonValue, type TaskMessage } from './task-message.js';
export {
  DEFAULT_TASK_CONCURRENCY,
  notDelivered,
  TaskRoster,
  TaskRuns,
  type TaskAddress,
  type TaskDelivery,
  type TaskFailure,
  type TaskMember,
  type TaskReceiver,
  type TaskSubscription,
  type TaskTransport,
} from './task-transport.js';
export { InProcessTaskTransport } from './transports/in-process.js';
export { DEFAULT_TASK_PORT, LocalHttpTaskTransport, type LocalHttpTaskOptions } from './transports/local-http.js';
export { RedisTaskTransport, type RedisTaskOptions } from './transports/redis.js';
export { TapAction, TAPS_SUBDIRECTORY, type TapState } from './tap.js';
export { ConnectAction, type ConnectState } from './connect.js';
export {
  DEFAULT_DEVICE_CONTEXT,
  DEFAULT_DEVICE_TIMEOUT,
  defaultDeviceResolver,
  dialGroups,
  dialOutcome,
  parseDevices,
  type DeviceInput,
  type DeviceList,
  type DeviceResolver,
  type DialGroup,
  type DialOutcome,
  type PhoneDevice,
  type PhoneDeviceParams,
} from './devices.js';
export {
  checkTapParams,
  type TapCodec,
  type TapDescription,
  type TapDevice,
  type TapDeviceParams,
  type TapDirection,
  type TapMechanism,
  type TapParams,
  type TapTargetType,
} from './tap-params.js';
export { RINGTONES, type RingtoneName } from './ringtones.js';
