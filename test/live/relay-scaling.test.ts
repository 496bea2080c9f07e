/**
 * Live: several Relay consumer processes on one Asterisk 22 (test/live/fixtures/relay-worker, two
 * child processes, each with its own FastAGI port, AMI connection and runtime), tasks carried by a
 * real redis-server:
 * - Asterisk spreads inbound calls over the two FastAGI addresses (a round robin in the dialplan):
 *   each call reaches exactly one consumer, both get calls;
 * - each of those calls leaves AGI (Redirect) and comes back to its owner through `[relay-resume]`
 *   (`RELAY_OWNER`), which then plays its own tone: the far leg hears that owner's frequency;
 * - each task reaches exactly one consumer, which dials out and plays; the far leg hears it;
 * - a consumer killed while its call is away from AGI: the call comes back to the dead address and
 *   the dialplan hangs it up;
 * - a consumer killed (SIGKILL) mid-task: the other one takes the task over (XAUTOCLAIM) and
 *   finishes it; the far leg hears the survivor's tone on the second call.
 * Skipped, with the reason, when Docker, the image or redis-server cannot be had.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it, type TestContext } from 'node:test';
import { Task } from '../../src/relay/task.js';
import { AGIKIT_DIALPLAN, far } from '../../src/testing/asterisk.js';
import { callDialplan } from '../../src/testing/call-dialplan.js';
import { addExtensionCommand } from '../../src/testing/dialplan-text.js';
import { Heard, shape } from './relay-audio.js';
import { MOUNT, RelayRig, live } from './relay-rig.js';
import { newCallId } from './rig.js';
import { redisUnavailable, startRedis, type RedisServer } from '../support/redis-server.js';
import { until, within } from '../support/settle.js';

const fixture = fileURLToPath(new URL('./fixtures/relay-worker.js', import.meta.url));
/** The context that spreads calls over the workers. */
const BALANCE = 'relay-test-balance';
/** How long a killed worker's task waits before the other one takes it over (ms). */
const MIN_IDLE_MS = 1500;
/** Bound of the waits on the workers (ms): child processes on a loaded 2-core machine. */
const WAIT = 30_000;

const skip: string | false = live.ok ? (redisUnavailable() ?? false) : `live Asterisk unavailable: ${live.reason}`;

/** One worker event (see the fixture). */
interface WorkerEvent {
  readonly event: 'ready' | 'call' | 'task' | 'dialed' | 'done' | 'away';
  readonly name: string;
  readonly [key: string]: unknown;
}

/** A worker process and what it printed. */
class Worker {
  private out = '';
  private err = '';
  constructor(
    readonly name: string,
    readonly hz: number,
    readonly child: ChildProcessWithoutNullStreams,
  ) {
    child.stdout.on('data', (chunk: Buffer) => (this.out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (this.err += chunk.toString()));
  }

  static start(name: string, hz: number, env: Record<string, string>): Worker {
    return new Worker(name, hz, spawn(process.execPath, [fixture], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env, WORKER_NAME: name } }));
  }

  events(): WorkerEvent[] {
    return this.out
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as WorkerEvent);
  }

  /** The first event matching, once printed. */
  async next(match: (event: WorkerEvent) => boolean, what: string, ms = WAIT): Promise<WorkerEvent> {
    await until(() => this.events().some(match) || this.child.exitCode !== null, `${this.name}: ${what}\nstderr: ${this.err}`, ms);
    const found = this.events().find(match);
    assert.ok(found, `${this.name} exited before ${what}\nstderr: ${this.err}`);
    return found;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
}

