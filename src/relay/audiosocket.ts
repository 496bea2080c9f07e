/**
 * The AudioSocket protocol (Asterisk's `chan_audiosocket` / `res_audiosocket`) on agikit's side: the
 * frame format (pure: {@link encodeAudioSocketFrame}, {@link AudioSocketReader}) and
 * {@link AudioSocketServer}, a TCP server on 127.0.0.1 that waits for the one channel it expects.
 *
 * A frame is a kind byte, a 16-bit big-endian payload length and the payload. Asterisk sends a
 * `uuid` frame first (the 16 bytes of the uuid in the dial string `AudioSocket/host:port/<uuid>`),
 * then `audio` frames: 8 kHz signed linear, little-endian, 320 bytes (20 ms) each. When the channel
 * hangs up Asterisk closes the connection **without** a `hangup` frame (relay-probes.md §9), so the
 * end of the stream is the end of the audio.
 *
 * @module
 */

import { createServer, type Server, type Socket } from 'node:net';

/** Frame kinds. */
export const AudioSocketKind = {
  hangup: 0x00,
  uuid: 0x01,
  dtmf: 0x03,
  audio: 0x10,
  error: 0xff,
} as const;

/** Length of a frame header. */
const HEADER_BYTES = 3;

/** One frame. */
export interface AudioSocketFrame {
  readonly kind: number;
  readonly payload: Buffer;
}

/** A frame's bytes. */
export function encodeAudioSocketFrame(kind: number, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  if (payload.length > 0xffff) throw new RangeError(`an AudioSocket payload holds at most 65535 bytes, not ${payload.length}`);
  const frame = Buffer.alloc(HEADER_BYTES + payload.length);
  frame[0] = kind;
  frame.writeUInt16BE(payload.length, 1);
  frame.set(payload, HEADER_BYTES);
  return frame;
}

/** The uuid of a `uuid` frame's 16 bytes, as Asterisk writes it in dial strings (lowercase, dashed). */
export function uuidOfPayload(payload: Uint8Array): string | undefined {
  if (payload.length !== 16) return undefined;
  const hex = Buffer.from(payload).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Splits a byte stream into frames. Memory stays bounded: at most one frame (≤ 64 KiB) is held while
 * it is incomplete.
 */
export class AudioSocketReader {
  private pending: Buffer = Buffer.alloc(0);

  /** Adds bytes; returns the frames they complete. */
  push(chunk: Uint8Array): AudioSocketFrame[] {
    let buffer = this.pending.length === 0 ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length) : Buffer.concat([this.pending, chunk]);
    const frames: AudioSocketFrame[] = [];
    while (buffer.length >= HEADER_BYTES) {
      const length = buffer.readUInt16BE(1);
      if (buffer.length < HEADER_BYTES + length) break;
      frames.push({ kind: buffer[0]!, payload: Buffer.from(buffer.subarray(HEADER_BYTES, HEADER_BYTES + length)) });
      buffer = buffer.subarray(HEADER_BYTES + length);
    }
    this.pending = Buffer.from(buffer);
    return frames;
  }

  /** Bytes held of an incomplete frame. */
  get bufferedBytes(): number {
    return this.pending.length;
  }
}

/** The connection of the expected channel: its audio, and its end. */
export interface AudioSocketSession {
  /** Called with each audio frame's samples (8 kHz signed linear, little-endian bytes). */
  onAudio(listener: (pcm: Buffer) => void): void;
  /** Resolves when the connection has ended (Asterisk closed it, or {@link close}). */
  readonly ended: Promise<void>;
  close(): void;
}

/**
 * A TCP server on 127.0.0.1 (an ephemeral port) for one AudioSocket channel: {@link accept} resolves
 * with the connection whose `uuid` frame is the expected one; any other connection is closed.
 */
export class AudioSocketServer {
  private constructor(
    private readonly server: Server,
    private readonly uuid: string,
  ) {}

  /** Listens on `host` (default 127.0.0.1), port chosen by the system. */
  static async listen(uuid: string, host = '127.0.0.1'): Promise<AudioSocketServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new AudioSocketServer(server, uuid.toLowerCase());
  }

  /** The host and port Asterisk dials (`AudioSocket/<host>:<port>/<uuid>`). */
  get address(): { host: string; port: number } {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('the AudioSocket server is not listening');
    return { host: address.address, port: address.port };
  }

  /**
   * Resolves with the expected channel's connection, once its `uuid` frame has arrived; rejects when
   * `signal` aborts first. The server stops listening then: a tap has one channel.
   */
  accept(signal: AbortSignal): Promise<AudioSocketSession> {
    return new Promise<AudioSocketSession>((resolve, reject) => {
      const onAbort = (): void => {
        this.server.off('connection', onConnection);
        reject(signal.reason instanceof Error ? signal.reason : new Error('AudioSocket: aborted'));
      };
      const onConnection = (socket: Socket): void => {
        const reader = new AudioSocketReader();
        let session: Session | undefined;
        socket.on('error', () => undefined);
        socket.on('data', (chunk: Buffer) => {
          for (const frame of reader.push(chunk)) {
            if (session) session.frame(frame);
            else if (frame.kind === AudioSocketKind.uuid && uuidOfPayload(frame.payload) === this.uuid) {
              session = new Session(socket);
              this.server.off('connection', onConnection);
              signal.removeEventListener('abort', onAbort);
              this.close();
              resolve(session);
            } else {
              socket.destroy();
              return;
            }
          }
        });
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.server.on('connection', onConnection);
    });
  }

  /** Stops listening (an accepted connection stays open). */
  close(): void {
    if (this.server.listening) this.server.close();
  }
}

class Session implements AudioSocketSession {
  readonly ended: Promise<void>;
  private listener: ((pcm: Buffer) => void) | undefined;

  constructor(private readonly socket: Socket) {
    this.ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  }

  onAudio(listener: (pcm: Buffer) => void): void {
    this.listener = listener;
  }

  frame(frame: AudioSocketFrame): void {
    if (frame.kind === AudioSocketKind.audio) this.listener?.(frame.payload);
    else if (frame.kind === AudioSocketKind.hangup || frame.kind === AudioSocketKind.error) this.socket.end();
  }

  close(): void {
    this.socket.destroy();
  }
}
