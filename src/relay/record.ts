/**
 * `record()` / `recordAsync()`: the {@link RecordAction} and the component behind it.
 *
 * Two mechanisms (see {@link recordMechanism}):
 * - a mono recording of the caller (`speak`) is a `RECORD FILE` in the call's foreground lane:
 *   `WaitForNoise` first for `initialTimeout`, `s=` for `endSilenceTimeout`, the terminators as
 *   escape digits; `stop()` has Asterisk receive a reserved digit over AMI (`PlayDTMF`).
 * - `listen`, `both` and stereo are a `MixMonitor` (an audiohook: the lane stays free, the call can
 *   play and prompt meanwhile), stopped with `StopMixMonitor`. MixMonitor watches nothing itself:
 *   with AMI, agikit ends it on the terminators (`DTMFEnd` events) and on the caller's speech
 *   (`TALK_DETECT`'s `ChannelTalkingStart`/`ChannelTalkingStop` events); without AMI, a `RECORD FILE`
 *   into a scratch file watches them in the lane, as for `speak`.
 *
 * Recordings go to `<media directory>/recordings/<controlId>.wav` (or `.mp3`).
 *
 * @module
 */

import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Agi } from '../agi/agi.js';
import { AgiAbortError, AgiHangupError } from '../errors.js';
import { MEDIA_COMMAND_TIMEOUT_MS } from '../media/call.js';
import { PathMapping } from '../media/paths.js';
import { StopDigit } from '../media/stop-digit.js';
import type { AmiMessage } from '../ami/message.js';
import { agiEvent, type Call } from './call.js';
import type { ChannelAmi } from './channel-ami.js';
import { Action, Component, startAction } from './component.js';
import { CallNotControllableError, RelayCapabilityError, RelayError } from './errors.js';
import {
  checkRecordOptions,
  hasEndConditions,
  mixMonitorArgs,
  recordFileTimings,
  recordMechanism,
  type MixMonitorArgs,
  type RecordOptions,
  type RecordSettings,
} from './record-options.js';
import { encodeMp3, lameAvailable, measureWav, stereoWavFromRaw, waitUntilClosed } from './recording-files.js';
import type { RelayEvent, RecordResult, StopResult } from './results.js';

/**
 * States of a recording: `pending` until it starts (waiting for the lane), `recording`, then
 * `finished` (whatever ended it: the result says whether there is a file) or `no_input` (nothing was
 * heard within `initialTimeout`).
 */
export type RecordState = 'pending' | 'recording' | 'finished' | 'no_input';

/** Subdirectory of the media directory that holds recordings. */
export const RECORDINGS_SUBDIRECTORY = 'recordings';

/** Sound `WaitForNoise` must hear before the recording starts (ms). */
const NOISE_REQUIRED_MS = 60;
/** How often `stop()` asks again (AMI `PlayDTMF` of the stop digit) while the recording has not ended. */
const STOP_RETRY_MS = 1000;
/** The channel variable MixMonitor stores its id in (`i()`), to stop exactly that MixMonitor. */
const MIXMONITOR_ID_VARIABLE = 'AGIKIT_MIXMONITOR_ID';
/** `TALK_DETECT`'s silence threshold when only the initial timeout needs it (ms). */
const TALK_DETECT_DEFAULT_SILENCE_MS = 2500;

/** How the capture ended, before agikit finishes the file. */
interface Capture {
  readonly end: 'finished' | 'no_input' | 'failed';
  readonly event: RelayEvent | null;
}

/** Where the component is, for `stop()`. */
type Phase = 'queued' | 'beep' | 'waiting-for-audio' | 'recording-file' | 'starting' | 'background' | 'stopping' | 'finishing';

const HANGUP_EVENT: RelayEvent = { name: 'call.ended', payload: {} };

/** The event of an AMI event. */
function amiEvent(event: AmiMessage): RelayEvent {
  return { name: `ami.${event.get('Event') ?? ''}`, payload: event.toObject() };
}

/** One recording on a call. */
class RecordComponent extends Component<RecordResult, RecordState> {
  protected readonly haltRetryMs = STOP_RETRY_MS;
  /** The recording on agikit's side, without extension. */
  readonly localBase: string;
  /** The same for Asterisk. */
  private readonly asteriskBase: string;
  /** What Asterisk writes, on agikit's side, and how; set once the recording starts. */
  private written: { readonly local: string; readonly kind: 'wav' | 'raw' } | undefined;
  private phase: Phase = 'queued';
  /** The end state: `no_input` when nothing was heard in time. */
  private outcome: 'finished' | 'no_input' = 'finished';
  /** Wakes a MixMonitor recording running in the background when `stop()` is called. */
  private readonly stopNow = new AbortController();
  private readonly ami: ChannelAmi | undefined;
  /** What ends a `RECORD FILE` on `stop()` (over AMI). */
  private readonly stopKey: StopDigit;

