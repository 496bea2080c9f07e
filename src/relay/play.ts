/**
 * The play family of the Relay `Call` (`play`, `playAudio`, `playTTS`, `playSilence`,
 * `playRingtone`, each with `*Async`), and its {@link PlayAction}.
 *
 * A play is one {@link PlayComponent} holding the call's foreground lane while it plays its media list
 * item by item:
 * - a file (sound name, local file, fetched URL, synthesized speech, generated silence) is
 *   `STREAM FILE`, stopped by interrupting it; when the call has AMI it is
 *   `CONTROL STREAM FILE f "" 0` instead (skip 0: the caller's `#`/`*` do not seek), stopped by AMI
 *   `ControlPlayback stop`, whose reply says where it stopped;
 * - a ringtone is `EXEC PlayTones <list>` (the generator plays while AGI waits), `WAIT FOR DIGIT`
 *   until its duration has passed (digits ignored; interrupting it stops the wait), then
 *   `EXEC StopPlayTones`;
 * - `volume` is the channel's `VOLUME(TX)`: set over AGI before the first item, over AMI `Setvar`
 *   by `PlayAction.volume()`, reset afterwards.
 *
 * Pause (AMI only) stops the running item where it is (the `CONTROL STREAM FILE` reply's `endpos`,
 * or the ringtone's elapsed time) and plays silence until resumed; resume plays the item on from
 * that point (`CONTROL STREAM FILE` with an offset; the ringtone's tone list rotated). This rather
 * than `ControlPlayback pause`, which toggles, cannot be confirmed (AMI answers `Success` whatever
 * happens) and sends no frames at all while paused unless Asterisk's `transmit_silence` is on: here
 * the reply confirms the pause, and the far end keeps receiving (silent) media.
 *
 * @module
 */

import type { Agi } from '../agi/agi.js';
import { AgiAbortError, AgiCommandError, AgiHangupError, AgiInterruptedError } from '../errors.js';
import { MEDIA_COMMAND_TIMEOUT_MS } from '../media/call.js';
import { agiEvent, type Call } from './call.js';
import { Action, Component, startAction, type MethodOptions } from './component.js';
import { CallNotControllableError, RelayError } from './errors.js';
import type { CallEventName } from './events.js';
import { checkMediaList, prepareMedia, requireMediaCapabilities, type Media, type MediaContext, type PreparedMedia } from './media-list.js';
import type { ControlResult, PlayResult, RelayEvent } from './results.js';
import { tonesFrom, type RingtoneName } from './ringtones.js';
import { checkVolume, setVolumeOverAgi, setVolumeOverAmi, VOLUME_TX } from './volume.js';

/** The states of a play: `none` until it starts (it may wait for the call's lane), then the seed's. */
export type PlayState = 'none' | 'playing' | 'paused' | 'finished' | 'error';

/** Options of every play method. */
export interface PlayOptions extends MethodOptions {
  /** Volume in dB, from -40 to +40; 0 (the default) leaves it unchanged. */
  volume?: number;
}

/** What `playTTS` speaks. */
export interface PlayTTSParams {
  readonly text: string;
  /** E.g. `en-US`; default: the call's language. */
  readonly language?: string;
  /** `male` or `female`; default: the TTS provider's voice. */
  readonly gender?: 'male' | 'female';
}

/** Which ringtone `playRingtone` plays, and for how long. */
export interface PlayRingtoneParams {
  /** One of the seed's 39 country codes (`us`, `uk`, `de`, ...). */
  readonly name: RingtoneName;
  /** Seconds; default one ring cadence (e.g. 6 s for `us`). */
  readonly duration?: number;
}

/** Options passed to every AGI command of a play: it lasts as long as its media. */
const MEDIA = { timeoutMs: MEDIA_COMMAND_TIMEOUT_MS } as const;
/** How often `stop()` interrupts again while the play has not ended (ms). */
const HALT_RETRY_MS = 50;
/**
 * Least time between two AMI `ControlPlayback stop`s for one item (ms): the reply normally comes
 * within a few ms, and a needless second stop would stay queued on the channel for whatever reads
 * its frames next.
 */
const AMI_STOP_SPACING_MS = 500;
/**
 * How long a `WAIT FOR DIGIT` lets Asterisk drain a `ControlPlayback stop` that came too late (the
 * file ended first): left queued, it would cut the next file the channel plays (ms).
 */
const DRAIN_MS = 100;
/** How long `pause()` and `resume()` wait for the play to confirm (ms). */
const CONTROL_WAIT_MS = 5000;
/** Core sound played (again and again) while paused: real silent frames. */
const PAUSE_FILLER = 'silence/10';
/** Longest `WAIT FOR DIGIT` while paused when the filler sound is missing (ms). */
const PAUSE_WAIT_MS = 60_000;

