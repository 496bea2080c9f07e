/**
 * CallJob, the base of everything that runs on a call and can be awaited or controlled: its life
 * (start, state, completed, result, done), failures, stop() through halt(), wait(), and a subclass
 * adding its own control (pause/resume) the way Relay's actions will.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallJob } from '../../src/media/job.js';
import { until } from '../support/settle.js';

type ToneState = 'playing' | 'paused' | 'finished' | 'error';

/** A job whose work is a promise the test settles by hand; halt() ends it when `haltEnds` is set. */
class ToneJob extends CallJob<string, ToneState> {
  protected readonly haltRetryMs = 10;
  readonly log: string[] = [];
  haltEnds = true;
  private settle: { resolve: (v: string) => void; reject: (e: unknown) => void } | undefined;

  constructor() {
    super('playing');
  }

  /** Ends the work with a value. */
  finishWork(value: string): void {
    this.settle?.resolve(value);
  }

  /** Makes the work throw. */
  breakWork(error: unknown): void {
    this.settle?.reject(error);
  }

  /** A control of the subclass's own, as PlayAction.pause() will be. */
  pause(): boolean {
    if (this.completed || this.state === 'paused') return false;
    this.setState('paused');
    return true;
  }

  /** Ends before the work ran (as a job whose file cannot be read does). */
  failAtOnce(): this {
    this.endWith('unreadable');
    return this;
  }

  protected execute(): Promise<string> {
    this.log.push('execute');
    return new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
  }

  protected failed(error: unknown): string {
    return `failed: ${String(error)}`;
  }

  protected endState(result: string): ToneState {
    return result.startsWith('failed') || result === 'unreadable' ? 'error' : 'finished';
  }

  protected halt(): void {
    this.log.push('halt');
    if (this.haltEnds) this.finishWork(this.stopRequested ? 'stopped' : 'halted');
  }
}

describe('CallJob', () => {
  it('runs the work synchronously from start(), then has a result, an end state and a resolved done', async () => {
    const job = new ToneJob();
    assert.deepEqual([job.state, job.completed, job.result, job.stopRequested], ['playing', false, undefined, false]);
    assert.equal(job.start(), job);
    assert.deepEqual(job.log, ['execute'], 'the work began before start() returned');
    job.finishWork('end');
    assert.equal(await job.done, 'end');
    assert.deepEqual([job.state, job.completed, job.result], ['finished', true, 'end']);
    assert.throws(() => job.start(), /started once/);
  });

  it('a throw in the work becomes the failed() result; done still resolves', async () => {
    const job = new ToneJob().start();
    job.breakWork(new Error('boom'));
    assert.equal(await job.done, 'failed: Error: boom');
    assert.equal(job.state, 'error');
  });

  it('endWith(): a job that ends before its work runs', async () => {
    const job = new ToneJob().failAtOnce();
    assert.deepEqual([job.completed, job.result, job.state, job.log], [true, 'unreadable', 'error', []]);
    assert.equal(await job.done, 'unreadable');
  });

  it('stop(): stopRequested, halt() until the work has ended, then true; at once true once ended', async () => {
    const job = new ToneJob().start();
    assert.equal(await job.stop(), true);
    assert.deepEqual([job.result, job.stopRequested, job.log], ['stopped', true, ['execute', 'halt']]);
    assert.equal(await job.stop(), true);
    assert.deepEqual(job.log, ['execute', 'halt'], 'no halt for a job that has ended');
  });

  it('stop(): halt() is repeated while the work goes on, until it has ended', async () => {
    const job = new ToneJob();
    job.haltEnds = false;
    job.start();
    const stopping = job.stop({ timeoutMs: 10_000 });
    const halts = (): number => job.log.filter((l) => l === 'halt').length;
    await until(() => halts() >= 3, 'halt() was not repeated three times while the work went on');
    assert.equal(job.completed, false);
    job.finishWork('late');
    assert.equal(await stopping, true);
    assert.equal(await job.done, 'late');
  });

  it('stop(): gives up with false at its timeout; the job goes on and ends later', async () => {
    const job = new ToneJob();
    job.haltEnds = false;
    job.start();
    assert.equal(await job.stop({ timeoutMs: 30 }), false);
    assert.equal(job.completed, false);
    job.finishWork('late');
    assert.equal(await job.done, 'late');
  });

  it('wait(): false when the time passes first (the job goes on), true once ended; null waits for the end', async () => {
    const job = new ToneJob().start();
    assert.equal(await job.wait(20), false);
    assert.equal(job.completed, false);
    setTimeout(() => job.finishWork('end'), 20);
    assert.equal(await job.wait(null), true);
    assert.equal(await job.wait(0), true);
  });

  it('a subclass adds its own controls: pause() moves the state, the end state still comes from the result', async () => {
    const job = new ToneJob().start();
    assert.equal(job.pause(), true);
    assert.equal(job.state, 'paused');
    assert.equal(job.pause(), false);
    job.finishWork('end');
    await job.done;
    assert.equal(job.state, 'finished');
    assert.equal(job.pause(), false);
  });
});
