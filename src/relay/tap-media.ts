/**
 * The audio path of the taps agikit relays itself: 8 kHz signed linear in (from an AudioSocket
 * channel, or from a MixMonitor FIFO at 48 kHz through {@link Decimator}), cut into frames of the
 * asked ptime ({@link Framer}), encoded ({@link encodeTapFrame}), and sent to the target by a
 * {@link TapSink}: RTP from agikit's own UDP socket, or binary WebSocket messages. Audio that comes
 * in bursts (MixMonitor writes 32 KiB at a time) is sent at the pace of real time ({@link Pacer}).
 *
 * Memory stays bounded: a sink that cannot keep up (a WebSocket whose buffer passes
 * {@link MAX_WS_BUFFERED_BYTES}, a pacer queue beyond {@link MAX_PACER_QUEUE_MS}) drops audio rather
 * than hold it.
 *
 * @module
 */

import { createSocket, type Socket } from 'node:dgram';
import { decodeS16le, encodeAlaw, encodeUlaw } from '../media/audio.js';
import { RelayCapabilityError } from './errors.js';
import { RtpSender } from './rtp.js';
import { RTP_PAYLOAD_TYPE, TAP_RATE, type TapCodec, type TapDevice } from './tap-params.js';

/** Bytes of audio a WebSocket may have waiting to be sent before frames are dropped. */
export const MAX_WS_BUFFERED_BYTES = 256 * 1024;
/** Audio a pacer holds at most; older frames are dropped beyond it. */
export const MAX_PACER_QUEUE_MS = 3000;

/** One frame of samples in the tap's codec. */
export function encodeTapFrame(codec: TapCodec, samples: Int16Array): Buffer {
  return codec === 'PCMU' ? encodeUlaw(samples) : encodeAlaw(samples);
}

/** Cuts a stream of samples into frames of `frameSamples` samples. */
export class Framer {
  private buffer: Int16Array;
  private filled = 0;

  constructor(readonly frameSamples: number) {
    this.buffer = new Int16Array(frameSamples);
  }

  /** Adds samples; returns the frames they complete. */
  push(samples: Int16Array): Int16Array[] {
    const frames: Int16Array[] = [];
    let offset = 0;
    while (offset < samples.length) {
      const take = Math.min(this.frameSamples - this.filled, samples.length - offset);
      this.buffer.set(samples.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === this.frameSamples) {
        frames.push(this.buffer);
        this.buffer = new Int16Array(this.frameSamples);
        this.filled = 0;
      }
    }
    return frames;
  }
}

/**
 * Reads little-endian 16-bit samples from byte chunks that may split a sample between them (a FIFO
 * hands out whatever was written).
 */
export class S16leReader {
  private odd: number | undefined;

  push(chunk: Uint8Array): Int16Array {
    let bytes = chunk;
    if (this.odd !== undefined) {
      const joined = new Uint8Array(chunk.length + 1);
      joined[0] = this.odd;
      joined.set(chunk, 1);
      bytes = joined;
      this.odd = undefined;
    }
    if (bytes.length % 2 === 1) this.odd = bytes[bytes.length - 1];
    return decodeS16le(bytes);
  }
}

/**
 * Lowers the sample rate by a whole `factor` (48 kHz to 8 kHz: 6) through a windowed-sinc low-pass
 * filter, so nothing above the new Nyquist frequency folds back. Streaming: it keeps the last
 * samples of one chunk for the next.
 */
export class Decimator {
  private readonly taps: Float64Array;
  private history: Int16Array;
  /** Input samples to skip before the next output (the phase across chunks). */
  private phase = 0;

  constructor(
    readonly factor: number,
    tapsPerPhase = 12,
  ) {
    const length = factor * tapsPerPhase;
    const cutoff = 0.9 / factor;
    const centre = (length - 1) / 2;
    this.taps = new Float64Array(length);
    let sum = 0;
    for (let i = 0; i < length; i++) {
      const x = i - centre;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * cutoff * x) / (Math.PI * cutoff * x);
      const window = 0.42 - 0.5 * Math.cos((2 * Math.PI * i) / (length - 1)) + 0.08 * Math.cos((4 * Math.PI * i) / (length - 1));
      this.taps[i] = sinc * window;
      sum += this.taps[i]!;
    }
    for (let i = 0; i < length; i++) this.taps[i] = this.taps[i]! / sum;
    this.history = new Int16Array(length - 1);
  }

  push(input: Int16Array): Int16Array {
    const keep = this.history.length;
    const all = new Int16Array(keep + input.length);
    all.set(this.history);
    all.set(input, keep);
    const out: number[] = [];
    let start = this.phase;
    for (; start + this.taps.length <= all.length; start += this.factor) {
      let acc = 0;
      for (let k = 0; k < this.taps.length; k++) acc += this.taps[k]! * all[start + k]!;
      out.push(Math.max(-32768, Math.min(32767, Math.round(acc))));
    }
    // Keep the last `keep` samples; the next output starts `phase` samples into them.
    this.phase = start - (all.length - keep);
    this.history = all.slice(all.length - keep);
    return Int16Array.from(out);
  }
}

/** Where a tap's frames go. */
export interface TapSink {
  /** The device the target sees the media come from (the seed's `sourceDevice`). */
  readonly device: TapDevice;
  /** Sends one encoded frame of `samples` samples. */
  send(frame: Buffer, samples: number): void;
  /** Some audio went unsent (a gap of `samples` samples): RTP marks the next talkspurt. */
  gap(samples: number): void;
  /** Resolves when the target has gone (the WebSocket closed or failed); never for RTP. */
  readonly lost: Promise<Error>;
  close(): void;
}

