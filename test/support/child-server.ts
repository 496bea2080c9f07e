/**
 * A FastAGI server in a child process (test/fixtures/memory-server), for tests that measure its
 * memory or need process-wide conditions of its own (a low file-descriptor limit). It reports its
 * port, and its memory and stats on request, over IPC.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { ServerStats } from '../../src/server/fastagi-server.js';
import { within } from './settle.js';

/** What the child reports: process.memoryUsage() after a full GC, its peak RSS, and the server's stats. */
export interface ChildMemory {
  rss: number;
  maxRss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  stats: ServerStats;
}

const fixture = fileURLToPath(new URL('../fixtures/memory-server.js', import.meta.url));

export class ChildServer {
  private stderrText = '';

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.stderr?.on('data', (c: Buffer) => (this.stderrText += c.toString()));
  }

  /**
   * Starts the server. `fdLimit` runs it under `ulimit -n <fdLimit>`; `logLevel` makes it log (JSON
   * lines on stderr, see {@link logs}) instead of staying silent.
   */
  static async start(options: { fdLimit?: number; logLevel?: string } = {}): Promise<ChildServer> {
    const node = `exec "${process.execPath}" --expose-gc "${fixture}"`;
    const child = spawn('sh', ['-c', options.fdLimit ? `ulimit -n ${options.fdLimit} && ${node}` : node], {
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      env: { ...process.env, AGIKIT_TEST_LOG: options.logLevel ?? 'silent' },
    });
    const [message] = (await within(once(child, 'message'), 10_000, 'child server did not start')) as [{ port: number }];
    return new ChildServer(child, message.port);
  }

  async memory(): Promise<ChildMemory> {
    const reply = once(this.child, 'message');
    this.child.send({ cmd: 'mem' });
    const [message] = (await within(reply, 10_000, 'child server did not answer')) as [ChildMemory];
    return message;
  }

  /** Its log lines so far (with `logLevel`). */
  logs(): Array<Record<string, unknown>> {
    return this.stderrText
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  stop(): void {
    this.child.kill();
  }
}