/** Where the play is: what a stop, pause or resume must end. */
type Step = 'idle' | 'stream' | 'control' | 'tones' | 'paused';

/** How one attempt at an item ended: played to its end, or cut at a position (stop or pause). */
interface ItemOutcome {
  readonly event: RelayEvent;
  /** Where it was cut (ms into the item), `null` when it played to its end. */
  readonly cutAtMs: number | null;
}

/** The play component: a media list played item by item on the call's lane; see the module comment. */
export class PlayComponent extends Component<PlayResult, PlayState> {
  protected readonly haltRetryMs = HALT_RETRY_MS;
  private step: Step = 'idle';
  private pauseRequested = false;
  private volumeDb: number;
  /** `VOLUME(TX)` was set by this play, so it is reset at the end. */
  private volumeTouched = false;
  private lastAmiStopAt = 0;
  /** The last AMI `ControlPlayback stop`, while or after it is sent. */
  private amiStop: Promise<unknown> | undefined;
  /** pause() asked to cut the running item: a cut then means "go on from there", not "stopped". */
  private pauseCut = false;
  private fillerMissing = false;
  /** Why the play failed (state `error`), once it has. */
  private failure: string | undefined;
  /** Aborts fetches and synthesis still running when the play ends; made when one asks for its signal. */
  private preparing: AbortController | undefined;

  constructor(
    call: Call,
    private readonly items: readonly Media[],
    volumeDb: number,
    options: PlayOptions,
  ) {
    super(call, 'play', { media: items, volume: volumeDb }, 'none', options);
    this.volumeDb = volumeDb;
  }

  /** Pauses it (see the module comment); resolves once it is paused, or has ended. */
  async pause(): Promise<ControlResult> {
    this.call.runtime.requireAmi('PlayAction.pause');
    if (this.completed) return { successful: false };
    this.pauseRequested = true;
    if (this.state === 'none' || this.state === 'paused') return { successful: true };
    this.pauseCut = true;
    return { successful: await this.nudgeUntil(() => this.state === 'paused', () => !this.pauseRequested) };
  }

  /** Resumes a paused play where it was; resolves once it plays again, or has ended. */
  async resume(): Promise<ControlResult> {
    this.call.runtime.requireAmi('PlayAction.resume');
    if (this.completed) return { successful: false };
    this.pauseRequested = false;
    // Not paused yet (a pause still on its way): the play goes on from wherever that pause cuts it.
    if (this.state !== 'paused') return { successful: true };
    return { successful: await this.nudgeUntil(() => this.state === 'playing', () => this.pauseRequested) };
  }

  /** Sets the volume (dB, -40..+40) of the running play over AMI, and of what is left of it. */
  async volume(db: number): Promise<ControlResult> {
    const ami = this.call.requireAmi('PlayAction.volume');
    const value = checkVolume(db, 'PlayAction.volume');
    if (this.completed) return { successful: false };
    this.volumeDb = value;
    if (this.state === 'none') return { successful: true };
    this.volumeTouched = true;
    try {
      await setVolumeOverAmi(ami, value);
      return { successful: true };
    } catch (error) {
      this.call.log.warn({ err: error }, 'PlayAction.volume: AMI Setvar failed');
      return { successful: false };
    }
  }

  protected async execute(): Promise<PlayResult> {
    const prepared: Array<Promise<PreparedMedia>> = [];
    // A sound name is prepared without the signal: the controller (and the abort's DOMException) only for fetches and synthesis.
    const signal = (): AbortSignal => (this.preparing ??= new AbortController()).signal;
    const context: MediaContext = {
      media: this.call.runtime.media,
      language: this.call.agi?.env.language ?? 'en',
      get signal() {
        return signal();
      },
    };
    const prepare = (index: number): Promise<PreparedMedia> => {
      const item = this.items[index] as Media;
      const promise = (prepared[index] ??= prepareMedia(item, context));
      promise.catch(() => undefined); // a prefetched item's failure is reported when its turn comes
      return promise;
    };
    void prepare(0);
    try {
      return await this.inLane(async (agi) => {
        try {
          return await this.playList(agi, prepare);
        } finally {
          await this.resetVolume(agi);
        }
      });
    } finally {
      this.preparing?.abort();
    }
  }

  protected failed(error: unknown): PlayResult {
    if (error instanceof AgiHangupError || error instanceof CallNotControllableError) return { successful: false, event: null };
    if (error instanceof AgiAbortError && this.stopRequested) return { successful: false, event: null };
    this.call.log.warn({ err: error, controlId: this.controlId }, 'play failed');
    this.failure = error instanceof Error ? error.message : String(error);
    return { successful: false, event: { name: 'play.error', payload: { error: this.failure } } };
  }

  protected endState(): PlayState {
    return this.failure === undefined ? 'finished' : 'error';
  }