  constructor(
    call: Call,
    readonly settings: RecordSettings,
    mapping: PathMapping,
    laneOptions: RecordOptions,
  ) {
    super(call, 'record', { ...settings }, 'pending', { queue: laneOptions.queue, preempt: laneOptions.preempt });
    const base = path.join(mapping.localRoot, RECORDINGS_SUBDIRECTORY, this.controlId);
    this.localBase = base;
    this.asteriskBase = mapping.toAsterisk(base) ?? base;
    this.ami = call.ami;
    this.stopKey = new StopDigit(call.runtime.media.stopDigit ?? 'D');
  }

  /** The file the finished recording will be (on agikit's side). */
  get finalFile(): string {
    return `${this.localBase}.${this.settings.format}`;
  }

  /** Whether a `RECORD FILE` runs, which only AMI can stop. */
  get runsRecordFile(): boolean {
    return recordMechanism(this.settings) === 'record-file' || (!this.ami && hasEndConditions(this.settings));
  }

  protected async execute(): Promise<RecordResult> {
    let capture: Capture;
    try {
      await mkdir(path.dirname(this.localBase), { recursive: true });
      capture = recordMechanism(this.settings) === 'record-file' ? await this.recordFile() : await this.mixMonitor();
    } catch (error) {
      // Stopped while queued, or the call ended first: nothing to report beyond the result.
      const expected = error instanceof AgiAbortError || error instanceof AgiHangupError || error instanceof CallNotControllableError || !this.call.active;
      if (expected) this.call.log.debug({ err: error }, 'record: ended before it recorded');
      else this.call.log.error({ err: error }, 'record failed');
      capture = { end: 'failed', event: null };
    }
    return this.finishFile(capture);
  }

  protected failed(error: unknown): RecordResult {
    this.call.log.error({ err: error }, 'record failed');
    return { successful: false, event: null, url: '', duration: 0, size: 0 };
  }

  protected endState(): RecordState {
    return this.outcome;
  }

  protected override stateChanged(state: RecordState): void {
    this.call.fireAction('record.stateChange', this.handle);
    if (state === 'recording') this.call.fireAction('record.recording', this.handle);
    else if (state === 'finished') this.call.fireAction('record.finished', this.handle);
    else if (state === 'no_input') this.call.fireAction('record.no_input', this.handle);
  }

  /** A background MixMonitor is woken; a lane-held or queued one goes the {@link Component} way; in between, the work checks `stopRequested`. */
  protected override halt(deadline: number): void | Promise<void> {
    if (this.phase === 'background') {
      this.stopNow.abort();
      return;
    }
    if (this.phase === 'queued' || this.phase === 'beep' || this.phase === 'waiting-for-audio' || this.phase === 'recording-file') return super.halt(deadline);
  }

  /** Ends a running `RECORD FILE` by having the channel receive the stop digit (AMI); a beep or `WaitForNoise` ends by itself. */
  protected async haltRunning(deadline: number): Promise<void> {
    const ami = this.ami;
    if (this.phase !== 'recording-file' || !ami) return;
    try {
      await this.stopKey.send(() => ami.receiveDigit(this.stopKey.digit, Math.max(1, deadline - Date.now())));
    } catch (error) {
      if (!this.completed) this.call.log.debug({ err: error }, 'record: AMI PlayDTMF of the stop digit failed');
    }
  }

  // -------------------------------------------------------------------------------------------
  // RECORD FILE

  private recordFile(): Promise<Capture> {
    return this.inLane(async (agi) => {
      this.written = { local: `${this.localBase}.wav`, kind: 'wav' };
      return this.captureCaller(agi, this.asteriskBase, this.settings.beep);
    });
  }

