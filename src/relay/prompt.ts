/**
 * Relay's `prompt` family on Asterisk: play media while collecting the caller's digits or speech.
 *
 * Mechanism, all over the call's AGI session (so `stop()` of a digits prompt needs no AMI):
 * 1. media: each file item with `STREAM FILE` and every key as escape digit (speech-only prompts:
 *    none), each ringtone with `EXEC PlayTones` and `WAIT FOR DIGIT` for its duration, then
 *    `EXEC StopPlayTones`. The first key stops the media (the rest of the list is skipped) and counts
 *    as the first digit. `volume` is the channel's `VOLUME(TX)` while the media plays.
 * 2. digits: a `WAIT FOR DIGIT` loop run by the pure {@link DigitState} machine: `initialTimeout`
 *    for the first key, `digitsTimeout` for each next one, until a terminator or `digitsMax`.
 *    `GET DATA` is not used: it has one timeout and a fixed `#`.
 * 3. speech (no key during the media): {@link captureSpeech} records the caller with `RECORD FILE`
 *    (any key ends it in a `both` prompt and starts the digit collection), then the configured
 *    {@link SpeechRecognizer} gets the WAV.
 *
 * @module
 */

import type { Agi } from '../agi/agi.js';
import { AgiAbortError, AgiHangupError, AgiInterruptedError } from '../errors.js';
import { MEDIA_COMMAND_TIMEOUT_MS } from '../media/call.js';
import { PathMapping } from '../media/paths.js';
import { StopDigit } from '../media/stop-digit.js';
import { DTMF_CHARS } from '../protocol/encode.js';
import { agiEvent, type Call } from './call.js';
import { Action, Component, startAction, type MethodOptions } from './component.js';
import { digitTimeout, pressDigit, startDigits, type DigitState } from './digit-collector.js';
import { CallNotControllableError, RelayArgumentError, RelayCapabilityError } from './errors.js';
import { prepareMedia, type Media, type MediaContext, type PreparedMedia } from './media-list.js';
import {
  checkPrompt,
  type PromptAudioOptions,
  type PromptOptions,
  type PromptParams,
  type PromptPlan,
  type PromptRingtoneOptions,
  type PromptTTSOptions,
} from './prompt-options.js';
import type { ControlResult, PromptResult, PromptResultType, RelayEvent, StopResult } from './results.js';
import type { SpeechRecognizer } from './runtime.js';
import { captureSpeech, removeCapture } from './speech-capture.js';
import { checkVolume, setVolumeOverAgi, setVolumeOverAmi } from './volume.js';

/** A prompt's state: `prompting` while it runs, then `successful` or why it has no input. */
export type PromptState = 'prompting' | 'successful' | Exclude<PromptResultType, 'digit' | 'speech'>;

/** How often a stop is retried while the prompt has not ended (ms). */
const HALT_RETRY_MS = 200;

/** What the prompt is doing now: what stopping it must interrupt. */
type Step = 'queued' | 'media' | 'tones' | 'digits' | 'recording' | 'recognizing' | 'other';

/** Everything a running prompt needs besides the call. */
interface PromptJob {
  readonly method: string;
  readonly plan: PromptPlan;
  readonly media: readonly PreparedMedia[];
  readonly recognizer: SpeechRecognizer | undefined;
  readonly mapping: PathMapping | undefined;
  /** The key AMI queues to end `RECORD FILE` when a speech prompt is stopped. */
  readonly stopDigit: string;
}

/** One prompt on one call. */
class PromptComponent extends Component<PromptResult, PromptState> {
  protected readonly haltRetryMs = HALT_RETRY_MS;
  private step: Step = 'queued';
  /** Aborted when stopped while the recognizer works (its late answer is then ignored); made for speech only. */
  private recognitionValue: AbortController | undefined;
  /** The volume set on the channel for the media (dB), and AMI changes still in flight. */
  private volumeDb: number;
  private volumeSet = false;
  private volumeChanges: Promise<unknown> = Promise.resolve();
  private mediaPlaying = false;
  /** What ends a speech prompt's `RECORD FILE` on `stop()` (over AMI). */
  private readonly stopKey: StopDigit;
  /** The digit collection, once it has started (a stopped prompt reports the digits it has). */
  private digits: DigitState | undefined;

