/**
 * `tap()` / `tapAsync()`: the call's audio streamed, while it goes on, to an RTP receiver or a
 * WebSocket server. A tap runs beside the call's AGI session (it never takes the lane) and needs AMI.
 *
 * Mechanisms (proven in relay-probes.md §8, §9 and test/live/relay-tap.test.ts; see {@link TapMechanism}):
 * - `speak` / `both` to RTP: AMI `Originate` of `UnicastRTP/<addr>:<port>/c(<codec>)` running
 *   `ChanSpy(<uniqueid>,qEuo)` (speak) or `qEu` (both); Asterisk sends the RTP itself, in 20 ms
 *   packets.
 * - `speak` / `both` to a WebSocket: the same spy on an `AudioSocket/127.0.0.1:<port>/<uuid>/c(slin)`
 *   channel; agikit's AudioSocket server (one per tap, an ephemeral port) gets 8 kHz signed linear and
 *   sends it to the WebSocket in the codec and ptime asked.
 * - `listen`: `MixMonitor t(<fifo>.sln48)` on the call: what the channel sends to the caller goes into
 *   a FIFO in the media directory, which agikit reads, brings down to 8 kHz and sends to the target
 *   (RTP from its own socket, or the WebSocket) at the pace of real time. ChanSpy cannot do it: it
 *   hears the caller only (`o`) or both directions mixed.
 *
 * The tap ends with `stop()` (or the method's `signal`), when the call ends, when the spy channel
 * goes (hung up by someone else), or when the WebSocket target goes.
 *
 * @module
 */

import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, constants, open as openFd } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import { Socket } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { AmiClient } from '../ami/client.js';
import type { AmiMessage } from '../ami/message.js';
import type { AmiOriginateResult } from '../ami/originate.js';
import { decodeS16le } from '../media/audio.js';
import { PathMapping } from '../media/paths.js';
import { AudioSocketServer, type AudioSocketSession } from './audiosocket.js';
import type { Call } from './call.js';
import { Action, Component, startAction, type MethodOptions } from './component.js';
import { RelayCapabilityError } from './errors.js';
import type { RelayEvent, TapResult } from './results.js';
import { Decimator, encodeTapFrame, Framer, openRtpSink, openWsSink, Pacer, S16leReader, type TapSink } from './tap-media.js';
import {
  ASTERISK_CODEC,
  ASTERISK_RTP_PTIME_MS,
  chanSpyOptions,
  checkTapParams,
  destinationDevice,
  ptimeUsed,
  TAP_RATE,
  tapMechanism,
  tapPayload,
  type TapDevice,
  type TapParams,
  type TapSettings,
} from './tap-params.js';

/** `pending` while the tap starts, `tapping` while audio flows, then `finished`. */
export type TapState = 'pending' | 'tapping' | 'finished';

/** Subdirectory of the media directory that holds the FIFOs of `listen` taps. */
export const TAPS_SUBDIRECTORY = 'taps';
/** How long a spy channel may take from answer to spying (ChanSpyStart), or AudioSocket to connect. */
const SPY_START_MS = 5000;
/** How long the spy channel may take to go once hung up. */
const SPY_END_MS = 5000;
/** The rate MixMonitor writes a `listen` FIFO at: its 32 KiB write buffer then fills every 0.34 s, not every 2 s as at 8 kHz. */
const FIFO_FORMAT = { extension: 'sln48', rate: 48_000 } as const;

const execFileAsync = promisify(execFile);
const openFifo = promisify(openFd);

/** The event of an AMI event. */
function amiEvent(event: AmiMessage): RelayEvent {
  return { name: `ami.${event.get('Event') ?? ''}`, payload: event.toObject() };
}

/** What ended a tap. */
type End = { readonly why: 'stopped' | 'call-ended' | 'spy-gone' | 'target-lost' | 'start-failed'; readonly event: RelayEvent | null };

/**
 * The AMI actions and events a tap uses, in one place (they move to the call's AMI helper when it
 * has them).
 */