  protected override stateChanged(state: PlayState): void {
    for (const event of playEvents(state)) this.call.fireAction(event, this.handle);
  }

  /** Makes the running step end: interrupt it, or for `CONTROL STREAM FILE` ask AMI. */
  protected haltRunning(): void | Promise<void> {
    return this.endStep();
  }

  private async playList(agi: Agi, prepare: (index: number) => Promise<PreparedMedia>): Promise<PlayResult> {
    if (this.stopRequested) return { successful: false, event: null };
    if (this.volumeDb !== 0) {
      this.volumeTouched = true;
      await setVolumeOverAgi(agi, this.volumeDb);
    }
    let event: RelayEvent | null = null;
    for (let index = 0; index < this.items.length; index++) {
      const item = await prepare(index);
      if (index + 1 < this.items.length) void prepare(index + 1);
      const outcome = await this.playItem(agi, item);
      if (outcome === null) return { successful: false, event };
      event = outcome;
    }
    return { successful: true, event };
  }

  /** Plays one item to its end (through pauses); `null` when it was stopped. */
  private async playItem(agi: Agi, item: PreparedMedia): Promise<RelayEvent | null> {
    let atMs = 0;
    for (;;) {
      if (this.stopRequested) return null;
      if (this.pauseRequested) {
        await this.stayPaused(agi);
        continue;
      }
      this.setState('playing');
      const outcome = item.kind === 'tones' ? await this.playTones(agi, item, atMs) : await this.playFile(agi, item.file, atMs);
      if (outcome.cutAtMs === null) return outcome.event;
      // Cut short: by pause() it goes on from there (once resumed); by stop() or anyone else it ends.
      if (this.stopRequested || !this.pauseCut) return null;
      this.pauseCut = false;
      atMs = outcome.cutAtMs;
    }
  }

  private async playFile(agi: Agi, file: string, atMs: number): Promise<ItemOutcome> {
    if (this.call.ami?.connected) {
      this.step = 'control';
      const stop = this.amiStop;
      let reply;
      try {
        reply = await agi.controlStreamFile(file, '', { skipMs: 0, ...(atMs > 0 ? { offsetMs: atMs } : {}) }, MEDIA);
      } finally {
        this.step = 'idle';
      }
      if (reply.endposMs === null && this.amiStop !== stop) {
        // A stop was sent but the file ended first: WAIT FOR DIGIT returns on it, so it cannot cut
        // the next file the channel plays.
        await this.amiStop;
        await agi.waitForDigit(DRAIN_MS, MEDIA);
      }
      return { event: agiEvent('CONTROL STREAM FILE', { endposMs: reply.endposMs }), cutAtMs: reply.endposMs };
    }
    this.step = 'stream';
    const startedAt = Date.now();
    try {
      const reply = await agi.streamFile(file, '', undefined, MEDIA);
      return { event: agiEvent('STREAM FILE', { endpos: reply.endpos }), cutAtMs: null };
    } catch (error) {
      if (!(error instanceof AgiInterruptedError)) throw error;
      // An interrupted STREAM FILE prints no reply, so no position: only stop() cuts it (no pause without AMI).
      return { event: agiEvent('STREAM FILE', { interrupted: true }), cutAtMs: Date.now() - startedAt };
    } finally {
      this.step = 'idle';
    }
  }

  private async playTones(agi: Agi, item: Extract<PreparedMedia, { kind: 'tones' }>, atMs: number): Promise<ItemOutcome> {
    const code = await agi.exec('PlayTones', tonesFrom(item.tones, atMs));
    if (code !== 0) throw new RelayError(`PlayTones refused the tone list ${item.tones}`);
    const zeroAt = Date.now() - atMs;
    const left = (): number => item.durationMs - (Date.now() - zeroAt);
    this.step = 'tones';
    try {
      while (left() > 0 && !this.stopRequested && !this.pauseRequested) {
        try {
          await agi.waitForDigit(Math.max(1, Math.ceil(left())), MEDIA);
        } catch (error) {
          if (error instanceof AgiInterruptedError) break;
          throw error;
        }
      }
    } finally {
      this.step = 'idle';
      if (!agi.hangupReason) await agi.exec('StopPlayTones');
    }
    const playedMs = Date.now() - zeroAt;
    const done = playedMs >= item.durationMs;
    return { event: agiEvent('EXEC', { application: 'StopPlayTones', playedMs: Math.min(playedMs, item.durationMs) }), cutAtMs: done ? null : playedMs };
  }