  constructor(
    call: Call,
    private readonly job: PromptJob,
    payload: Readonly<Record<string, unknown>>,
    options: MethodOptions,
  ) {
    super(call, 'prompt', payload, 'prompting', options);
    this.volumeDb = job.plan.volume;
    this.stopKey = new StopDigit(job.stopDigit);
  }

  /** A speech or `both` prompt: it records with `RECORD FILE`, which only AMI can interrupt. */
  get recordsSpeech(): boolean {
    return this.job.plan.speech !== null;
  }

  /** `PromptAction.volume`: changes the media's volume, over AMI while it plays. */
  async changeVolume(db: number): Promise<ControlResult> {
    const ami = this.call.requireAmi('PromptAction.volume');
    checkVolume(db, 'PromptAction.volume');
    if (this.completed) return { successful: false };
    // Before the media starts it is applied then; after it there is nothing left to make louder.
    this.volumeDb = db;
    if (!this.mediaPlaying) return { successful: true };
    this.volumeSet = true;
    const change = setVolumeOverAmi(ami, db);
    this.volumeChanges = this.volumeChanges.then(() => change).catch(() => undefined);
    try {
      await change;
      return { successful: true };
    } catch (error) {
      this.call.log.debug({ err: error }, 'AMI Setvar VOLUME(TX) for PromptAction.volume failed');
      return { successful: false };
    }
  }

  protected async execute(): Promise<PromptResult> {
    return this.inLane(async (agi) => {
      let first: { key: string | null; event: RelayEvent | null };
      try {
        first = await this.playMedia(agi);
      } finally {
        this.mediaPlaying = false;
        await this.resetVolume(agi);
      }
      if (this.stopRequested) return this.ended('stopped', first.event);
      if (first.key !== null || !this.job.plan.speech) return this.collectDigits(agi, first.key, first.event);
      return this.listen(agi);
    });
  }

  protected failed(error: unknown): PromptResult {
    if (error instanceof AgiHangupError || (error instanceof CallNotControllableError && error.why === 'ended')) return this.ended('hangup', null);
    if (this.stopRequested && (error instanceof AgiInterruptedError || error instanceof AgiAbortError)) return this.ended('stopped', null);
    this.call.log.warn({ err: error, controlId: this.controlId }, `${this.job.method} failed`);
    return this.ended('error', null);
  }

  protected endState(result: PromptResult): PromptState {
    return result.successful ? 'successful' : (result.type as PromptState);
  }

  protected override stateChanged(): void {
    // The event's listeners take any action; the handle is this component's own.
    if (this.completed) this.call.fireAction('prompt', this.handle);
  }

  protected haltRunning(deadline: number): void | Promise<void> {
    switch (this.step) {
      case 'media':
      case 'tones':
      case 'digits':
        this.call.agi?.interrupt();
        return;
      case 'recording':
        return this.stopRecording(deadline);
      case 'recognizing':
        this.recognition.abort();
        return;
      default:
        // Between commands: the prompt checks stopRequested before its next one.
        return;
    }
  }

  /** Plays the media until its end or the first key (which it returns, with the event that brought it). */
  private async playMedia(agi: Agi): Promise<{ key: string | null; event: RelayEvent | null }> {
    const escape = this.job.plan.digits ? DTMF_CHARS : '';
    let event: RelayEvent | null = null;
    this.mediaPlaying = true;
    if (this.volumeDb !== 0) {
      this.volumeSet = true;
      await setVolumeOverAgi(agi, this.volumeDb);
    }
    for (const item of this.job.media) {
      if (this.stopRequested) break;
      if (item.kind === 'file') {
        this.step = 'media';
        const played = await this.interruptible(() => agi.streamFile(item.file, escape, undefined, { timeoutMs: MEDIA_COMMAND_TIMEOUT_MS }));
        this.step = 'other';
        if (played === undefined) break;
        event = agiEvent('STREAM FILE', { file: item.file, digit: played.digit, endpos: played.endpos });
        if (played.digit !== null && escape !== '') return { key: played.digit, event };
      } else {
        const key = await this.playTones(agi, item.tones, item.durationMs, escape !== '');
        event = agiEvent('WAIT FOR DIGIT', { tones: item.tones, digit: key });
        if (key !== null) return { key, event };
      }
    }
    return { key: null, event };
  }