class TapAmi {
  constructor(
    private readonly ami: AmiClient,
    private readonly call: Call,
  ) {}

  /**
   * Originates a spy channel (`dial`) running `ChanSpy(<call>,<options>)` with uniqueid `channelId`.
   * `watch` sees ChanSpyStart (`spying`) and the channel's Hangup (`gone`) from before the originate.
   */
  async spy(dial: string, options: string, channelId: string, watch: { spying(): void; gone(event: AmiMessage): void }): Promise<{ result: AmiOriginateResult; unwatch(): void }> {
    const onEvent = (event: AmiMessage): void => {
      if (event.get('Event') === 'ChanSpyStart' && event.get('SpyerUniqueid') === channelId) watch.spying();
    };
    this.ami.on('event', onEvent);
    const subscription = this.ami.channel(channelId, (event) => {
      if (event.get('Event') === 'Hangup') watch.gone(event);
    });
    const unwatch = (): void => {
      this.ami.off('event', onEvent);
      subscription.unsubscribe();
    };
    try {
      const result = await this.ami.originate({ channel: dial, application: 'ChanSpy', data: `${this.call.id},${options}`, channelId, timeoutMs: SPY_START_MS });
      return { result, unwatch };
    } catch (error) {
      unwatch();
      throw error;
    }
  }

  /** Hangs up a spy channel (it may have gone already). */
  async hangup(channelId: string): Promise<void> {
    await this.ami.hangup(channelId).catch(() => undefined);
  }

  /** A variable of a channel by uniqueid (`''` when unset or gone). */
  async variable(channelId: string, name: string): Promise<string> {
    return this.ami.getVariable(channelId, name).catch(() => '');
  }

  /** Starts MixMonitor on the call with `options`; resolves with its id. */
  async mixMonitor(options: string): Promise<string> {
    const response = await this.ami.action('MixMonitor', { Channel: this.call.channel ?? this.call.id, Options: options });
    return response.get('MixMonitorID') ?? '';
  }

  /** Stops one MixMonitor (the call may have gone, which stopped it already). */
  async stopMixMonitor(id: string): Promise<void> {
    await this.ami.action('StopMixMonitor', { Channel: this.call.channel ?? this.call.id, MixMonitorID: id || undefined }).catch(() => undefined);
  }
}

/** One tap on a call. */
class TapComponent extends Component<TapResult, TapState> {
  protected readonly haltRetryMs = 100;
  /** The device the target sees the media come from, once tapping. */
  sourceDevice: TapDevice | null = null;
  /** Aborted by `stop()`: every wait of the work races it. */
  private readonly stopNow = new AbortController();
  private readonly ami: TapAmi;
  private droppedFrames = 0;

  constructor(
    call: Call,
    readonly settings: TapSettings,
    payload: Record<string, unknown>,
    ami: AmiClient,
    private readonly media: PathMapping | undefined,
  ) {
    super(call, 'tap', payload, 'pending');
    this.ami = new TapAmi(ami, call);
  }

  protected async execute(): Promise<TapResult> {
    const mechanism = tapMechanism(this.settings);
    const end = mechanism === 'chanspy-rtp' ? await this.spyToRtp() : mechanism === 'chanspy-audiosocket' ? await this.spyToAudioSocket() : await this.mixMonitor();
    if (this.droppedFrames > 0) this.call.log.warn({ dropped: this.droppedFrames }, 'tap: the target could not keep up; frames were dropped');
    this.call.log.debug({ why: end.why, mechanism }, 'tap ended');
    return this.tapResult(this.state === 'tapping' && end.why !== 'target-lost', end.event);
  }

  protected failed(error: unknown): TapResult {
    this.call.log.error({ err: error }, 'tap failed');
    return this.tapResult(false, null);
  }

  protected endState(): TapState {
    return 'finished';
  }

  protected override stateChanged(state: TapState): void {
    if (state === 'tapping') this.call.fireAction('tap.tapping', this.handle);
    else if (state === 'finished') this.call.fireAction('tap.finished', this.handle);
  }