  /**
   * The `RECORD FILE` step, in the lane: the beep, `WaitForNoise` for the initial timeout, then
   * `RECORD FILE <base> wav` with the terminators (and, with AMI, the stop digit) as escape digits and
   * `s=` for the end silence. A hangup while it records keeps what was recorded.
   */
  private async captureCaller(agi: Agi, asteriskBase: string, beep: boolean): Promise<Capture> {
    const { silenceSeconds, initialWaitSeconds } = recordFileTimings(this.settings);
    if (beep) {
      this.phase = 'beep';
      await agi.streamFile('beep', '');
    }
    this.setState('recording');
    if (initialWaitSeconds !== undefined && !this.stopRequested) {
      this.phase = 'waiting-for-audio';
      await agi.exec('WaitForNoise', NOISE_REQUIRED_MS, 1, initialWaitSeconds);
      const status = await agi.getVariable('WAITSTATUS');
      if (status === 'TIMEOUT') return { end: 'no_input', event: agiEvent('EXEC', { application: 'WaitForNoise', WAITSTATUS: status }) };
      if (status === 'HANGUP') return { end: 'failed', event: HANGUP_EVENT };
    }
    if (this.stopRequested) return { end: 'failed', event: null };
    this.phase = 'recording-file';
    const stopDigit = this.stopKey.digit;
    const escape = this.settings.terminators + (this.ami && !this.settings.terminators.includes(stopDigit) ? stopDigit : '');
    try {
      const result = await agi.recordFile(asteriskBase, 'wav', escape, -1, silenceSeconds === undefined ? {} : { silenceSeconds }, { timeoutMs: MEDIA_COMMAND_TIMEOUT_MS });
      this.phase = 'stopping';
      await this.stopKey.drain(agi, result.digit);
      const stopped = this.stopRequested && result.digit === this.stopKey.digit;
      return { end: 'finished', event: agiEvent('RECORD FILE', { result: stopped ? 'stopped' : result.reason, digit: result.digit, endpos: result.endpos }) };
    } catch (error) {
      // A hangup leaves what was recorded: a voicemail ends that way.
      if (error instanceof AgiHangupError) return { end: 'finished', event: HANGUP_EVENT };
      throw error;
    } finally {
      this.phase = 'stopping';
    }
  }

  // -------------------------------------------------------------------------------------------
  // MixMonitor

  private async mixMonitor(): Promise<Capture> {
    const ami = this.ami;
    if (!ami) return this.mixMonitorOverAgi();
    const s = this.settings;
    // MixMonitor's own beep (p) would play from AMI's thread on a channel AGI drives: beep in the lane.
    if (s.beep) {
      await this.inLane(async (agi) => {
        this.phase = 'beep';
        await agi.streamFile('beep', '');
      });
    }
    this.phase = 'starting';
    if (this.stopRequested) return { end: 'failed', event: null };
    const args = mixMonitorArgs(s, this.asteriskBase, MIXMONITOR_ID_VARIABLE, false);
    this.written = this.writtenFile(args);
    const id = await ami.mixMonitor(args.file, args.options);
    this.phase = 'background';
    this.setState('recording');
    try {
      return await this.watchOverAmi(ami);
    } finally {
      await this.endMixMonitor(() => ami.stopMixMonitor(id));
    }
  }

  /**
   * Without AMI: `EXEC MixMonitor` in the lane; the end conditions are watched by a `RECORD FILE` into
   * a scratch file in the same lane hold; with none asked for, the lane is let go, and `stop()` or a
   * hangup ends the recording (`EXEC StopMixMonitor` in the lane).
   */
  private async mixMonitorOverAgi(): Promise<Capture> {
    const args = mixMonitorArgs(this.settings, this.asteriskBase, MIXMONITOR_ID_VARIABLE, this.settings.beep);
    const start = async (agi: Agi): Promise<string> => {
      this.written = this.writtenFile(args);
      if ((await agi.exec('MixMonitor', args.file, args.options)) !== 0) throw new RelayError('record: MixMonitor could not start (see the Asterisk log)');
      return (await agi.getVariable(MIXMONITOR_ID_VARIABLE)) ?? '';
    };
    if (hasEndConditions(this.settings)) {
      return this.inLane(async (agi) => {
        const id = await start(agi);
        try {
          return await this.captureCaller(agi, `${this.asteriskBase}-watch`, false);
        } finally {
          await this.endMixMonitor(() => agi.exec('StopMixMonitor', id));
          // Asterisk answers RECORD FILE before it has closed the file: remove it once it has.
          const scratch = `${this.localBase}-watch.wav`;
          if (await stat(scratch).then(() => true, () => false)) await waitUntilClosed(scratch, 'wav');
          await rm(scratch, { force: true });
        }
      });
    }
    const id = await this.inLane(start);
    this.phase = 'background';
    this.setState('recording');
    try {
      return await this.untilStopOrHangup([]);
    } finally {
      await this.endMixMonitor(() => this.inLane((agi) => agi.exec('StopMixMonitor', id)));
    }
  }