  /** A ringtone: `PlayTones` keeps playing while `WAIT FOR DIGIT` waits out its duration (or a key). */
  private async playTones(agi: Agi, tones: string, durationMs: number, keysCount: boolean): Promise<string | null> {
    await agi.exec('PlayTones', tones);
    try {
      const until = Date.now() + durationMs;
      for (let left = durationMs; left > 0 && !this.stopRequested; left = until - Date.now()) {
        this.step = 'tones';
        const key = await this.interruptible(() => agi.waitForDigit(left, { timeoutMs: MEDIA_COMMAND_TIMEOUT_MS }));
        this.step = 'other';
        if (key === undefined) break;
        if (key !== null && keysCount) return key;
      }
      return null;
    } finally {
      await agi.exec('StopPlayTones').catch((error: unknown) => {
        if (!(error instanceof AgiHangupError)) throw error;
      });
    }
  }

  /** The digit loop; `first` is the key that stopped the media, if any. */
  private async collectDigits(agi: Agi, first: string | null, mediaEvent: RelayEvent | null): Promise<PromptResult> {
    const rules = this.job.plan.digits;
    if (!rules) return this.ended('no_input', mediaEvent);
    let state = startDigits(rules);
    if (first !== null) state = pressDigit(rules, state, first);
    let event = mediaEvent;
    while (!state.done) {
      this.digits = state;
      if (this.stopRequested) return this.ended('stopped', event);
      this.step = 'digits';
      const wait = state.waitMs;
      const key = await this.interruptible(() => agi.waitForDigit(wait, { timeoutMs: MEDIA_COMMAND_TIMEOUT_MS }));
      this.step = 'other';
      // An interrupted WAIT FOR DIGIT may also come back as "no key": the stop decides.
      if (key === undefined || this.stopRequested) return this.ended('stopped', event);
      event = agiEvent('WAIT FOR DIGIT', { timeoutMs: wait, digit: key });
      state = key === null ? digitTimeout(state) : pressDigit(rules, state, key);
    }
    this.digits = state;
    if (state.end === 'no-input') return this.ended('no_input', event);
    return this.ended('digit', event, { result: state.digits, terminator: state.terminator });
  }

  /** Speech (or, in a `both` prompt, a key) after the media. */
  private async listen(agi: Agi): Promise<PromptResult> {
    const { plan, mapping, recognizer } = this.job;
    const rules = plan.speech;
    // Checked before the prompt started: a speech prompt never runs without them.
    if (!rules || !mapping || !recognizer) return this.ended('error', null);
    const amiStops = this.call.runtime.ami !== undefined;
    const captured = await captureSpeech({
      agi,
      mapping,
      name: this.controlId,
      rules,
      initialTimeoutMs: plan.initialTimeoutMs,
      escapeDigits: plan.digits ? DTMF_CHARS : amiStops ? this.job.stopDigit : '',
      keysAreInput: plan.digits !== null,
      stopRequested: () => this.stopRequested,
      recording: (on) => {
        this.step = on ? 'recording' : 'other';
      },
      recorded: (endedOn) => this.stopKey.drain(agi, endedOn),
    });
    switch (captured.kind) {
      case 'stopped':
        return this.ended('stopped', captured.event);
      case 'silence':
        return this.ended('no_input', captured.event);
      case 'key':
        return this.collectDigits(agi, captured.key, captured.event);
      case 'speech':
        break;
    }
    this.step = 'recognizing';
    try {
      if (this.stopRequested) return this.ended('stopped', captured.event);
      const heard = await this.raceStop(recognizer.recognize(captured.file, { language: rules.language, hints: rules.hints }));
      if (heard === undefined) return this.ended('stopped', captured.event);
      const event: RelayEvent = { name: 'speech.recognized', payload: { text: heard?.text ?? null, confidence: heard?.confidence ?? null, durationMs: captured.durationMs } };
      if (!heard || heard.text.trim() === '') return this.ended('no_match', event);
      return this.ended('speech', event, { result: heard.text, confidence: heard.confidence });
    } finally {
      this.step = 'other';
      await removeCapture(captured);
    }
  }