  /** Plays silence until resumed or stopped. */
  private async stayPaused(agi: Agi): Promise<void> {
    this.setState('paused');
    this.step = 'paused';
    this.pauseCut = false;
    try {
      while (this.pauseRequested && !this.stopRequested) {
        try {
          if (this.fillerMissing) await agi.waitForDigit(PAUSE_WAIT_MS, MEDIA);
          else await agi.streamFile(PAUSE_FILLER, '', undefined, MEDIA);
        } catch (error) {
          if (error instanceof AgiInterruptedError) continue;
          if (!(error instanceof AgiCommandError) || this.fillerMissing) throw error;
          this.fillerMissing = true;
          this.call.log.warn(`play: the sound ${PAUSE_FILLER} is missing; paused without sending media`);
        }
      }
    } finally {
      this.step = 'idle';
    }
  }

  /** Ends the step that runs now (a no-op between steps: the play loop reads the flags there). */
  private async endStep(): Promise<void> {
    const agi = this.call.agi;
    if (!agi) return;
    if (this.step !== 'control') {
      agi.interrupt();
      return;
    }
    const ami = this.call.ami;
    if (!ami || Date.now() - this.lastAmiStopAt < AMI_STOP_SPACING_MS) return;
    this.lastAmiStopAt = Date.now();
    this.amiStop = ami.controlPlayback('stop').catch((error: unknown) => this.call.log.warn({ err: error }, 'play: AMI ControlPlayback stop failed'));
    await this.amiStop;
  }

  /**
   * Ends the running step until `reached()`; `false` if the play ends first, or `superseded()` (a
   * later resume or pause), or {@link CONTROL_WAIT_MS} passes.
   */
  private async nudgeUntil(reached: () => boolean, superseded: () => boolean): Promise<boolean> {
    const deadline = Date.now() + CONTROL_WAIT_MS;
    while (!reached() && !this.completed && !superseded()) {
      await this.endStep();
      const left = deadline - Date.now();
      if (left <= 0) break;
      await this.wait(Math.min(HALT_RETRY_MS, left));
    }
    return reached() && !this.completed;
  }

  private async resetVolume(agi: Agi): Promise<void> {
    if (!this.volumeTouched || agi.hangupReason) return;
    await agi.setVariable(VOLUME_TX, '0').catch((error: unknown) => this.call.log.warn({ err: error }, 'play: could not reset VOLUME(TX)'));
  }
}

/** The events a play emits when it moves to `state`: `play.stateChange`, then `play.<state>`. */
export function playEvents(state: PlayState): CallEventName[] {
  return state === 'none' ? [] : ['play.stateChange', `play.${state}` as const];
}

/**
 * The seed's `PlayAction`: what a `play*Async` method returns. Besides `stop()`, `state`,
 * `completed`, `result`: `pause()`, `resume()` and `volume()`, which need AMI
 * (`RelayCapabilityError` without it).
 */
export class PlayAction extends Action<PlayResult, PlayState> {
  constructor(protected override readonly component: PlayComponent) {
    super(component);
  }

  /**
   * Pauses the play where it is; silence plays until {@link resume}. Successful once it is paused
   * (`play.paused`); `false` when it had ended. Pausing a paused play does nothing.
   *
   * @throws RelayCapabilityError without AMI
   */
  pause(): Promise<ControlResult> {
    return this.component.pause();
  }

  /**
   * Plays a paused play on from where it was paused. Successful once it plays again; `false` when
   * it had ended.
   *
   * @throws RelayCapabilityError without AMI
   */
  resume(): Promise<ControlResult> {
    return this.component.resume();
  }

  /**
   * Changes the volume of the running play to `db` (-40..+40, 0: unchanged from the original).
   *
   * @throws RelayCapabilityError without AMI; RelayArgumentError outside the range
   */
  volume(db: number): Promise<ControlResult> {
    return this.component.volume(db);
  }
}

/**
 * Starts a play of `mediaList` on `call`: checks everything first (nothing is sent for a bad list,
 * volume or missing capability), then returns the action while the play runs or waits for the lane.
 * `method` names the Relay method in errors.
 *
 * @throws RelayArgumentError, RelayCapabilityError, CallBusyError
 */
export async function startPlay(call: Call, mediaList: readonly unknown[], options: PlayOptions, method: string): Promise<PlayAction> {
  const items = checkMediaList(mediaList);
  const volume = checkVolume(options.volume ?? 0, `${method}: volume`);
  requireMediaCapabilities(items, call.runtime.media, method);
  return startAction(new PlayComponent(call, items, volume, options), (component) => new PlayAction(component), options);
}

/** The one-item media lists of the helpers. */
export const playItems = {
  audio: (url: string): Media[] => [{ type: 'audio', url }],
  tts: (params: PlayTTSParams): Media[] => [{ type: 'tts', ...params }],
  silence: (duration: number): Media[] => [{ type: 'silence', duration }],
  ringtone: (params: PlayRingtoneParams): Media[] => [{ type: 'ringtone', ...params }],
};