  protected override halt(): void {
    this.stopNow.abort();
  }

  /** Not used: a tap holds no lane; {@link halt} wakes the work. */
  protected haltRunning(): void {}

  private tapResult(successful: boolean, event: RelayEvent | null): TapResult {
    return {
      successful,
      event,
      tap: { type: 'audio', params: { direction: this.settings.direction } },
      sourceDevice: this.sourceDevice,
      destinationDevice: destinationDevice(this.settings),
    };
  }

  // --- Mechanisms ---------------------------------------------------------------------------

  /** `speak`/`both` to RTP: Asterisk sends it from the UnicastRTP channel. */
  private async spyToRtp(): Promise<End> {
    const target = this.settings.target;
    if (target.type !== 'rtp') throw new Error('unreachable');
    const dial = `UnicastRTP/${target.addr}:${target.port}/c(${ASTERISK_CODEC[this.settings.codec]})`;
    return this.spy(dial, async (channelId) => {
      const [addr, port] = await Promise.all([this.ami.variable(channelId, 'UNICASTRTP_LOCAL_ADDRESS'), this.ami.variable(channelId, 'UNICASTRTP_LOCAL_PORT')]);
      this.sourceDevice = {
        type: 'rtp',
        params: { ...(addr ? { addr } : {}), ...(port ? { port: Number(port) } : {}), codec: this.settings.codec, ptime: ASTERISK_RTP_PTIME_MS, rate: TAP_RATE },
      };
      if (this.settings.ptime !== undefined && this.settings.ptime !== ASTERISK_RTP_PTIME_MS) {
        this.call.log.info({ asked: this.settings.ptime, used: ASTERISK_RTP_PTIME_MS }, 'tap: Asterisk sends RTP taps in 20 ms packets; targetPtime is not honoured');
      }
      return { ended: new Promise<never>(() => undefined), close: () => undefined };
    });
  }

  /** `speak`/`both` to a WebSocket: the spy streams to agikit's AudioSocket server, agikit to the WebSocket. */
  private async spyToAudioSocket(): Promise<End> {
    const target = this.settings.target;
    if (target.type !== 'ws') throw new Error('unreachable');
    const ptime = ptimeUsed(this.settings);
    let sink: TapSink;
    try {
      sink = await openWsSink(target.uri, this.settings.codec, ptime, this.stopNow.signal, this.dropped);
    } catch (error) {
      return this.startFailed('tap: the WebSocket target could not be opened', error);
    }
    const uuid = randomUUID();
    const server = await AudioSocketServer.listen(uuid);
    const accepting = new AbortController();
    const session = server.accept(accepting.signal);
    session.catch(() => undefined);
    const { host, port } = server.address;
    try {
      return await this.spy(`AudioSocket/${host}:${port}/${uuid}/c(slin)`, async () => {
        const timer = setTimeout(() => accepting.abort(new Error(`no AudioSocket connection within ${SPY_START_MS} ms`)), SPY_START_MS);
        let connected: AudioSocketSession;
        try {
          connected = await session;
        } finally {
          clearTimeout(timer);
        }
        const framer = new Framer((ptime * TAP_RATE) / 1000);
        connected.onAudio((pcm) => {
          for (const frame of framer.push(decodeS16le(pcm))) sink.send(encodeTapFrame(this.settings.codec, frame), frame.length);
        });
        this.sourceDevice = sink.device;
        return {
          ended: Promise.race([connected.ended.then((): End => ({ why: 'spy-gone', event: { name: 'audiosocket.closed', payload: {} } })), this.targetLost(sink)]),
          close: () => connected.close(),
        };
      });
    } finally {
      accepting.abort();
      server.close();
      sink.close();
    }
  }

