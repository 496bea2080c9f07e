/**
 * A fake Asterisk Manager over TCP for the AMI client's tests: greets, parses actions, answers Login
 * and Logoff (secret `good`), and lets a test answer the rest by hand, send raw bytes, drop or refuse
 * connections. Not a test file.
 */
import assert from 'node:assert/strict';
import { nextEvent } from './settle.js';
import { createServer, type Server, type Socket } from 'node:net';

export type Fields = Record<string, string>;

/** Encodes messages as AMI blocks. */
export function amiBlocks(...blocks: string[][]): string {
  return blocks.map((lines) => `${lines.join('\r\n')}\r\n\r\n`).join('');
}

/** Answers Login (secret `good`) and Logoff like Asterisk; everything else is left to the test. */
export function loginResponder(action: Fields): string | undefined {
  const id = action['ActionID'] ?? '';
  if (action['Action'] === 'Login') {
    return action['Secret'] === 'good'
      ? amiBlocks(['Response: Success', `ActionID: ${id}`, 'Message: Authentication accepted'])
      : amiBlocks(['Response: Error', `ActionID: ${id}`, 'Message: Authentication failed']);
  }
  if (action['Action'] === 'Logoff') return amiBlocks(['Response: Goodbye', `ActionID: ${id}`, 'Message: Thanks for all the fish.']);
  return undefined;
}

export class FakeAmi {
  readonly server: Server;
  /** Every action received, over all connections, in order. */
  readonly actions: Fields[] = [];
  /** Connections accepted so far (refused ones included). */
  connections = 0;
  /** The latest connection. */
  socket: Socket | undefined;
  /** Answer an action automatically; return undefined to answer by hand. */
  responder: (action: Fields, socket: Socket) => string | undefined = loginResponder;
  /** `refuse`: close each new connection at once, without a greeting. */
  mode: 'serve' | 'refuse' = 'serve';
  private readonly waiters: Array<{ match: (action: Fields) => boolean; resolve: (action: Fields) => void }> = [];
  private readonly sockets = new Set<Socket>();

  constructor() {
    this.server = createServer((socket) => {
      this.connections += 1;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      if (this.mode === 'refuse') {
        socket.destroy();
        return;
      }
      this.socket = socket;
      socket.setEncoding('utf8');
      socket.write('Asterisk Call Manager/9.0.0\r\n');
      let buffer = '';
      socket.on('data', (data: string) => {
        buffer += data;
        let end: number;
        while ((end = buffer.indexOf('\r\n\r\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 4);
          const action: Fields = {};
          for (const line of block.split('\r\n')) {
            const colon = line.indexOf(': ');
            const key = line.slice(0, colon);
            // A repeated key (Variable) is kept comma-joined.
            action[key] = action[key] === undefined ? line.slice(colon + 2) : `${action[key]},${line.slice(colon + 2)}`;
          }
          this.actions.push(action);
          const auto = this.responder(action, socket);
          if (auto !== undefined && !socket.destroyed) socket.write(auto);
          const i = this.waiters.findIndex((w) => w.match(action));
          if (i >= 0) this.waiters.splice(i, 1)[0]?.resolve(action);
        }
      });
    });
  }

  async listen(): Promise<number> {
    this.server.listen(0, '127.0.0.1');
    await nextEvent(this.server, 'listening', 'the fake AMI server did not start listening');
    const address = this.server.address();
    assert.ok(address && typeof address === 'object');
    return address.port;
  }

  /** The next action received (of that name, if given), bounded by `timeoutMs`. */
  nextAction(name?: string, timeoutMs = 5000): Promise<Fields> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fake AMI: no ${name ?? 'action'} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        match: (action) => name === undefined || action['Action'] === name,
        resolve: (action) => {
          clearTimeout(timer);
          resolve(action);
        },
      });
    });
  }

  /** Actions of one name received so far. */
  received(name: string): Fields[] {
    return this.actions.filter((a) => a['Action'] === name);
  }

  /** Writes messages to the latest connection. */
  send(...blocks: string[][]): void {
    this.socket?.write(amiBlocks(...blocks));
  }

  /** Drops every open connection (RST-free close from the server side). */
  drop(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.drop();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