  /**
   * Stops the MixMonitor with `stop` (Asterisk has closed the file when it answers; this works on a
   * hung-up channel too, while its AGI session lasts). If that fails (the channel is gone), waits for
   * Asterisk to close the file itself.
   */
  private async endMixMonitor(stop: () => Promise<unknown>): Promise<void> {
    this.phase = 'stopping';
    try {
      await stop();
    } catch (error) {
      this.call.log.debug({ err: error }, 'record: StopMixMonitor failed');
      if (this.written) await waitUntilClosed(this.written.local, this.written.kind);
    }
  }

  /** What Asterisk writes for these MixMonitor arguments, on agikit's side. */
  private writtenFile(args: MixMonitorArgs): { local: string; kind: 'wav' | 'raw' } {
    return { local: `${this.localBase}.${args.kind}`, kind: args.kind };
  }

  /**
   * Watches a background MixMonitor's end conditions over AMI: a terminator (`DTMFEnd` received on the
   * channel), the caller's speech (`TALK_DETECT`: no `ChannelTalkingStart` within `initialTimeout` is
   * no input; a `ChannelTalkingStop` after `endSilenceTimeout` of silence ends it), `stop()`, hangup.
   */
  private async watchOverAmi(ami: ChannelAmi): Promise<Capture> {
    const s = this.settings;
    const cleanups: Array<() => void> = [];
    let settle!: (capture: Capture) => void;
    const watched = new Promise<Capture>((resolve) => {
      settle = resolve;
    });
    if (s.terminators !== '') {
      cleanups.push(
        ami.onEvents(['DTMFEnd'], (event) => {
          const digit = event.get('Digit') ?? '';
          if (event.get('Direction') === 'Received' && digit !== '' && s.terminators.includes(digit)) settle({ end: 'finished', event: amiEvent(event) });
        }),
      );
    }
    if (s.initialTimeout > 0 || s.endSilenceTimeout > 0) {
      let timer: NodeJS.Timeout | undefined;
      // A Stop counts only after this recording's own Start: one of an earlier TALK_DETECT may still
      // be on its way (channel events trail AMI answers).
      let talked = false;
      cleanups.push(
        ami.onEvents(['ChannelTalkingStart', 'ChannelTalkingStop'], (event) => {
          if (event.get('Event') === 'ChannelTalkingStart') {
            talked = true;
            clearTimeout(timer);
          } else if (talked && s.endSilenceTimeout > 0) settle({ end: 'finished', event: amiEvent(event) });
        }),
      );
      const silenceMs = s.endSilenceTimeout > 0 ? Math.max(1, Math.round(s.endSilenceTimeout * 1000)) : TALK_DETECT_DEFAULT_SILENCE_MS;
      await ami.setVariable('TALK_DETECT(set)', String(silenceMs));
      cleanups.push(() => void ami.setVariable('TALK_DETECT(remove)', '').catch(() => undefined));
      if (s.initialTimeout > 0) {
        timer = setTimeout(() => settle({ end: 'no_input', event: { name: 'record.initialTimeout', payload: { initialTimeout: s.initialTimeout } } }), s.initialTimeout * 1000);
        cleanups.push(() => clearTimeout(timer));
      }
    }
    try {
      return await this.untilStopOrHangup([watched]);
    } finally {
      for (const cleanup of cleanups) cleanup();
    }
  }

  /** Resolves with the first of `others`, `stop()` or the call's end. */
  private untilStopOrHangup(others: ReadonlyArray<Promise<Capture>>): Promise<Capture> {
    const cleanups: Array<() => void> = [];
    const stopped = new Promise<Capture>((resolve) => {
      const onStop = (): void => resolve({ end: 'finished', event: { name: 'record.stop', payload: { controlId: this.controlId } } });
      if (this.stopRequested || this.stopNow.signal.aborted) onStop();
      this.stopNow.signal.addEventListener('abort', onStop, { once: true });
      cleanups.push(() => this.stopNow.signal.removeEventListener('abort', onStop));
    });
    const hungUp = new Promise<Capture>((resolve) => {
      const onEnding = (): void => resolve({ end: 'finished', event: HANGUP_EVENT });
      if (!this.call.active) onEnding();
      this.call.on('ending', onEnding);
      cleanups.push(() => this.call.off('ending', onEnding));
    });
    return Promise.race([stopped, hungUp, ...others]).finally(() => {
      for (const cleanup of cleanups) cleanup();
    });
  }

