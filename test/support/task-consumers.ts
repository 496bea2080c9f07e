/**
 * Consumers for the task tests: {@link Recorder}, run in the test process ({@link start}), and
 * consumer processes ({@link spawnTaskConsumer}, test/fixtures/task-consumer) whose events are read
 * from their output.
 *
 * Not a test file: it only exports helpers.
 */
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Consumer } from '../../src/relay/consumer.js';
import type { TaskMessage } from '../../src/relay/task-message.js';
import { spawnNode, type TestChild } from './child.js';
import { within, WAIT_MS } from './settle.js';

/** A consumer that records its tasks; `gate` (when set) holds each onTask until opened. */
export class Recorder extends Consumer {
  readonly tasks: Array<{ message: TaskMessage; context: string }> = [];
  gate: Promise<void> | undefined;
  failWith: Error | undefined;
  constructor(
    private readonly settings: { contexts: string[]; token?: string },
    connection: ConstructorParameters<typeof Consumer>[0],
  ) {
    super(connection);
  }
  override setup(): void {
    this.project = 'acme';
    this.token = this.settings.token ?? 'secret';
    this.contexts = this.settings.contexts;
  }
  override async onTask(message: TaskMessage, context: string): Promise<void> {
    this.tasks.push({ message, context });
    await this.gate;
    if (this.failWith) throw this.failWith;
  }
}

/** Runs a consumer until the test ends; resolves once it is ready. */
export async function start(t: TestContext, consumer: Consumer): Promise<{ stop: () => Promise<void> }> {
  const abort = new AbortController();
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  consumer.ready = () => ready();
  const running = consumer.run({ signal: abort.signal, handleSignals: false });
  running.catch(() => undefined);
  await within(Promise.race([isReady, running]), WAIT_MS, 'the consumer did not get ready');
  const stop = async (): Promise<void> => {
    abort.abort();
    await within(running, WAIT_MS, 'the consumer did not stop');
  };
  t.after(() => (abort.signal.aborted ? undefined : stop()));
  return { stop };
}

const fixture = fileURLToPath(new URL('../fixtures/task-consumer.js', import.meta.url));

/** One line a consumer process printed. */
export interface TaskEvent {
  event: 'ready' | 'task' | 'done';
  pid: number;
  id?: unknown;
  context?: string;
  message?: TaskMessage;
}

/** A consumer process: the child, and the events it printed so far. */
export interface TaskConsumerProcess extends TestChild {
  events(): TaskEvent[];
  /** Resolves once it printed `ready` (it takes tasks from then on). */
  ready(): Promise<void>;
}

/** Spawns test/fixtures/task-consumer for `url` (killed when the test ends); `env` tunes it. */
export function spawnTaskConsumer(t: TestContext, url: string, contexts: string, env: Record<string, string> = {}, token = 'secret'): TaskConsumerProcess {
  const child = spawnNode(t, [fixture, url, 'acme', token, contexts], env);
  const events = (): TaskEvent[] =>
    child
      .stdout()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as TaskEvent);
  return { ...child, events, ready: async () => void (await child.waitFor(/"event":"ready"/)) };
}