  /**
   * Originates the spy channel, waits until it spies (and `attach` has connected its media), then
   * until something ends the tap; hangs the channel up unless it went by itself.
   */
  private async spy(dial: string, attach: (channelId: string) => Promise<{ ended: Promise<End>; close(): void }>): Promise<End> {
    const channelId = randomUUID();
    const options = chanSpyOptions(this.settings.direction as 'speak' | 'both');
    let spying!: () => void;
    const started = new Promise<void>((resolve) => {
      spying = resolve;
    });
    let gone!: (event: AmiMessage) => void;
    const hungUp = new Promise<End>((resolve) => {
      gone = (event) => resolve({ why: 'spy-gone', event: amiEvent(event) });
    });
    const { result, unwatch } = await this.ami.spy(dial, options, channelId, { spying, gone });
    let media: { ended: Promise<End>; close(): void } | undefined;
    if (!result.success) {
      unwatch();
      return { why: 'start-failed', event: amiEvent(result.event) };
    }
    try {
      const first = await this.until(started.then(() => null), hungUp, SPY_START_MS, 'the spy channel did not start spying');
      if (first) return first;
      try {
        media = await this.raceStop(attach(channelId));
      } catch (error) {
        return this.startFailed('tap: the spy channel media did not connect', error);
      }
      if (!media) return { why: 'stopped', event: null };
      this.setState('tapping');
      return await Promise.race([hungUp, media.ended, this.callEnded(), this.stopped()]);
    } finally {
      media?.close();
      if (!(await settledWithin(hungUp, 0))) {
        await this.ami.hangup(channelId);
        await settledWithin(hungUp, SPY_END_MS);
      }
      unwatch();
    }
  }

