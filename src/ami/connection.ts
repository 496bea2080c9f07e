/**
 * One TCP connection to AMI: the socket, its framing, the greeting, and one report of its end.
 * Policy (login, actions, reconnecting) is {@link AmiClient}'s.
 *
 * @module
 */

import { connect, type Socket } from 'node:net';
import { AmiConnectError, AmiError } from './errors.js';
import { AmiFramer, type AmiInputLimits } from './framer.js';
import type { AmiMessage } from './message.js';

/** Where to connect and whom to tell. */
export interface AmiConnectionOptions {
  host: string;
  port: number;
  limits: AmiInputLimits;
  /** Every message Asterisk sends, in order (never after the end). */
  onMessage: (connection: AmiConnection, message: AmiMessage) => void;
  /** The end, once, with its reason. */
  onClose: (connection: AmiConnection, error: AmiError) => void;
}

/** A socket and its framer; ends exactly once (`onClose`). */
export class AmiConnection {
  private readonly socket: Socket;
  private readonly framer: AmiFramer;
  private ended: AmiError | undefined;
  private socketError: Error | undefined;
  private greetingWaiter: { resolve(banner: string): void; reject(error: AmiError): void } | undefined;

  constructor(private readonly options: AmiConnectionOptions) {
    this.framer = new AmiFramer(options.limits);
    this.socket = connect({ host: options.host, port: options.port });
    this.socket.setNoDelay(true);
    this.socket.setKeepAlive(true, 30_000);
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.socket.on('error', (error) => {
      this.socketError = error;
    });
    this.socket.on('close', () => {
      const why = this.socketError ? `AMI socket error: ${this.socketError.message}` : 'AMI connection closed by the peer';
      this.end(this.framer.banner === undefined ? new AmiConnectError(why) : new AmiError(why));
    });
  }

  /**
   * Resolves with the greeting line (`Asterisk Call Manager/11.0.0`); rejects with
   * {@link AmiConnectError} if the connection ends first or `timeoutMs` passes (and then ends it).
   */
  greeting(timeoutMs: number): Promise<string> {
    if (this.framer.banner !== undefined) return Promise.resolve(this.framer.banner);
    if (this.ended) return Promise.reject(this.ended);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => this.destroy(new AmiConnectError(`no AMI greeting from ${this.address} within ${timeoutMs} ms`)), timeoutMs);
      this.greetingWaiter = {
        resolve: (banner) => {
          clearTimeout(timer);
          resolve(banner);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error instanceof AmiConnectError ? error : new AmiConnectError(`${error.message} before the greeting`));
        },
      };
    });
  }

  /** `host:port`, for messages. */
  get address(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  /** `true` until the connection has ended. */
  get open(): boolean {
    return this.ended === undefined;
  }

  /** Bytes buffered for the message being read (bounded by the input limits). */
  get bufferedBytes(): number {
    return this.framer.bufferedBytes;
  }

  /** Writes encoded actions (ignored once ended). */
  write(text: string): void {
    if (this.ended === undefined) this.socket.write(text);
  }

  /** Ends the connection now with `error` as its reason. */
  destroy(error: AmiError): void {
    this.end(error);
    this.socket.destroy();
  }

  /** Ends the connection after flushing what was written (half-close), destroying it after `graceMs`. */
  async shutdown(reason: AmiError, graceMs: number): Promise<void> {
    if (!this.socket.destroyed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => this.socket.destroy(), graceMs);
        this.socket.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        this.socket.end();
      });
    }
    this.end(reason);
  }

  private receive(chunk: Buffer): void {
    if (this.ended) return;
    let messages: AmiMessage[];
    try {
      messages = this.framer.push(chunk);
    } catch (error) {
      this.destroy(error instanceof AmiError ? error : new AmiError(`AMI input failed: ${String(error)}`));
      return;
    }
    if (this.greetingWaiter && this.framer.banner !== undefined) {
      const waiter = this.greetingWaiter;
      this.greetingWaiter = undefined;
      waiter.resolve(this.framer.banner);
    }
    for (let i = 0; i < messages.length && this.ended === undefined; i++) {
      this.options.onMessage(this, messages[i] as AmiMessage);
    }
  }

  private end(error: AmiError): void {
    if (this.ended) return;
    this.ended = error;
    const waiter = this.greetingWaiter;
    this.greetingWaiter = undefined;
    waiter?.reject(error);
    this.options.onClose(this, error);
  }
}
