/**
 * RTP (RFC 3550) as agikit needs it for taps: the fixed 12-byte header written and read (pure), and
 * {@link RtpSender}, a UDP socket that sends one packet per audio frame with its own sequence
 * numbers, timestamps and SSRC.
 *
 * @module
 */

import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';

/** Length of the fixed RTP header (no CSRC, no extension). */
export const RTP_HEADER_BYTES = 12;

/** The header fields of one packet. */
export interface RtpHeader {
  readonly payloadType: number;
  /** 16-bit, wraps. */
  readonly sequence: number;
  /** 32-bit, in samples, wraps. */
  readonly timestamp: number;
  readonly ssrc: number;
  /** Set on the first packet of a talkspurt. */
  readonly marker: boolean;
}

/** A packet read by {@link decodeRtp}. */
export interface RtpPacket extends RtpHeader {
  readonly payload: Buffer;
}

/** One packet: version 2, no padding, extension or CSRC. */
export function encodeRtp(header: RtpHeader, payload: Uint8Array): Buffer {
  const packet = Buffer.alloc(RTP_HEADER_BYTES + payload.length);
  packet[0] = 0x80;
  packet[1] = (header.marker ? 0x80 : 0) | (header.payloadType & 0x7f);
  packet.writeUInt16BE(header.sequence & 0xffff, 2);
  packet.writeUInt32BE(header.timestamp >>> 0, 4);
  packet.writeUInt32BE(header.ssrc >>> 0, 8);
  packet.set(payload, RTP_HEADER_BYTES);
  return packet;
}

/**
 * Reads a packet (CSRCs, a header extension and padding are skipped); `undefined` when it is not
 * RTP version 2 or is cut short.
 */
export function decodeRtp(packet: Uint8Array): RtpPacket | undefined {
  if (packet.length < RTP_HEADER_BYTES || packet[0]! >> 6 !== 2) return undefined;
  const buffer = Buffer.from(packet.buffer, packet.byteOffset, packet.length);
  let offset = RTP_HEADER_BYTES + (buffer[0]! & 0x0f) * 4;
  if (buffer[0]! & 0x10) {
    if (buffer.length < offset + 4) return undefined;
    offset += 4 + buffer.readUInt16BE(offset + 2) * 4;
  }
  let end = buffer.length;
  if (buffer[0]! & 0x20) end -= buffer[buffer.length - 1]!;
  if (offset > end) return undefined;
  return {
    payloadType: buffer[1]! & 0x7f,
    marker: (buffer[1]! & 0x80) !== 0,
    sequence: buffer.readUInt16BE(2),
    timestamp: buffer.readUInt32BE(4),
    ssrc: buffer.readUInt32BE(8),
    payload: buffer.subarray(offset, end),
  };
}

/** Sends audio frames as RTP to one address from its own UDP socket. */
export class RtpSender {
  private sequence = randomInt(0, 0x10000);
  private timestamp = randomInt(0, 0x1_0000_0000);
  private readonly ssrc = randomInt(0, 0x1_0000_0000);
  private talkspurt = true;

  private constructor(
    private readonly socket: Socket,
    private readonly to: { readonly addr: string; readonly port: number },
    private readonly payloadType: number,
  ) {}

  /** Opens a socket on an ephemeral port of all IPv4 addresses. */
  static async open(to: { readonly addr: string; readonly port: number }, payloadType: number): Promise<RtpSender> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    // A send error (e.g. ICMP port unreachable) must not crash the process; the next frame retries.
    socket.on('error', () => undefined);
    return new RtpSender(socket, to, payloadType);
  }

  /** The local port packets leave from. */
  get port(): number {
    return this.socket.address().port;
  }

  /** Sends one frame of `samples` samples; `marker` starts a talkspurt (after a gap). */
  send(payload: Uint8Array, samples: number): void {
    const packet = encodeRtp({ payloadType: this.payloadType, sequence: this.sequence, timestamp: this.timestamp, ssrc: this.ssrc, marker: this.talkspurt }, payload);
    this.talkspurt = false;
    this.sequence = (this.sequence + 1) & 0xffff;
    this.timestamp = (this.timestamp + samples) >>> 0;
    this.socket.send(packet, this.to.port, this.to.addr);
  }

  /** The next frame starts a talkspurt; `skippedSamples` of silence went unsent before it. */
  gap(skippedSamples: number): void {
    this.talkspurt = true;
    this.timestamp = (this.timestamp + skippedSamples) >>> 0;
  }

  close(): void {
    this.socket.close();
  }
}
