/**
 * The parameters of `tap()` / `tapAsync()` as the seed names them, their checking, and the pure
 * choices that follow from them: which Asterisk mechanism taps the asked direction, the ChanSpy
 * options, and the devices a {@link TapResult} reports. No I/O.
 *
 * @module
 */

import { isIPv4 } from 'node:net';
import { RelayArgumentError } from './errors.js';

/** What to tap, in the seed's words: `listen` what the caller hears, `speak` what the caller says, `both`. */
export type TapDirection = 'listen' | 'speak' | 'both';

/** Where the audio goes: an RTP receiver or a WebSocket server. */
export type TapTargetType = 'rtp' | 'ws';

/** Codecs a tap can deliver: G.711 µ-law and A-law, 8 kHz. */
export type TapCodec = 'PCMU' | 'PCMA';

/** The seed's tap parameters. */
export interface TapParams {
  /** `listen` (what the caller hears), `speak` (what the caller says) or `both` (the two mixed). */
  readonly audioDirection: TapDirection;
  /** `rtp` (default) or `ws`. */
  readonly targetType?: TapTargetType;
  /** RTP: the receiver's IPv4 address. */
  readonly targetAddr?: string;
  /** RTP: the receiver's UDP port. */
  readonly targetPort?: number;
  /** ws: the WebSocket URL (`ws://` or `wss://`). */
  readonly targetUri?: string;
  /**
   * Packetization time in ms (10 to 120, a multiple of 10; default 20). Honoured where agikit frames
   * the audio (ws taps, and rtp taps of `listen`); an rtp tap of `speak`/`both` is sent by Asterisk
   * in 20 ms packets whatever is asked: the destination device reports the ptime used.
   */
  readonly targetPtime?: number;
  /** `PCMU` (default) or `PCMA`. */
  readonly codec?: TapCodec;
}

/** The checked parameters of one tap. */
export interface TapSettings {
  readonly direction: TapDirection;
  readonly target: { readonly type: 'rtp'; readonly addr: string; readonly port: number } | { readonly type: 'ws'; readonly uri: string };
  readonly codec: TapCodec;
  /** The ptime asked for, if any. */
  readonly ptime: number | undefined;
}

/**
 * How Asterisk gives agikit the tapped audio:
 * - `chanspy-rtp`: a `UnicastRTP` channel running `ChanSpy` sends RTP straight to the target;
 * - `chanspy-audiosocket`: an `AudioSocket` channel running `ChanSpy` streams 8 kHz signed linear
 *   to agikit, which relays it;
 * - `mixmonitor`: `MixMonitor t(...)` writes what the channel sends to the caller into a FIFO in the
 *   media directory, which agikit reads and relays. ChanSpy cannot do `listen`: without `o` it mixes
 *   both directions, with `o` it hears only the caller.
 */
export type TapMechanism = 'chanspy-rtp' | 'chanspy-audiosocket' | 'mixmonitor';

/** A device of a {@link TapResult}: the seed's `{ type, params }`. */
export interface TapDevice {
  readonly type: TapTargetType;
  readonly params: TapDeviceParams;
}

/** The params of a {@link TapDevice}: what is known of it, with the codec and ptime actually used. */
export interface TapDeviceParams {
  readonly addr?: string;
  readonly port?: number;
  readonly uri?: string;
  readonly codec: TapCodec;
  /** Packetization time in ms actually used. */
  readonly ptime: number;
  /** Sample rate in Hz (always 8000). */
  readonly rate: number;
}

/** The seed's `tap` object of a result: what was tapped. */
export interface TapDescription {
  readonly type: 'audio';
  readonly params: { readonly direction: TapDirection };
}

/** The ptime Asterisk's UnicastRTP channel sends with, whatever is asked (the codec's default framing). */
export const ASTERISK_RTP_PTIME_MS = 20;
/** Default packetization time where agikit frames the audio. */
export const DEFAULT_PTIME_MS = 20;
/** Sample rate of every tap. */
export const TAP_RATE = 8000;

const DIRECTIONS: readonly TapDirection[] = ['listen', 'speak', 'both'];
const CODECS: readonly TapCodec[] = ['PCMU', 'PCMA'];

/** Asterisk's name of each codec (UnicastRTP's `c(...)`). */
export const ASTERISK_CODEC: Readonly<Record<TapCodec, string>> = { PCMU: 'ulaw', PCMA: 'alaw' };