  /** `listen`: MixMonitor writes what the caller hears into a FIFO; agikit reads it and sends it on. */
  private async mixMonitor(): Promise<End> {
    const media = this.media as PathMapping;
    const ptime = ptimeUsed(this.settings);
    const local = path.join(media.localRoot, TAPS_SUBDIRECTORY, `${this.controlId}.${FIFO_FORMAT.extension}`);
    const asterisk = media.toAsterisk(local) ?? local;
    await mkdir(path.dirname(local), { recursive: true });
    await execFileAsync('mkfifo', ['-m', '0666', local]);
    // Opened read-write: a FIFO read end alone sees end-of-file until MixMonitor opens it (at its first
    // frame), and again whenever it closes; the tap's end comes from AMI and the call instead.
    // A plain descriptor, not a FileHandle: the socket owns and closes it, and a FileHandle left to
    // the garbage collector would close the same number again (EBADF kills the process, or worse, it
    // closes a descriptor reused meanwhile).
    const fd = await openFifo(local, constants.O_RDWR | constants.O_NONBLOCK);
    let reader: Socket;
    try {
      reader = new Socket({ fd, readable: true, writable: false });
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    reader.on('error', (error) => this.call.log.warn({ err: error }, 'tap: reading the listen FIFO failed'));
    let sink: TapSink | undefined;
    let pacer: Pacer | undefined;
    let id: string | undefined;
    try {
      const target = this.settings.target;
      try {
        sink = target.type === 'rtp' ? await openRtpSink(target, this.settings.codec, ptime) : await openWsSink(target.uri, this.settings.codec, ptime, this.stopNow.signal, this.dropped);
      } catch (error) {
        return this.startFailed('tap: the target could not be opened', error);
      }
      const out = sink;
      const paced = new Pacer(out, ptime, this.dropped);
      pacer = paced;
      const bytes = new S16leReader();
      const decimator = new Decimator(FIFO_FORMAT.rate / TAP_RATE);
      const framer = new Framer((ptime * TAP_RATE) / 1000);
      reader.on('data', (chunk: Buffer) => {
        for (const frame of framer.push(decimator.push(bytes.push(chunk)))) paced.push(encodeTapFrame(this.settings.codec, frame));
      });
      if (this.stopRequested) return { why: 'stopped', event: null };
      try {
        id = await this.ami.mixMonitor(`t(${asterisk})`);
      } catch (error) {
        return this.startFailed('tap: MixMonitor did not start', error);
      }
      this.sourceDevice = out.device;
      this.setState('tapping');
      return await Promise.race([this.callEnded(), this.stopped(), this.targetLost(out)]);
    } finally {
      if (id !== undefined) await this.ami.stopMixMonitor(id);
      pacer?.stop();
      sink?.close();
      reader.destroy();
      await unlink(local).catch(() => undefined);
    }
  }

  // --- Ends ---------------------------------------------------------------------------------

  private readonly dropped = (): void => {
    this.droppedFrames += 1;
  };

  private startFailed(message: string, error: unknown): End {
    if (this.stopRequested) return { why: 'stopped', event: null };
    this.call.log.warn({ err: error }, message);
    return { why: 'start-failed', event: { name: 'tap.error', payload: { message: `${message}: ${(error as Error).message ?? String(error)}` } } };
  }

  private stopped(): Promise<End> {
    const signal = this.stopNow.signal;
    const end: End = { why: 'stopped', event: { name: 'tap.stopped', payload: {} } };
    if (signal.aborted) return Promise.resolve(end);
    return new Promise<End>((resolve) => signal.addEventListener('abort', () => resolve(end), { once: true }));
  }

  private async callEnded(): Promise<End> {
    await this.call.waitFor('ending');
    return { why: 'call-ended', event: { name: 'call.ended', payload: {} } };
  }

  private async targetLost(sink: TapSink): Promise<End> {
    const error = await sink.lost;
    return { why: 'target-lost', event: { name: 'tap.target-lost', payload: { message: error.message } } };
  }

  /** Races `work` with `stop()`: `undefined` when stopped first. */
  private async raceStop<T>(work: Promise<T>): Promise<T | undefined> {
    work.catch(() => undefined);
    return Promise.race([work, this.stopped().then(() => undefined)]);
  }

  /** Waits for `started` (`null`), unless `gone`, `stop()`, the call's end or `ms` come first (their End). */
  private async until(started: Promise<null>, gone: Promise<End>, ms: number, what: string): Promise<End | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<End>((resolve) => {
      timer = setTimeout(() => resolve({ why: 'start-failed', event: { name: 'tap.error', payload: { message: `${what} within ${ms} ms` } } }), ms);
    });
    try {
      return await Promise.race([started, gone, late, this.stopped(), this.callEnded()]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** `true` once `promise` has settled, `false` if it has not within `ms` (0: already). */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The seed's `TapAction`: `stop()`, `state`, `completed`, `result`, `sourceDevice`. */
export class TapAction extends Action<TapResult, TapState> {
  /** The device the target sees the media come from, once tapping (`null` before, or if it never started). */
  get sourceDevice(): TapDevice | null {
    return (this.component as TapComponent).sourceDevice;
  }
}

/**
 * Starts tapping and returns the action once the tap has been set going (`tap.tapping` follows when
 * audio flows).
 *
 * @throws RelayArgumentError for bad parameters (nothing starts)
 * @throws RelayCapabilityError without AMI; for `listen` without a media directory
 */
export async function tapAsync(call: Call, params: TapParams, options: MethodOptions = {}): Promise<TapAction> {
  const settings = checkTapParams(params);
  const ami = call.runtime.requireAmi('tap');
  const directory = call.runtime.media.directory;
  if (tapMechanism(settings) === 'mixmonitor' && !directory) throw new RelayCapabilityError('media-directory', 'tap', 'for audioDirection listen (MixMonitor writes into a FIFO there)');
  const component = new TapComponent(call, settings, tapPayload(params), ami, directory ? new PathMapping(directory) : undefined);
  return startAction(component, (c) => new TapAction(c), options, false);
}

/** Taps the call and resolves once the tap has ended (stopped, the call or the target gone). Throws as {@link tapAsync}. */
export async function tap(call: Call, params: TapParams, options: MethodOptions = {}): Promise<TapResult> {
  return (await tapAsync(call, params, options)).done;
}