describe('live: many Relay consumers on one Asterisk (processes, Redis tasks, redirect to the owner, SIGKILL)', { concurrency: false }, () => {
  let rig: RelayRig | undefined;
  let redis: RedisServer | undefined;
  let workers: Worker[] = [];
  let tasks: Task | undefined;
  /** Every worker started, to kill at the end. */
  const everyWorker: Worker[] = [];
  let startWorker: (name: string, hz: number) => Worker = () => {
    throw new Error('not live');
  };

  before(async () => {
    if (skip !== false) return;
    rig = await RelayRig.start();
    const started = await startRedis();
    if ('skip' in started) throw new Error(started.skip);
    redis = started;
    assert.ok(rig.asterisk.ami);
    const { host, port, username, secret } = rig.asterisk.ami;
    startWorker = (name, hz) => {
      const tone = rig!.writeSine(`worker-${name}.wav`, 2, hz);
      const worker = Worker.start(name, hz, {
        WORKER_AMI: `ami://${username}:${secret}@${host}:${port}`,
        WORKER_REDIS: started.url,
        WORKER_MEDIA_LOCAL: rig!.dir,
        WORKER_MEDIA_ASTERISK: MOUNT,
        WORKER_TONE: tone,
        TASK_MIN_IDLE_MS: String(MIN_IDLE_MS),
      });
      everyWorker.push(worker);
      return worker;
    };
    workers = [startWorker('A', 600), startWorker('B', 900)];
    const owners = await Promise.all(workers.map(async (worker) => String((await worker.next((e) => e.event === 'ready', 'ready')).owner)));
    // A round robin over the two workers' FastAGI addresses, as a dialplan of one's own would do it
    // (the harness's call ids start with "lt").
    await rig.asterisk.cliMany([
      ...owners.map((owner, index) => `dialplan set global RELAY_WORKER_${index} ${owner}`),
      addExtensionCommand(BALANCE, '_lt.', 1, 'Set', 'GLOBAL(RELAY_RR)=$[(0${RELAY_RR} + 1) % 2]'),
      addExtensionCommand(BALANCE, '_lt.', 2, 'AGI', '${RELAY_WORKER_${RELAY_RR}}/relay/live'),
      addExtensionCommand(BALANCE, '_lt.', 3, 'Hangup', ''),
      // Where a worker sends a call away from AGI for a while (WORKER_SCRIPT=away).
      addExtensionCommand('relay-test-away', 's', 1, 'Wait', '3'),
      addExtensionCommand('relay-test-away', 's', 2, 'Goto', 'relay-resume,s,1'),
    ]);
    tasks = new Task({ project: 'live', token: 'scaling', transport: started.url });
  });
  after(async () => {
    for (const worker of everyWorker) if (worker.alive) worker.child.kill('SIGKILL');
    await tasks?.close();
    await redis?.stop();
    await rig?.stop();
  });

  /** The far leg's recording `name`: its one loud stretch, which worker's tone it was, and how long. */
  async function heardWorker(name: string): Promise<{ worker: string | undefined; ms: number; shape: string }> {
    const recording = await Heard.closed(path.join(rig!.dir, name), 20_000);
    const loud = recording.loudRuns().at(-1);
    if (!loud) return { worker: undefined, ms: 0, shape: shape(recording.runs()) };
    const hz = recording.peaks(loud.startMs + 100, loud.startMs + loud.durationMs - 100, { count: 1 })[0];
    return { worker: workers.find((worker) => worker.hz === hz)?.name, ms: loud.durationMs, shape: shape(recording.runs()) };
  }

  it('inbound calls spread over two consumer processes: each call reaches exactly one, leaves AGI and comes back to its owner, whose tone the far leg hears', { skip }, async (t: TestContext) => {
    assert.ok(rig);
    const ami = rig.runtime.ami!;
    const ids = [newCallId(), newCallId(), newCallId(), newCallId()];
    for (const id of ids) {
      const plan = callDialplan(id, { agi: 'agi://127.0.0.1:1/unused', far: [far.record(`${MOUNT}/balance-${id}.wav`, { maxSeconds: 20 })] });
      await rig.asterisk.cliMany(plan.adds.filter((command) => command.endsWith(`into ${AGIKIT_DIALPLAN.farContext}`)));
      const placed = await ami.originate({ channel: `Local/${id}@${AGIKIT_DIALPLAN.farContext}/n`, context: BALANCE, exten: id, timeoutMs: 10_000 });
      assert.equal(placed.success, true, `Originate: reason ${placed.reason}`);
    }
    const report: string[] = [];
    for (const id of ids) {
      const heard = await heardWorker(`balance-${id}.wav`);
      const served = workers.flatMap((worker) => worker.events().filter((e) => e.event === 'call' && e.to === id).map((e) => ({ worker, e })));
      assert.equal(served.length, 1, `call ${id} reached exactly one consumer: ${JSON.stringify(served.map(({ e }) => e))}`);
      const [{ worker, e }] = served as [(typeof served)[0]];
      const owner = String(workers.map((w) => w.events().find((x) => x.event === 'ready')?.owner)[workers.indexOf(worker)]);
      assert.deepEqual({ back: e.back, path: e.path, owner: e.owner, same: e.same }, { back: true, path: '/relay/resume', owner, same: true }, `${id} came back to ${worker.name}`);
      assert.equal(heard.worker, worker.name, `the far leg heard ${worker.name}'s tone after the redirect (${heard.shape})`);
      assert.ok(Math.abs(heard.ms - 2000) <= 200, `the whole tone (${heard.shape})`);
      report.push(`${id}→${worker.name}`);
    }
    for (const worker of workers) assert.equal(report.filter((entry) => entry.endsWith(worker.name)).length, 2, `the round robin gave ${worker.name} two calls: ${report.join(' ')}`);
    t.diagnostic(report.join(' '));
  });

  it('each task reaches exactly one consumer (Redis), which dials out; the far leg hears its tone', { skip }, async (t: TestContext) => {
    assert.ok(rig && tasks);
    const ids = [newCallId(), newCallId(), newCallId(), newCallId()];
    for (const id of ids) {
      await rig.addOutboundFarLeg(id, [far.record(`${MOUNT}/task-${id}.wav`, { maxSeconds: 20 })]);
      assert.equal(await tasks.deliver('live', { id, to: id }), true);
    }
    const report: string[] = [];
    for (const id of ids) {
      const done = await within(Promise.any(workers.map((worker) => worker.next((e) => e.event === 'done' && e.id === id, `task ${id} done`))), WAIT, `task ${id} done`);
      const heard = await heardWorker(`task-${id}.wav`);
      const took = workers.flatMap((worker) => worker.events().filter((e) => e.event === 'task' && e.id === id));
      assert.equal(took.length, 1, `task ${id} reached exactly one consumer: ${JSON.stringify(took)}`);
      assert.equal(heard.worker, done.name, `the far leg heard ${done.name}'s tone (${heard.shape})`);
      report.push(`${id}→${done.name}`);
    }
    t.diagnostic(report.join(' '));
  });

  it("a consumer killed while its call is away from AGI: the call comes back to the dead owner's address and the dialplan hangs it up", { skip }, async (t: TestContext) => {
    assert.ok(rig);
    const worker = startWorker('C', 700);
    const owner = String((await worker.next((e) => e.event === 'ready', 'ready')).owner);
    const id = newCallId();
    const channelId = randomUUID();
    await rig.asterisk.cliMany([
      ...callDialplan(id, { agi: 'agi://127.0.0.1:1/unused', far: [far.wait(30)] }).adds.filter((command) => command.endsWith(`into ${AGIKIT_DIALPLAN.farContext}`)),
      addExtensionCommand('relay-test-direct', id, 1, 'AGI', `${owner}/relay/live`),
      addExtensionCommand('relay-test-direct', id, 2, 'Hangup', ''),
    ]);
    // The rig's runtime follows the channel over AMI only (it never gets an AGI session of it).
    const watched = rig.runtime.trackCall({ id: channelId, context: 'live', fromNumber: '', toNumber: id });
    const placed = await rig.runtime.ami!.originate({ channel: `Local/${id}@${AGIKIT_DIALPLAN.farContext}/n`, context: 'relay-test-direct', exten: id, channelId, variables: { WORKER_SCRIPT: 'away' }, timeoutMs: 10_000 });
    assert.equal(placed.success, true);
    await worker.next((e) => e.event === 'away' && e.to === id, 'the call sent away');
    worker.child.kill('SIGKILL');
    const killedAt = Date.now();
    assert.equal(await within(watched.waitForAnswered(), 5000, 'answered (Newstate Up over AMI)'), true, 'the call is up while away');
    assert.equal(await within(watched.waitForEnded(), 15_000, 'the call to end'), true);
    const endedMs = Date.now() - killedAt;
    assert.ok(endedMs >= 1500, `it ended once its wait was over and it came back, not at the kill (${endedMs} ms)`);
    t.diagnostic(`killed C while its call was away; the call ended ${endedMs} ms later (reason ${String(watched.hangupReason)})`);
  });

  it('a consumer killed (SIGKILL) mid-task: the other one takes the task over and finishes it; the far leg hears the survivor', { skip }, async (t: TestContext) => {
    assert.ok(rig && tasks);
    const id = newCallId();
    // Each call to the far leg records into a file of its own (the second call comes more than
    // MIN_IDLE_MS after the first).
    // (Record's options as far.record() gives them: no beep, DTMF does not stop it, kept on hangup.)
    await rig.addOutboundFarLeg(id, [far.app('Record', `${MOUNT}/kill-${id}-\${EPOCH}.wav,0,20,qxk`)]);
    assert.equal(await tasks.deliver('live', { id, to: id }), true);
    const dialed = await within(
      Promise.any(workers.map((worker) => worker.next((e) => e.event === 'dialed' && e.id === id, `task ${id} dialed`))),
      WAIT,
      `task ${id} dialed`,
    );
    const victim = workers.find((worker) => worker.name === dialed.name)!;
    const survivor = workers.find((worker) => worker !== victim)!;
    victim.child.kill('SIGKILL');
    const killedAt = Date.now();
    const done = await survivor.next((e) => e.event === 'done' && e.id === id, `the task taken over and done`);
    const tookOverMs = Date.now() - killedAt;
    assert.equal(done.name, survivor.name);
    assert.equal(
      victim.events().some((e) => e.event === 'done' && e.id === id),
      false,
      'the killed consumer never finished it',
    );
    const recordings = (): string[] => readdirSync(rig!.dir).filter((name) => name.startsWith(`kill-${id}-`));
    await until(() => recordings().length === 2, `two calls to the far leg: ${recordings().join(', ')}`, 10_000);
    // The second call (the later file name: ${EPOCH}) is the survivor's; the first one may have
    // heard the victim's tone, or nothing if it was killed before it played.
    const [first, second] = recordings().sort();
    const heard = await heardWorker(second!);
    assert.deepEqual({ worker: heard.worker, whole: Math.abs(heard.ms - 2000) <= 200 }, { worker: survivor.name, whole: true }, `the second call played the survivor's whole tone (${heard.shape})`);
    t.diagnostic(`killed ${victim.name} after it dialed; ${survivor.name} took the task over and finished it ${tookOverMs} ms later; far leg heard ${heard.shape} on the second call (the first: ${statSync(path.join(rig.dir, first!)).size} bytes)`);
  });
});