/** The static RTP payload type of each codec (RFC 3551). */
export const RTP_PAYLOAD_TYPE: Readonly<Record<TapCodec, number>> = { PCMU: 0, PCMA: 8 };

/**
 * Checks the seed's parameters.
 *
 * @throws RelayArgumentError naming the first bad parameter
 */
export function checkTapParams(params: TapParams): TapSettings {
  if (typeof params !== 'object' || params === null) throw new RelayArgumentError('tap: parameters must be an object');
  const { audioDirection, targetType = 'rtp', codec = 'PCMU', targetPtime } = params;
  if (!DIRECTIONS.includes(audioDirection)) throw new RelayArgumentError(`tap: audioDirection must be one of ${DIRECTIONS.join(', ')}, not ${JSON.stringify(audioDirection)}`);
  if (!CODECS.includes(codec)) throw new RelayArgumentError(`tap: codec must be one of ${CODECS.join(', ')}, not ${JSON.stringify(codec)}`);
  if (targetPtime !== undefined && !(Number.isInteger(targetPtime) && targetPtime >= 10 && targetPtime <= 120 && targetPtime % 10 === 0)) {
    throw new RelayArgumentError(`tap: targetPtime must be 10 to 120 ms in steps of 10, not ${JSON.stringify(targetPtime)}`);
  }
  const base = { direction: audioDirection, codec, ptime: targetPtime };
  if (targetType === 'rtp') {
    const { targetAddr, targetPort } = params;
    if (typeof targetAddr !== 'string' || !isIPv4(targetAddr)) throw new RelayArgumentError(`tap: targetAddr must be an IPv4 address, not ${JSON.stringify(targetAddr)}`);
    if (!(Number.isInteger(targetPort) && (targetPort as number) >= 1 && (targetPort as number) <= 65535)) {
      throw new RelayArgumentError(`tap: targetPort must be a UDP port (1-65535), not ${JSON.stringify(targetPort)}`);
    }
    return { ...base, target: { type: 'rtp', addr: targetAddr, port: targetPort as number } };
  }
  if (targetType === 'ws') {
    const { targetUri } = params;
    let url: URL | undefined;
    try {
      url = typeof targetUri === 'string' ? new URL(targetUri) : undefined;
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'ws:' && url.protocol !== 'wss:')) throw new RelayArgumentError(`tap: targetUri must be a ws:// or wss:// URL, not ${JSON.stringify(targetUri)}`);
    return { ...base, target: { type: 'ws', uri: url.href } };
  }
  throw new RelayArgumentError(`tap: targetType must be rtp or ws, not ${JSON.stringify(targetType)}`);
}

/** The mechanism that taps `settings` (see {@link TapMechanism}). */
export function tapMechanism(settings: TapSettings): TapMechanism {
  if (settings.direction === 'listen') return 'mixmonitor';
  return settings.target.type === 'rtp' ? 'chanspy-rtp' : 'chanspy-audiosocket';
}

/**
 * ChanSpy's options for a direction: `q` quiet, `E` exit when the call hangs up, `u` the target is a
 * uniqueid; `o` only the audio coming from the channel (what the caller says). `listen` has none:
 * ChanSpy cannot hear only what the channel sends (see {@link TapMechanism}).
 */
export function chanSpyOptions(direction: Exclude<TapDirection, 'listen'>): string {
  return direction === 'speak' ? 'qEuo' : 'qEu';
}

/** The ptime used: Asterisk's 20 ms when it sends the RTP itself, else the one asked (default 20). */
export function ptimeUsed(settings: TapSettings): number {
  return tapMechanism(settings) === 'chanspy-rtp' ? ASTERISK_RTP_PTIME_MS : (settings.ptime ?? DEFAULT_PTIME_MS);
}

/** The destination device of a result: the target, with the codec and ptime actually used. */
export function destinationDevice(settings: TapSettings): TapDevice {
  const params = { codec: settings.codec, ptime: ptimeUsed(settings), rate: TAP_RATE };
  const target = settings.target;
  return target.type === 'rtp' ? { type: 'rtp', params: { addr: target.addr, port: target.port, ...params } } : { type: 'ws', params: { uri: target.uri, ...params } };
}

/** The seed's payload of a tap: the parameters as given. */
export function tapPayload(params: TapParams): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined));
}