  /** Runs an interruptible command; `undefined` when {@link stop} interrupted it. */
  private async interruptible<T>(command: () => Promise<T>): Promise<T | undefined> {
    try {
      return await command();
    } catch (error) {
      if (error instanceof AgiInterruptedError && this.stopRequested) return undefined;
      throw error;
    }
  }

  /** `promise`, or `undefined` as soon as the prompt is stopped. */
  private raceStop<T>(promise: Promise<T>): Promise<T | undefined> {
    const signal = this.recognition.signal;
    if (signal.aborted) return Promise.resolve(undefined);
    return new Promise<T | undefined>((resolve, reject) => {
      const onAbort = (): void => resolve(undefined);
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private get recognition(): AbortController {
    this.recognitionValue ??= new AbortController();
    return this.recognitionValue;
  }

  /** Puts the channel's volume back once the media is over (after any AMI change still in flight). */
  private async resetVolume(agi: Agi): Promise<void> {
    await this.volumeChanges;
    if (!this.volumeSet) return;
    this.volumeSet = false;
    await setVolumeOverAgi(agi, 0).catch((error: unknown) => {
      if (!(error instanceof AgiHangupError)) this.call.log.debug({ err: error }, 'resetting VOLUME(TX) after a prompt failed');
    });
  }

  /** Ends `RECORD FILE` by having Asterisk receive the stop key (AMI `PlayDTMF`, `Receive: yes`). */
  private async stopRecording(deadline: number): Promise<void> {
    const ami = this.call.ami;
    if (!ami) return;
    try {
      await this.stopKey.send(() => ami.receiveDigit(this.stopKey.digit, Math.max(1, deadline - Date.now())));
    } catch (error) {
      if (!this.completed) this.call.log.debug({ err: error }, 'AMI PlayDTMF to stop a speech prompt failed');
    }
  }

  /** The result; a stopped prompt reports the digits it had collected. */
  private ended(type: PromptResultType, event: RelayEvent | null, found: { result?: string; terminator?: string | null; confidence?: number } = {}): PromptResult {
    const stoppedDigits = type === 'stopped' && this.digits && !this.digits.done ? this.digits.digits || null : null;
    return {
      successful: type === 'digit' || type === 'speech',
      event,
      type,
      result: found.result ?? stoppedDigits,
      terminator: found.terminator ?? null,
      confidence: found.confidence ?? null,
    };
  }
}

/**
 * The seed's `PromptAction`: the handle of a prompt an `*Async` method started. `stop()` ends it
 * (result type `stopped`); `volume(db)` changes the media's volume while it plays.
 */
export class PromptAction extends Action<PromptResult, PromptState> {
  /**
   * Stops the prompt (result type `stopped`, with the digits collected so far).
   *
   * @throws RelayCapabilityError (`ami`) for a speech or `both` prompt on a call without AMI: such a
   *   prompt records with `RECORD FILE`, which only AMI can interrupt. (Its `signal` still stops it
   *   at the end of the recording.)
   */
  override async stop(): Promise<StopResult> {
    const prompt = this.component as PromptComponent;
    if (prompt.recordsSpeech && !prompt.completed && !this.call.runtime.ami) {
      throw new RelayCapabilityError('ami', 'PromptAction.stop', 'a speech prompt records with RECORD FILE, which AGI cannot interrupt');
    }
    return super.stop();
  }

  /**
   * Changes the volume of the prompt's media now (dB, -40..+40). `successful: false` once the prompt
   * has ended; after its media has played there is nothing to change and it resolves successful.
   *
   * @throws RelayCapabilityError (`ami`) without an AMI connection: AGI cannot act while the media plays
   * @throws RelayArgumentError for a volume outside -40..+40
   */
  volume(db: number): Promise<ControlResult> {
    return (this.component as PromptComponent).changeVolume(db);
  }
}

/**
 * Starts a prompt and returns its action: checks the parameters, the capabilities and the media
 * (synthesising speech, fetching URLs) before anything plays, then starts collecting.
 *
 * @throws RelayArgumentError for bad parameters or media
 * @throws RelayCapabilityError when the prompt needs a recognizer, a media directory or TTS that the runtime lacks
 */
export async function startPrompt(call: Call, method: string, params: PromptParams, mediaList: readonly unknown[], options: MethodOptions = {}): Promise<PromptAction> {
  const plan = checkPrompt(params, mediaList, method);
  const runtime = call.runtime;
  const media = runtime.media;
  const recognizer = runtime.options.speech;
  if (plan.speech) {
    if (!recognizer) throw new RelayCapabilityError('speech-recognizer', method, `a ${plan.type} prompt has its speech recognised by RelayOptions.speech, and none is configured`);
    if (!media.directory) throw new RelayCapabilityError('media-directory', method, "to record the caller's speech where agikit can read it");
  }
  if (plan.media.some((item) => item.type === 'tts') && !media.tts) throw new RelayCapabilityError('tts', method);
  const prepared = await prepareAll(plan.media, { media, language: call.agi?.env.language || 'en', ...(options.signal ? { signal: options.signal } : {}) });
  const job: PromptJob = {
    method,
    plan,
    media: prepared,
    recognizer,
    mapping: media.directory ? new PathMapping(media.directory) : undefined,
    stopDigit: media.stopDigit ?? 'D',
  };
  const payload = { ...params, mediaList: plan.media };
  return startAction(new PromptComponent(call, job, payload, options), (component) => new PromptAction(component), options);
}

/**
 * Prepares every item before anything plays (speech synthesised, URLs fetched), so that a list that
 * cannot play fails as a whole. Aborted meanwhile: nothing to play (the prompt then ends `stopped`).
 */
async function prepareAll(items: readonly Media[], context: MediaContext): Promise<PreparedMedia[]> {
  const prepared: PreparedMedia[] = [];
  try {
    for (const item of items) {
      if (context.signal?.aborted) return [];
      prepared.push(await prepareMedia(item, context));
    }
  } catch (error) {
    if (context.signal?.aborted) return [];
    throw error;
  }
  return prepared;
}

/** `promptAudio`'s parameters as `prompt` takes them. */
export function audioPrompt(options: PromptAudioOptions): [PromptParams, Media[]] {
  const { url, ...params } = options;
  return [params, [{ type: 'audio', url }]];
}

/** `promptTTS`'s parameters as `prompt` takes them. */
export function ttsPrompt(options: PromptTTSOptions): [PromptParams, Media[]] {
  const { text, language, gender, ...params } = options;
  return [params, [{ type: 'tts', text, ...(language === undefined ? {} : { language }), ...(gender === undefined ? {} : { gender }) }]];
}

/** `promptRingtone`'s parameters as `prompt` takes them. */
export function ringtonePrompt(options: PromptRingtoneOptions): [PromptParams, Media[]] {
  const { name, duration, ...params } = options;
  return [params, [{ type: 'ringtone', name, ...(duration === undefined ? {} : { duration }) }]];
}

/** `prompt`'s own parameters split from its media list. */
export function listPrompt(options: PromptOptions): [PromptParams, readonly Media[]] {
  if (typeof options !== 'object' || options === null) throw new RelayArgumentError('prompt: parameters must be an object');
  const { mediaList, ...params } = options;
  return [params, mediaList];
}