  // -------------------------------------------------------------------------------------------
  // The finished file

  /** Wraps stereo, encodes MP3, measures; removes what is not a recording (no input, failure, empty). */
  private async finishFile(capture: Capture): Promise<RecordResult> {
    this.phase = 'finishing';
    const written = this.written;
    const none = { successful: false, event: capture.event, url: '', duration: 0, size: 0 };
    if (capture.end === 'no_input') this.outcome = 'no_input';
    try {
      if (!written || capture.end !== 'finished' || !(await exists(written.local))) {
        if (written) await rm(written.local, { force: true });
        return none;
      }
      const wav = `${this.localBase}.wav`;
      if (written.kind === 'raw') await stereoWavFromRaw(written.local, wav, silencedChannel(this.settings));
      const { duration } = await measureWav(wav);
      if (duration <= 0) {
        await rm(wav, { force: true });
        return none;
      }
      if (this.settings.format === 'mp3') await encodeMp3(wav, this.finalFile);
      const { size } = await stat(this.finalFile);
      return { successful: true, event: capture.event, url: pathToFileURL(this.finalFile).href, duration: Math.round(duration * 1000) / 1000, size };
    } catch (error) {
      this.call.log.error({ err: error }, 'record: finishing the recording failed');
      return none;
    }
  }
}

/** The channel a stereo recording of one direction keeps silent. */
function silencedChannel(s: RecordSettings): 'left' | 'right' | undefined {
  return s.direction === 'speak' ? 'right' : s.direction === 'listen' ? 'left' : undefined;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** The seed's `RecordAction`: a recording in progress. */
export class RecordAction extends Action<RecordResult, RecordState> {
  constructor(private readonly recording: RecordComponent) {
    super(recording);
  }

  /** `file://` URL the recording will have once it has finished (the file is complete only then). */
  get url(): string {
    return pathToFileURL(this.recording.finalFile).href;
  }

  /**
   * Stops the recording; what was recorded is kept (the result is successful with the file).
   *
   * @throws RelayCapabilityError when a `RECORD FILE` records and there is no AMI: Asterisk cannot
   *   interrupt it over AGI
   */
  override async stop(): Promise<StopResult> {
    if (!this.completed && this.recording.runsRecordFile && !this.call.runtime.ami) {
      throw new RelayCapabilityError('ami', 'RecordAction.stop', 'Asterisk cannot interrupt RECORD FILE over AGI');
    }
    return super.stop();
  }
}

/**
 * Starts a recording and returns its action. See the module comment for the mechanisms.
 *
 * @throws RelayArgumentError for a bad option
 * @throws RelayCapabilityError without a media directory; for `mp3` without `lame`; for a `signal`
 *   when a `RECORD FILE` records and there is no AMI (nothing could stop it)
 * @throws CallNotControllableError when the recording needs the call's AGI and it has none
 * @throws CallBusyError with `queue: false` when it needs the call's lane and something holds it
 */
export async function recordAsync(call: Call, options: RecordOptions = {}): Promise<RecordAction> {
  const settings = checkRecordOptions(options);
  const directory = call.runtime.media.directory;
  if (!directory) throw new RelayCapabilityError('media-directory', 'record', 'to record into');
  if (settings.format === 'mp3' && !(await lameAvailable())) throw new RelayCapabilityError('mp3-encoder', 'record', "format 'mp3'");
  const component = new RecordComponent(call, settings, new PathMapping(directory), options);
  if (options.signal && component.runsRecordFile && !call.runtime.ami) {
    throw new RelayCapabilityError('ami', 'record({ signal })', 'Asterisk cannot interrupt RECORD FILE over AGI');
  }
  // What drives the call's AGI session takes its lane; a MixMonitor over AMI needs neither.
  const needsLane = component.runsRecordFile || !call.runtime.ami || settings.beep;
  if (needsLane && !call.agi && !call.ended) throw new CallNotControllableError('record', 'no-agi');
  return startAction(component, (c) => new RecordAction(c), options, needsLane);
}

/** Records and resolves with the result once the recording has ended. Throws as {@link recordAsync}. */
export async function record(call: Call, options: RecordOptions = {}): Promise<RecordResult> {
  return (await recordAsync(call, options)).done;
}