/** RTP from agikit's own UDP socket (connected to the target, so the local address is known). */
export async function openRtpSink(target: { addr: string; port: number }, codec: TapCodec, ptime: number): Promise<TapSink> {
  const sender = await RtpSender.open(target, RTP_PAYLOAD_TYPE[codec]);
  const local = await localAddressFor(target);
  return {
    device: { type: 'rtp', params: { addr: local, port: sender.port, codec, ptime, rate: TAP_RATE } },
    send: (frame, samples) => sender.send(frame, samples),
    gap: (samples) => sender.gap(samples),
    lost: new Promise<Error>(() => undefined),
    close: () => sender.close(),
  };
}

/** The local address the system sends from to reach `target` (a connected UDP socket tells). */
async function localAddressFor(target: { addr: string; port: number }): Promise<string> {
  const probe: Socket = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.connect(target.port, target.addr, () => resolve());
    });
    return probe.address().address;
  } finally {
    probe.close();
  }
}

/** The part of the WHATWG WebSocket interface a sink uses (Node 22's global one and `ws` both have it). */
interface WebSocketLike {
  binaryType: string;
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'close' | 'error', listener: (event: { code?: number; reason?: string; message?: string; error?: unknown }) => void): void;
}

type WebSocketConstructor = new (url: string) => WebSocketLike;

/**
 * The WebSocket client: Node's global `WebSocket` when it has one (Node 22+), else the `ws`
 * package (an optional peer dependency, loaded only for ws taps).
 *
 * @throws RelayCapabilityError when neither is there
 */
export async function webSocketClient(method: string): Promise<WebSocketConstructor> {
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (global) return global;
  try {
    const module = (await import('ws')) as unknown as { WebSocket: WebSocketConstructor };
    return module.WebSocket;
  } catch {
    throw new RelayCapabilityError('ws-client', method);
  }
}

/** Binary messages on a WebSocket, opened before the tap starts (a target that refuses fails the tap at once). */
export async function openWsSink(uri: string, codec: TapCodec, ptime: number, signal: AbortSignal, onDrop: () => void): Promise<TapSink> {
  const Client = await webSocketClient('tap');
  const socket = new Client(uri);
  socket.binaryType = 'arraybuffer';
  let resolveLost!: (error: Error) => void;
  const lost = new Promise<Error>((resolve) => {
    resolveLost = resolve;
  });
  socket.addEventListener('close', (event) => resolveLost(new Error(`the WebSocket closed (${event.code ?? '?'} ${event.reason ?? ''})`.trim())));
  socket.addEventListener('error', (event) => resolveLost(new Error(`the WebSocket failed: ${event.message ?? String(event.error ?? 'error')}`)));
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      socket.close();
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.addEventListener('open', () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
    void lost.then((error) => {
      signal.removeEventListener('abort', onAbort);
      reject(error);
    });
  });
  const OPEN = 1;
  return {
    device: { type: 'ws', params: { codec, ptime, rate: TAP_RATE } },
    send: (frame) => {
      if (socket.readyState !== OPEN) return;
      if (socket.bufferedAmount > MAX_WS_BUFFERED_BYTES) return onDrop();
      socket.send(frame);
    },
    gap: () => undefined,
    lost,
    close: () => socket.close(1000, 'tap finished'),
  };
}

/**
 * Audio arriving this late after the queue ran dry is a pause in the audio (nothing was sent by
 * Asterisk), not a burst arriving late: MixMonitor hands out 0.34 s at a time.
 */
export const PACER_GAP_MS = 500;

/**
 * Sends frames at the pace of real time, one every `ptime` ms, from a bounded queue: for audio that
 * arrives in bursts. When the queue runs dry, the next frame goes out when it is due; when it comes
 * more than {@link PACER_GAP_MS} later, the pace restarts and the sink is told the time that went by
 * unsent (RTP timestamps count it).
 */
export class Pacer {
  private readonly queue: Buffer[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** When the next frame is due (epoch ms). */
  private nextAt = 0;
  private running = false;
  private readonly maxFrames: number;

  constructor(
    private readonly sink: TapSink,
    private readonly ptime: number,
    private readonly onDrop: () => void,
  ) {
    this.maxFrames = Math.ceil(MAX_PACER_QUEUE_MS / ptime);
  }

  push(frame: Buffer): void {
    this.queue.push(frame);
    if (this.queue.length > this.maxFrames) {
      this.queue.shift();
      this.onDrop();
    }
    if (this.timer) return;
    const now = Date.now();
    const late = now - this.nextAt;
    if (!this.running) this.nextAt = now;
    else if (late > PACER_GAP_MS) {
      this.sink.gap(Math.round((late * TAP_RATE) / 1000));
      this.nextAt = now;
    }
    this.running = true;
    this.schedule();
  }

  private schedule(): void {
    this.timer = setTimeout(this.tick, Math.max(0, this.nextAt - Date.now()));
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    const samples = (this.ptime * TAP_RATE) / 1000;
    while (this.queue.length > 0 && this.nextAt <= Date.now()) {
      this.sink.send(this.queue.shift()!, samples);
      this.nextAt += this.ptime;
    }
    if (this.queue.length > 0) this.schedule();
  };

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }
}
