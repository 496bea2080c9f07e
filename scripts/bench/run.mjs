#!/usr/bin/env node
// agikit's FastAGI benchmark: agikit against a hand-written `node:net` server (the floor), driven by a
// C load generator that plays Asterisk (agiload.c). Prints a table and writes
// scripts/bench/results/latest.{md,json}. See scripts/bench/README.md.
//
//   npm run bench                       # build, then the full run (a few minutes)
//   npm run bench -- --quick            # one short repetition per point
//   node scripts/bench/run.mjs --help
import { fork, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { summarizeProfile, formatProfileSummary, writeFolded } from './profile.mjs';
import { diffSnapshots, formatHeapDiff } from './heap.mjs';
import { formatAlloc, summarizeAlloc } from './alloc.mjs';
import { buildDir, buildGenerator } from './generator.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');

// ---------- options ----------
const HELP = `Usage: node scripts/bench/run.mjs [options]
  --quick               1 repetition, 1 s warm-up, 2 s per point, 2,000 idle calls
  --reps N              repetitions per point, agikit and raw alternated (default 3)
  --warmup S            seconds of load before measuring (default 1.5)
  --duration S          seconds measured per point (default 4)
  --conc LIST           concurrency levels (default 1,32,256)
  --idle N              idle calls for the memory test (default 10000; 0 skips it)
  --no-logging          skip the logging-cost points (debug on, logger stubbed out)
  --profile             also record a CPU profile of agikit at the highest concurrency
  --heap                also diff heap snapshots: what each idle call keeps alive
  --alloc               also sample allocations (short-lived included) at c=32: bytes per session by function
  --agikit NAME=PATH[|--node-flag...]
                        measure another agikit build (PATH: its dist/src/index.js), optionally with
                        Node flags; repeatable. The first is the one the targets are checked on;
                        default agikit=<repo>/dist/src/index.js
  --extra IMPL          also run a diagnostic server (raw-async) at every point
  --relay               only the Relay comparison: CPU per call of the flow on the Relay Call against
                        the plain Agi flow, same run (part of the default full run; --no-relay skips it)
  --open LIST           open-loop points as fractions of raw's measured capacity (default 0.5,0.8; none: skip)
  --think MS            open loop: pause before each reply, as an IVR's prompts (default 20)
  --workers LIST        also agikit with N worker processes (node:cluster) at the top concurrency (default 2; none: skip)
  --no-peers            skip the other Node AGI libraries (ding-dong, asterisk.io; dev dependencies)
  --split-header        send the header one line per write(), as Asterisk does (default: one write)
  --spin                generator busy-polls instead of sleeping (analysis: the server never pays to wake it)
  --no-quiet            do not wait for, nor re-measure, points the machine disturbed (checks on a busy box)
  --no-pin              do not pin server and generator to separate CPUs
  --out DIR             where to write results (default scripts/bench/results)
  --label TEXT          free text stored with the results
  --render FILE.json    only rewrite the Markdown report from a results JSON (no measuring)`;

function parseArgs(argv) {
  const o = {
    reps: 3,
    warmup: 1.5,
    duration: 4,
    conc: [1, 32, 256],
    idle: 10000,
    logging: true,
    profile: false,
    heap: false,
    alloc: false,
    agikit: [],
    extra: [],
    peers: true,
    open: [0.5, 0.8],
    workers: [2],
    think: 20,
    splitHeader: false,
    spin: false,
    pin: true,
    quiet: true,
    out: join(here, 'results'),
    label: '',
    relay: true,
    relayOnly: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${a} needs a value`);
      return value;
    };
    if (a === '--help' || a === '-h') {
      console.log(HELP);
      process.exit(0);
    } else if (a === '--quick') Object.assign(o, { reps: 1, warmup: 1, duration: 2, idle: 2000 });
    else if (a === '--reps') o.reps = Number(v());
    else if (a === '--warmup') o.warmup = Number(v());
    else if (a === '--duration') o.duration = Number(v());
    else if (a === '--conc') o.conc = v().split(',').map(Number);
    else if (a === '--idle') o.idle = Number(v());
    else if (a === '--no-logging') o.logging = false;
    else if (a === '--profile') o.profile = true;
    else if (a === '--heap') o.heap = true;
    else if (a === '--alloc') o.alloc = true;
    else if (a === '--agikit') {
      const [name, rest] = v().split(/=(.*)/s);
      const [path, ...nodeFlags] = rest.split('|');
      o.agikit.push({ name, entry: resolve(path), nodeFlags });
    } else if (a === '--extra') o.extra.push(v());
    else if (a === '--relay') o.relayOnly = true;
    else if (a === '--no-relay') o.relay = false;
    else if (a === '--no-peers') o.peers = false;
    else if (a === '--open') {
      const list = v();
      o.open = list === 'none' ? [] : list.split(',').map(Number);
    }
    else if (a === '--think') o.think = Number(v());
    else if (a === '--workers') {
      const list = v();
      o.workers = list === 'none' ? [] : list.split(',').map(Number).filter((n) => n > 1);
    }
    else if (a === '--split-header') o.splitHeader = true;
    else if (a === '--spin') o.spin = true;
    else if (a === '--no-pin') o.pin = false;
    else if (a === '--no-quiet') o.quiet = false;
    else if (a === '--out') o.out = resolve(v());
    else if (a === '--label') o.label = v();
    else if (a === '--render') o.render = resolve(v());
    else throw new Error(`unknown option ${a} (see --help)`);
  }
  if (o.agikit.length === 0) o.agikit.push({ name: 'agikit', entry: join(root, 'dist/src/index.js') });
  return o;
}

const opts = parseArgs(process.argv.slice(2));
if (opts.render) {
  const saved = JSON.parse(readFileSync(opts.render, 'utf8'));
  saved.evaluation = evaluate(saved.points, saved.idle, { ...saved.options, openResult: saved.open }, saved.relay);
  const file = join(dirname(opts.render), 'latest.md');
  writeFileSync(file, markdown(saved));
  writeFileSync(opts.render, `${JSON.stringify(slimResult(saved), null, 2)}\n`);
  console.log(`rewrote ${file}`);
  process.exit(0);
}

// ---------- setup ----------
const agiload = buildGenerator();
for (const { name, entry } of opts.agikit) {
  if (!existsSync(entry)) throw new Error(`${name}: ${entry} not found (run \`npm run build\` first)`);
}
const ncpu = availableParallelism();
const pin = opts.pin && ncpu >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0;
// Server on the last CPU, generator on the one before: two processes that ping-pong over loopback
// otherwise get stacked on one CPU by the scheduler's wake-affinity, which halves throughput at random.
const SERVER_CPU = String(ncpu - 1);
const GEN_CPU = String(ncpu - 2);

// ---------- peers: other Node AGI libraries, same flow through their own APIs ----------
/** The peers measured next to agikit (dev dependencies; servers/<script>). */
const PEERS = [
  { id: 'ding-dong', script: 'ding-dong.mjs', args: [], peer: true },
  { id: 'asterisk.io', script: 'asterisk-io.mjs', args: [], peer: true },
];

/** One server implementation: a script, its arguments, its AGIKIT_DIST. */
function impls() {
  const list = [{ id: 'raw', script: 'raw.mjs', args: [] }];
  for (const x of opts.extra) list.push({ id: x, script: `${x}.mjs`, args: [] });
  if (opts.peers) list.push(...PEERS);
  for (const { name, entry, nodeFlags } of opts.agikit) list.push({ id: name, script: 'agikit.mjs', args: ['--level', 'info'], entry, nodeFlags });
  return list;
}
const main = opts.agikit[0];
const loggingImpls = [
  { id: `${main.name}@none`, script: 'agikit.mjs', args: ['--level', 'none'], entry: main.entry, logging: true },
  { id: `${main.name}@debug`, script: 'agikit.mjs', args: ['--level', 'debug'], entry: main.entry, logging: true },
];

// ---------- processes ----------
function startServer(impl, { nodeFlags = [] } = {}) {
  const script = join(here, 'servers', impl.script);
  const env = { ...process.env };
  if (impl.entry) env.AGIKIT_DIST = impl.entry;
  const execArgv = [...(impl.nodeFlags ?? []), ...nodeFlags];
  const options = { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env, execArgv };
  // A server of several processes gets every CPU (it shares the generator's): that is what it is for.
  const cpusFor = impl.cpus ?? SERVER_CPU;
  if (pin) Object.assign(options, { execPath: 'taskset', execArgv: ['-c', cpusFor, process.execPath, ...execArgv] });
  const child = fork(script, impl.args, options);
  const pending = new Map();
  child.on('message', (msg) => {
    const waiter = pending.get(msg.reply);
    if (waiter) {
      pending.delete(msg.reply);
      waiter(msg);
    }
  });
  const ask = (reply, message, timeoutMs = 60000) =>
    new Promise((resolveAsk, rejectAsk) => {
      const timer = setTimeout(() => rejectAsk(new Error(`${impl.id}: no ${reply} reply`)), timeoutMs);
      pending.set(reply, (msg) => {
        clearTimeout(timer);
        resolveAsk(msg);
      });
      if (message) child.send(message);
    });
  const exited = new Promise((resolveExit) => child.on('exit', (code, signal) => resolveExit({ code, signal })));
  return {
    child,
    ready: ask('ready'),
    mem: (gc = true) => ask('mem', { cmd: 'mem', gc }),
    snapshot: (file) => ask('snapshot', { cmd: 'snapshot', file }, 300000),
    allocStart: () => ask('allocStart', { cmd: 'allocStart', interval: 512 }),
    allocStop: (file) => ask('allocStop', { cmd: 'allocStop', file }, 300000),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.send({ cmd: 'exit' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function genCommand(args) {
  return pin ? ['taskset', ['-c', GEN_CPU, agiload, ...args]] : [agiload, args];
}

function runLoad(port, pid, conc, warmup, duration, flow = 'plain') {
  const args = ['--mode', 'load', '--port', String(port), '--pid', String(pid), '--conc', String(conc), '--warmup', String(warmup), '--duration', String(duration), '--flow', flow];
  if (opts.splitHeader) args.push('--split-header');
  if (opts.spin) args.push('--spin');
  return runGenerator(args);
}

/** Runs agiload to its end and parses the JSON it prints (load and open modes). */
function runGenerator(args) {
  const [cmd, argv] = genCommand(args);
  return new Promise((resolveRun, rejectRun) => {
    const p = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => {
      if (code !== 0) rejectRun(new Error(`agiload exited with ${code}: ${out}`));
      else resolveRun(JSON.parse(out));
    });
  });
}

function procRssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

// ---------- load points ----------
/** CPU other processes used during the window, in CPUs (0.25 = a quarter of one CPU). */
function otherLoad(r) {
  if (!r.machine) return 0;
  return Math.max(0, r.machine.busySeconds - r.server.cpuSeconds - r.generator.cpuSeconds) / r.seconds;
}

function machineBusySeconds() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const hz = 100;
  return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / hz;
}

/** Waits (up to `maxMs`) until other processes use less than `limit` of a CPU; returns what was seen. */
async function waitQuiet(limit = 0.1, maxMs = 30000) {
  if (!opts.quiet) return 0;
  const t0 = Date.now();
  let load = 0;
  while (Date.now() - t0 < maxMs) {
    const b0 = machineBusySeconds();
    await sleep(400);
    load = (machineBusySeconds() - b0) / 0.4;
    if (load <= limit) return load;
  }
  return load;
}

async function measurePoint(impl, conc) {
  // The machine is shared: a run during which other processes used more than MAX_OTHER of a CPU is
  // measured again (up to 3 attempts); the attempts are kept in the JSON.
  const MAX_OTHER = 0.1;
  const attempts = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    await waitQuiet(MAX_OTHER);
    const server = startServer(impl);
    const { port, pid, pids } = await server.ready;
    let r;
    try {
      r = await runLoad(port, pids ? pids.join(',') : pid, conc, opts.warmup, opts.duration, impl.flow);
    } finally {
      await server.stop();
    }
    r.otherLoad = otherLoad(r);
    attempts.push(r);
    if (r.otherLoad <= MAX_OTHER || !opts.quiet) break;
    process.stdout.write(`(disturbed: other processes used ${fmt(r.otherLoad * 100, 0)}% of a CPU; again) `);
  }
  const best = attempts.reduce((a, b) => (b.otherLoad < a.otherLoad ? b : a));
  best.attempts = attempts.length;
  return best;
}

function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

const METRICS = {
  sessionsPerSec: (r) => r.sessionsPerSec,
  commandsPerSec: (r) => r.commandsPerSec,
  cmdP50Us: (r) => r.cmdUs.p50,
  cmdP99Us: (r) => r.cmdUs.p99,
  cmdP999Us: (r) => r.cmdUs.p999,
  cmdMaxUs: (r) => r.cmdUs.max,
  sessionP50Us: (r) => r.sessionUs.p50,
  sessionP99Us: (r) => r.sessionUs.p99,
  errors: (r) => r.errors,
  cpuUsPerSession: (r) => r.server.cpuUsPerSession,
  userUsPerSession: (r) => (r.server.userSeconds * 1e6) / Math.max(1, r.sessions),
  sysUsPerSession: (r) => (r.server.sysSeconds * 1e6) / Math.max(1, r.sessions),
  serverCpuBusy: (r) => r.server.cpuSeconds / r.seconds,
  rssMiB: (r) => r.server.rssKiB / 1024,
  genCpuUsPerSession: (r) => r.generator.cpuUsPerSession,
  genCpuBusy: (r) => r.generator.cpuSeconds / r.seconds,
  jain: (r) => r.fairness.jain,
  otherLoad: (r) => r.otherLoad ?? 0,
};

function aggregate(runs) {
  const agg = {};
  for (const [k, f] of Object.entries(METRICS)) {
    const values = runs.map(f);
    agg[k] = { median: median(values), min: Math.min(...values), max: Math.max(...values) };
  }
  agg.errors.total = runs.reduce((s, r) => s + r.errors, 0);
  agg.firstError = runs.map((r) => r.firstError).find((e) => e) ?? '';
  return agg;
}

async function loadSuite() {
  const points = [];
  const top = Math.max(...opts.conc);
  for (const conc of opts.conc) {
    const list = impls();
    if (opts.logging && conc === top) list.push(...loggingImpls);
    const runs = Object.fromEntries(list.map((i) => [i.id, []]));
    for (let rep = 0; rep < opts.reps; rep++) {
      // Alternate the order each repetition so drift (thermal, neighbours) hits both sides alike.
      const order = rep % 2 === 0 ? list : [...list].reverse();
      for (const impl of order) {
        process.stdout.write(`  c=${conc} rep ${rep + 1}/${opts.reps} ${impl.id.padEnd(16)} `);
        const r = await measurePoint(impl, conc);
        runs[impl.id].push(r);
        console.log(
          `${fmt(r.sessionsPerSec, 0).padStart(7)} sess/s  cpu ${fmt(r.server.cpuUsPerSession, 1).padStart(6)} us/sess  ` +
            `cmd p99 ${fmtUs(r.cmdUs.p99).padStart(8)}  gen cpu ${fmt(r.generator.cpuUsPerSession, 1)} us/sess` +
            (r.errors ? `  ERRORS ${r.errors}: ${r.firstError}` : ''),
        );
      }
    }
    for (const impl of list) points.push({ conc, impl: impl.id, logging: !!impl.logging, runs: runs[impl.id], agg: aggregate(runs[impl.id]) });
  }
  return points;
}

// ---------- workers: agikit on every core ----------
/** agikit with N worker processes (servers/agikit.mjs --workers N), given every CPU. */
function workerImpls() {
  return opts.workers.map((n) => ({
    id: `${main.name}×${n} workers`,
    script: 'agikit.mjs',
    args: ['--level', 'info', '--workers', String(n)],
    entry: main.entry,
    cpus: `0-${ncpu - 1}`,
    workers: n,
  }));
}

/** The worker points, at the top concurrency, measured like the others (alternating, medians). */
async function workersSuite() {
  const top = Math.max(...opts.conc);
  const list = workerImpls();
  const runs = Object.fromEntries(list.map((i) => [i.id, []]));
  for (let rep = 0; rep < opts.reps; rep++) {
    for (const impl of list) {
      process.stdout.write(`  c=${top} rep ${rep + 1}/${opts.reps} ${impl.id.padEnd(18)} `);
      const r = await measurePoint(impl, top);
      runs[impl.id].push(r);
      console.log(`${fmt(r.sessionsPerSec, 0).padStart(7)} sess/s  cpu ${fmt(r.server.cpuUsPerSession, 1).padStart(6)} us/sess  cmd p99 ${fmtUs(r.cmdUs.p99).padStart(8)}`);
    }
  }
  return list.map((impl) => ({ conc: top, impl: impl.id, workers: impl.workers, runs: runs[impl.id], agg: aggregate(runs[impl.id]) }));
}

// ---------- open loop: latency as callers hear it ----------
/** Most calls open at once in the open loop (a call arriving when all are taken counts as dropped). */
const OPEN_MAX_CALLS = 8192;

function runOpen(port, pid, rate) {
  const args = ['--mode', 'open', '--port', String(port), '--pid', String(pid), '--rate', String(Math.round(rate)), '--think', String(opts.think)];
  args.push('--conc', String(OPEN_MAX_CALLS), '--warmup', String(opts.warmup), '--duration', String(opts.duration));
  if (opts.splitHeader) args.push('--split-header');
  return runGenerator(args);
}

/**
 * Calls arrive at a fixed rate (fractions of raw's closed-loop capacity at the top concurrency, this
 * run) and each reply waits `--think` ms: the server holds many mostly idle calls, as an IVR does.
 */
async function openSuite(points) {
  const top = Math.max(...opts.conc);
  const capacity = points.find((p) => p.conc === top && p.impl === 'raw')?.agg.sessionsPerSec.median;
  if (!capacity) return null;
  // raw and every agikit build given (`--agikit name=path`), to compare builds under an open loop too.
  const list = [impls()[0], ...impls().filter((i) => opts.agikit.some((a) => a.name === i.id))];
  const out = { capacity, thinkMs: opts.think, points: [] };
  for (const load of opts.open) {
    const rate = capacity * load;
    const runs = Object.fromEntries(list.map((i) => [i.id, []]));
    for (let rep = 0; rep < opts.reps; rep++) {
      const order = rep % 2 === 0 ? list : [...list].reverse();
      for (const impl of order) {
        process.stdout.write(`  open ${fmt(load * 100, 0)}% (${fmt(rate, 0)} calls/s) rep ${rep + 1}/${opts.reps} ${impl.id.padEnd(10)} `);
        await waitQuiet(0.1);
        const server = startServer(impl);
        const { port, pid } = await server.ready;
        let r;
        try {
          // Warm first (a second of closed loop): a cold server falls behind while its code is still
          // being compiled, and the backlog, not the server, would then set the figures.
          await runLoad(port, pid, 32, 0, 1);
          r = await runOpen(port, pid, rate);
        } finally {
          await server.stop();
        }
        runs[impl.id].push(r);
        console.log(
          `${fmt(r.sessionsPerSec, 0).padStart(7)} sess/s  p50 ${fmtUs(r.cmdUs.p50).padStart(8)}  p99 ${fmtUs(r.cmdUs.p99).padStart(8)}  ` +
            `p99.9 ${fmtUs(r.cmdUs.p999).padStart(8)}  cpu ${fmt(r.server.cpuUsPerSession, 1)} us/sess` +
            (r.dropped ? `  dropped ${r.dropped}` : '') +
            (r.errors ? `  ERRORS ${r.errors}: ${r.firstError}` : ''),
        );
      }
    }
    for (const impl of list) {
      const rs = runs[impl.id];
      const m = (f) => median(rs.map(f));
      out.points.push({
        load,
        rate,
        impl: impl.id,
        sessionsPerSec: m((r) => r.sessionsPerSec),
        p50Us: m((r) => r.cmdUs.p50),
        p99Us: m((r) => r.cmdUs.p99),
        p999Us: m((r) => r.cmdUs.p999),
        cpuUsPerSession: m((r) => r.server.cpuUsPerSession),
        rssMiB: m((r) => r.server.rssKiB / 1024),
        dropped: rs.reduce((a, r) => a + r.dropped, 0),
        errors: rs.reduce((a, r) => a + r.errors, 0),
        runs: rs,
      });
    }
  }
  return out;
}

function openMarkdown(open, L) {
  L.push('');
  L.push(`## Open loop (calls arrive at a fixed rate; ${open.thinkMs} ms think time before each reply)`);
  L.push('');
  L.push(
    `Rates are fractions of raw's closed-loop capacity at the top concurrency in this run (${fmt(open.capacity, 0)} sessions/s). ` +
      'Command round trip: from the generator\'s write (header or reply) to the next command.',
  );
  L.push('');
  L.push('| load | calls/s offered | server | sessions/s | cmd p50 | cmd p99 | cmd p99.9 | CPU µs/session | RSS MiB | dropped | errors |');
  L.push('|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const p of open.points) {
    L.push(
      `| ${fmt(p.load * 100, 0)}% | ${fmt(p.rate, 0)} | ${p.impl} | ${fmt(p.sessionsPerSec, 0)} | ${fmtUs(p.p50Us)} | ${fmtUs(p.p99Us)} | ` +
        `${fmtUs(p.p999Us)} | ${fmt(p.cpuUsPerSession, 1)} | ${fmt(p.rssMiB, 0)} | ${p.dropped} | ${p.errors} |`,
    );
  }
}

// ---------- Relay Call vs plain Agi ----------
// The same caller-visible work written against the Relay `Call` (servers/agikit-relay.mjs, AGI-only: no
// AMI) and against the plain `Agi` (servers/agikit.mjs). The servers stay up (warm) and are measured in
// short alternating windows; each window of a Relay server is compared with the plain one next to it,
// so that a neighbour's load hits both sides of a ratio alike (the machine is often shared). Relay
// sends what its methods send, so the generator expects its flow (agiload --flow relay): a CHANNEL
// STATUS first (the Call's state), `STREAM FILE "welcome" ""` (a play has no escape digits). The
// relay-prompt server collects the PIN with `call.promptAudio` (STREAM FILE + WAIT FOR DIGIT): shown,
// not held to the target (it sends three more commands than GET DATA).
const RELAY_TARGET = 1.3;
const relayImpls = () => [
  { id: 'agikit-plain', script: 'agikit.mjs', args: ['--level', 'info'], entry: main.entry, flow: 'plain' },
  { id: 'agikit-relay', script: 'agikit-relay.mjs', args: ['--level', 'info'], entry: main.entry, flow: 'relay' },
  { id: 'agikit-relay-prompt', script: 'agikit-relay.mjs', args: ['--level', 'info', '--prompt'], entry: main.entry, flow: 'relay-prompt' },
];

async function relaySuite() {
  const points = [];
  const windows = Math.max(4, opts.reps * 2);
  for (const conc of opts.conc) {
    const servers = [];
    try {
      for (const impl of relayImpls()) {
        const server = startServer(impl);
        servers.push({ impl, server, ...(await server.ready) });
      }
      for (const s of servers) await runLoad(s.port, s.pid, conc, 0, opts.warmup, s.impl.flow); // JIT warm-up
      const runs = new Map(servers.map((s) => [s.impl.id, []]));
      for (let w = 0; w < windows; w++) {
        for (const s of w % 2 === 0 ? servers : [...servers].reverse()) {
          const r = await runLoad(s.port, s.pid, conc, 0.3, opts.duration / 2, s.impl.flow);
          r.otherLoad = otherLoad(r);
          runs.get(s.impl.id).push(r);
          process.stdout.write(`  c=${conc} window ${w + 1}/${windows} ${s.impl.id.padEnd(20)} cpu ${fmt(r.server.cpuUsPerSession, 1).padStart(7)} µs/call` +
            `  other load ${fmt(r.otherLoad * 100, 0)}%${r.errors ? `  ERRORS ${r.errors}: ${r.firstError}` : ''}\n`);
        }
      }
      for (const [impl, list] of runs) points.push({ conc, impl, runs: list, agg: aggregate(list) });
    } finally {
      for (const s of servers) await s.server.stop();
    }
  }
  return points;
}

/** Per concurrency, CPU per call of each Relay flow ÷ the plain flow's in the window next to it: median, min, max. */
function relayRatios(points) {
  const rows = [];
  for (const p of points) {
    if (p.impl === 'agikit-plain') continue;
    const plain = points.find((q) => q.conc === p.conc && q.impl === 'agikit-plain');
    const pairs = p.runs.map((r, i) => ratio(r.server.cpuUsPerSession, plain.runs[i].server.cpuUsPerSession));
    const value = median(pairs);
    rows.push({
      conc: p.conc,
      impl: p.impl,
      plainCpuUs: plain.agg.cpuUsPerSession.median,
      relayCpuUs: p.agg.cpuUsPerSession.median,
      value,
      min: Math.min(...pairs),
      max: Math.max(...pairs),
      otherLoad: median([...p.runs, ...plain.runs].map((r) => r.otherLoad)),
      errors: p.agg.errors.total + plain.agg.errors.total,
      held: p.impl === 'agikit-relay',
      met: value !== null && value <= RELAY_TARGET,
    });
  }
  return rows;
}

function relayMarkdown(relay) {
  const L = ['', '## Relay Call vs plain Agi (CPU per call, same run)', ''];
  L.push(
    'The six-command flow on the Relay `Call` (AGI-only, no AMI: `call.answer()`, `call.playAudio()`, the rest through `call.agi`; ' +
      'Relay also reads the channel state first, a seventh command) against the same flow on the plain `Agi`. ' +
      `relay-prompt collects the PIN with \`call.promptAudio\` (STREAM FILE + 3 WAIT FOR DIGIT instead of GET DATA): shown, not held to the ${RELAY_TARGET}× target.`,
  );
  L.push('');
  L.push('Servers kept warm, measured in alternating windows; the ratio is the median over windows of relay ÷ the plain window next to it.');
  L.push('');
  L.push('| c | server | CPU µs/call plain | CPU µs/call relay | ratio (min–max) | other load | errors | target |');
  L.push('|---:|---|---:|---:|---:|---:|---:|---|');
  for (const r of relay.ratios) {
    const target = r.held ? (r.met ? `≤ ${RELAY_TARGET}×: yes` : `≤ ${RELAY_TARGET}×: **no**`) : 'shown';
    L.push(
      `| ${r.conc} | ${r.impl} | ${fmt(r.plainCpuUs, 1)} | ${fmt(r.relayCpuUs, 1)} | ${fmt(r.value, 2)}× (${fmt(r.min, 2)}–${fmt(r.max, 2)}) | ` +
        `${fmt(r.otherLoad * 100, 0)}% | ${r.errors} | ${target} |`,
    );
  }
  return L;
}

// ---------- idle memory ----------
function waitForLine(stream, prefix, timeoutMs) {
  return new Promise((resolveLine, rejectLine) => {
    let buf = '';
    const timer = setTimeout(() => rejectLine(new Error(`no ${prefix} line within ${timeoutMs} ms`)), timeoutMs);
    const onData = (d) => {
      buf += d;
      const i = buf.indexOf(`${prefix} `);
      if (i !== -1 && buf.indexOf('\n', i) !== -1) {
        clearTimeout(timer);
        stream.off('data', onData);
        resolveLine(JSON.parse(buf.slice(i + prefix.length + 1, buf.indexOf('\n', i))));
      }
    };
    stream.on('data', onData);
  });
}

function memFigures(reply, pid) {
  const m = reply.memory;
  return {
    rssKiB: procRssKiB(pid) ?? m.rss / 1024,
    heapUsedKiB: m.heapUsed / 1024,
    heapTotalKiB: m.heapTotal / 1024,
    externalKiB: m.external / 1024,
    arrayBuffersKiB: m.arrayBuffers / 1024,
    active: reply.stats?.active ?? null,
  };
}

async function idleOne(impl, count, { snapshotDir } = {}) {
  const server = startServer(impl, { nodeFlags: ['--expose-gc'] });
  const { port, pid } = await server.ready;
  try {
    // Warm up briefly so JIT code and lazily built state are not charged to the idle calls.
    await runLoad(port, pid, 8, 0.2, 0.5);
    await sleep(300);
    const empty = memFigures(await server.mem(), pid);
    if (snapshotDir) await server.snapshot(join(snapshotDir, `${impl.id}-empty.heapsnapshot`));
    const [cmd, argv] = genCommand(['--mode', 'idle', '--port', String(port), '--count', String(count), '--batch', '200']);
    const gen = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'inherit'] });
    gen.stdout.setEncoding('utf8');
    const ready = await waitForLine(gen.stdout, 'READY', 180000);
    await sleep(1000);
    const idle = memFigures(await server.mem(), pid);
    const idleNoGc = procRssKiB(pid);
    if (snapshotDir) await server.snapshot(join(snapshotDir, `${impl.id}-idle.heapsnapshot`));
    const closedLine = waitForLine(gen.stdout, 'CLOSED', 60000);
    gen.stdin.end('close\n');
    const closed = await closedLine;
    await sleep(1500);
    const after = memFigures(await server.mem(), pid);
    const per = (k) => ((idle[k] - empty[k]) * 1024) / count; // bytes per call
    return {
      count,
      setupSeconds: ready.setupSeconds,
      firstCommandUs: ready.firstCommandUs,
      errors: ready.errors,
      lostWhileWaiting: closed.lostWhileWaiting,
      empty,
      idle,
      idleRssNoGcKiB: idleNoGc,
      after,
      perCallBytes: {
        rss: per('rssKiB'),
        heapUsed: per('heapUsedKiB'),
        external: per('externalKiB'),
        arrayBuffers: per('arrayBuffersKiB'),
      },
    };
  } finally {
    await server.stop();
  }
}

async function idleSuite() {
  const out = {};
  for (const impl of [impls()[0], impls().find((i) => i.id === main.name)]) {
    process.stdout.write(`  idle ${opts.idle} calls: ${impl.id.padEnd(10)} `);
    const r = await idleOne(impl, opts.idle);
    out[impl.id] = r;
    console.log(
      `rss +${fmt(r.perCallBytes.rss / 1024, 2)} KiB/call, heap +${fmt(r.perCallBytes.heapUsed / 1024, 2)} KiB/call` +
        (impl.id !== 'raw' ? `, active calls ${r.idle.active}` : ''),
    );
  }
  return out;
}

// ---------- profile & heap ----------
async function profileRun() {
  const dir = join(buildDir, 'profiles');
  mkdirSync(dir, { recursive: true });
  const conc = Math.max(...opts.conc);
  const result = {};
  for (const impl of [impls()[0], impls().find((i) => i.id === main.name)]) {
    const before = new Set(readdirSync(dir));
    const server = startServer(impl, { nodeFlags: ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '200'] });
    const { port, pid } = await server.ready;
    const load = await runLoad(port, pid, conc, opts.warmup, opts.duration);
    await server.stop();
    const file = readdirSync(dir).find((f) => !before.has(f) && f.endsWith('.cpuprofile'));
    if (!file) throw new Error('no .cpuprofile written');
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const summary = summarizeProfile(profile, { sessions: load.sessions + 0, root });
    const folded = join(dir, `${impl.id}-c${conc}.folded`);
    writeFolded(profile, folded, root);
    result[impl.id] = { file: join(dir, file), folded, sessionsPerSec: load.sessionsPerSec, summary };
    console.log(`\n### CPU profile: ${impl.id}, c=${conc} (${join(dir, file)})\n`);
    console.log(formatProfileSummary(summary, 25));
  }
  return result;
}

async function allocRun() {
  const dir = join(buildDir, 'alloc');
  mkdirSync(dir, { recursive: true });
  const result = {};
  for (const impl of [impls()[0], impls().find((i) => i.id === main.name)]) {
    const server = startServer(impl);
    const { port, pid } = await server.ready;
    await runLoad(port, pid, 32, 0, 1); // warm up
    await server.allocStart();
    const load = await runLoad(port, pid, 32, 0, opts.duration);
    const file = join(dir, `${impl.id}.heapprofile`);
    await server.allocStop(file);
    await server.stop();
    const summary = summarizeAlloc(JSON.parse(readFileSync(file, 'utf8')), load.sessions, root);
    result[impl.id] = { file, summary };
    console.log(`\n### Allocations: ${impl.id}, c=32 (${file})\n`);
    console.log(formatAlloc(summary, 25));
  }
  return result;
}

async function heapRun() {
  const dir = join(buildDir, 'heap');
  mkdirSync(dir, { recursive: true });
  const count = Math.min(opts.idle || 2000, 2000);
  const result = {};
  for (const impl of [impls()[0], impls().find((i) => i.id === main.name)]) {
    await idleOne(impl, count, { snapshotDir: dir });
    const diff = diffSnapshots(join(dir, `${impl.id}-empty.heapsnapshot`), join(dir, `${impl.id}-idle.heapsnapshot`), count);
    result[impl.id] = diff;
    console.log(`\n### Heap kept per idle call: ${impl.id} (${count} calls, snapshot diff)\n`);
    console.log(formatHeapDiff(diff, 30));
  }
  return result;
}

// ---------- report ----------
function fmt(x, digits = 1) {
  if (x === null || x === undefined || !Number.isFinite(x)) return 'n/a';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
function fmtUs(us) {
  if (us === null || us === undefined) return 'n/a';
  return us >= 1000 ? `${fmt(us / 1000, 2)} ms` : `${fmt(us, 0)} µs`;
}
function ratio(a, b) {
  return a === null || b === null || b === 0 ? null : a / b;
}

function evaluate(points, idle, o, relay) {
  const main = o.agikit[0];
  const top = Math.max(...o.conc);
  const get = (conc, impl) => points.find((p) => p.conc === conc && p.impl === impl)?.agg;
  const targets = [];
  for (const conc of o.conc) {
    const a = get(conc, main.name);
    const r = get(conc, 'raw');
    if (!a || !r) continue; // --relay: no agikit-vs-raw points
    const x = ratio(a.cpuUsPerSession.median, r.cpuUsPerSession.median);
    targets.push({ what: `CPU time per session, c=${conc}`, target: '≤ 1.15× raw', value: x, met: x !== null && x <= 1.15 });
  }
  if (get(top, main.name) && get(top, 'raw')) {
    const a = get(top, main.name);
    const r = get(top, 'raw');
    const s = ratio(a.sessionsPerSec.median, r.sessionsPerSec.median);
    targets.push({ what: `sessions/s, c=${top}`, target: '≥ 0.9× raw', value: s, met: s !== null && s >= 0.9 });
    const p = ratio(a.cmdP99Us.median, r.cmdP99Us.median);
    targets.push({ what: `command round-trip p99, c=${top}`, target: '≤ 0.5× raw', value: p, met: p !== null && p <= 0.5 });
    const m = ratio(a.cmdP50Us.median, r.cmdP50Us.median);
    targets.push({ what: `command round-trip p50, c=${top}`, target: '≤ 2× raw', value: m, met: m !== null && m <= 2 });
    const rss = ratio(a.rssMiB.median, r.rssMiB.median);
    targets.push({ what: `RSS under load, c=${top}`, target: '≤ 1.2× raw', value: rss, met: rss !== null && rss <= 1.2 });
    // Peers: the best other Node library at the top concurrency, same run.
    const peers = (o.peers === false ? [] : PEERS.map((q) => q.id)).map((id) => ({ id, agg: get(top, id) })).filter((q) => q.agg);
    if (peers.length) {
      const best = peers.reduce((x, y) => (y.agg.sessionsPerSec.median > x.agg.sessionsPerSec.median ? y : x));
      const v = ratio(a.sessionsPerSec.median, best.agg.sessionsPerSec.median);
      targets.push({ what: `sessions/s, c=${top}, vs the best Node peer (${best.id})`, target: '≥ 1.2×', value: v, met: v !== null && v >= 1.2 });
    }
  }
  if (o.openResult) {
    const at = Math.max(...o.openResult.points.map((p) => p.load));
    const a = o.openResult.points.find((p) => p.load === at && p.impl === main.name);
    const r = o.openResult.points.find((p) => p.load === at && p.impl === 'raw');
    if (a && r) {
      const v = ratio(a.p99Us, r.p99Us);
      targets.push({ what: `open loop at ${fmt(at * 100, 0)}% of raw's capacity: command p99`, target: '≤ raw', value: v, met: v !== null && v <= 1 });
    }
  }
  if (idle && idle[main.name]) {
    const kib = idle[main.name].perCallBytes.rss / 1024;
    targets.push({ what: `server memory per idle call (${o.idle} calls)`, target: '≤ 10 KiB', value: kib, unit: 'KiB', met: kib <= 10 });
  }
  const none = get(top, `${main.name}@none`);
  const info = get(top, main.name);
  const debug = get(top, `${main.name}@debug`);
  let logging = null;
  if (none && info && debug) {
    const off = ratio(info.cpuUsPerSession.median, none.cpuUsPerSession.median);
    // Noise floor: the spread of repeated runs of the same build.
    const spread = Math.max(
      (info.cpuUsPerSession.max - info.cpuUsPerSession.min) / info.cpuUsPerSession.median,
      (none.cpuUsPerSession.max - none.cpuUsPerSession.min) / none.cpuUsPerSession.median,
    );
    const on = ratio(debug.cpuUsPerSession.median, info.cpuUsPerSession.median);
    logging = {
      offVsNone: off,
      noise: spread,
      onVsOff: on,
      debugCpuUsPerSession: debug.cpuUsPerSession.median,
      infoCpuUsPerSession: info.cpuUsPerSession.median,
      noneCpuUsPerSession: none.cpuUsPerSession.median,
      debugSessionsPerSec: debug.sessionsPerSec.median,
      infoSessionsPerSec: info.sessionsPerSec.median,
    };
    const extra = off - 1;
    targets.push({
      what: `logging at info (debug off) vs no logger at all, c=${top}`,
      target: 'not measurable',
      value: off,
      met: Math.abs(extra) <= Math.max(0.02, spread),
      note: `run-to-run spread ${fmt(spread * 100, 1)}%`,
    });
  }
  for (const r of relay?.ratios ?? []) {
    if (r.held) targets.push({ what: `Relay Call CPU per call vs plain Agi, c=${r.conc}`, target: `≤ ${RELAY_TARGET}× plain`, value: r.value, met: r.met });
  }
  return { targets, logging };
}

/** The JSON keeps the top rows of each profile table (the full profiles stay in .build/). */
function slimResult(result) {
  const TOP = 60;
  const cut = (summary) => {
    if (!summary) return summary;
    const out = { ...summary };
    for (const k of ['self', 'areas', 'agikitInclusive', 'rows']) if (Array.isArray(out[k])) out[k] = out[k].slice(0, TOP);
    return out;
  };
  const map = (obj, f) => (obj ? Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, f(v)])) : obj);
  return {
    ...result,
    profile: map(result.profile, (p) => ({ ...p, summary: cut(p.summary) })),
    alloc: map(result.alloc, (a) => ({ ...a, summary: cut(a.summary) })),
    heap: map(result.heap, cut),
  };
}

function markdown(result) {
  const { env, points, idle, evaluation, options } = result;
  const L = [];
  L.push(`# agikit FastAGI benchmark`);
  L.push('');
  L.push(
    `${env.date} · Node ${env.node} · ${env.cpuModel} × ${env.cpus} · ${env.memGiB} GiB · agikit ${env.agikitVersion}` +
      (options.label ? ` · ${options.label}` : ''),
  );
  L.push('');
  L.push(
    `Closed loop over 127.0.0.1: each connection sends an Asterisk 22.10.1 header, the server runs the six-command call flow ` +
      `(ANSWER, GET VARIABLE, DATABASE GET, STREAM FILE, GET DATA, SET VARIABLE), every command is checked byte for byte and ` +
      `answered, then the server half-closes. "raw" is the same flow hand-written on \`node:net\`` +
      `${options.peers === false ? '' : '; ding-dong and asterisk.io (npm) run it through their own APIs'}. ` +
      `${options.reps} repetition(s) per point, ${options.warmup} s warm-up + ${options.duration} s measured, agikit and raw alternated; ` +
      `medians shown. Server ${env.pinned ? `pinned to CPU ${env.serverCpu}, generator to CPU ${env.generatorCpu}` : 'not pinned'}. ` +
      `Logger: pino at \`info\` to /dev/null. Header sent in ${options.splitHeader ? 'one write() per line' : 'one write()'}.`,
  );
  L.push('');
  L.push('## Targets');
  L.push('');
  L.push('| What | Target | Measured | Met |');
  L.push('|---|---|---|---|');
  for (const t of evaluation.targets) {
    const v = t.unit === 'KiB' ? `${fmt(t.value, 2)} KiB` : `${fmt(t.value, 2)}×`;
    L.push(`| ${t.what} | ${t.target} | ${v}${t.note ? ` (${t.note})` : ''} | ${t.met ? 'yes' : '**no**'} |`);
  }
  L.push('');
  L.push('## Load');
  L.push('');
  L.push(
    '| c | server | sessions/s | commands/s | cmd p50 | cmd p99 | step-1 p99 | session p99 | errors | CPU µs/session (user+sys) | RSS MiB | CPU busy server / generator | gen CPU µs/session |',
  );
  L.push('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const p of points) {
    const a = p.agg;
    L.push(
      `| ${p.conc} | ${p.impl} | ${fmt(a.sessionsPerSec.median, 0)} | ${fmt(a.commandsPerSec.median, 0)} | ${fmtUs(a.cmdP50Us.median)} | ` +
        `${fmtUs(a.cmdP99Us.median)} | ${fmtUs(median(p.runs.map((r) => r.stepUs?.[0]?.p99)))} | ${fmtUs(a.sessionP99Us.median)} | ${a.errors.total} | ` +
        `${fmt(a.cpuUsPerSession.median, 1)} (${fmt(a.userUsPerSession.median, 0)}+${fmt(a.sysUsPerSession.median, 0)}) | ` +
        `${fmt(a.rssMiB.median, 0)} | ${fmt(a.serverCpuBusy.median * 100, 0)}% / ${fmt(a.genCpuBusy.median * 100, 0)}% | ${fmt(a.genCpuUsPerSession.median, 1)} |`,
    );
  }
  L.push('');
  L.push('### Ratios (agikit ÷ raw, same run)');
  L.push('');
  L.push('| c | server | CPU/session | sessions/s | cmd p50 | cmd p99 | session p99 | RSS |');
  L.push('|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const p of points) {
    if (p.impl === 'raw') continue;
    const r = points.find((q) => q.conc === p.conc && q.impl === 'raw').agg;
    const a = p.agg;
    const x = (k) => `${fmt(ratio(a[k].median, r[k].median), 2)}×`;
    L.push(`| ${p.conc} | ${p.impl} | ${x('cpuUsPerSession')} | ${x('sessionsPerSec')} | ${x('cmdP50Us')} | ${x('cmdP99Us')} | ${x('sessionP99Us')} | ${x('rssMiB')} |`);
  }
  if (evaluation.logging) {
    const g = evaluation.logging;
    L.push('');
    L.push('### Logging');
    L.push('');
    L.push(
      `At c=${Math.max(...options.conc)}: a logger stub that does nothing costs ${fmt(g.noneCpuUsPerSession, 1)} µs/session; pino at \`info\` (per-call ` +
        `debug lines off) ${fmt(g.infoCpuUsPerSession, 1)} µs (${fmt((g.offVsNone - 1) * 100, 1)}%, run-to-run spread ${fmt(g.noise * 100, 1)}%); ` +
        `pino at \`debug\` (every command logged, synchronous writes to /dev/null) ${fmt(g.debugCpuUsPerSession, 1)} µs, ` +
        `${fmt((g.onVsOff - 1) * 100, 0)}% more than \`info\`, and ${fmt(g.debugSessionsPerSec, 0)} sessions/s against ${fmt(g.infoSessionsPerSec, 0)}.`,
    );
  }
  if (result.open) openMarkdown(result.open, L);
  if (result.relay) L.push(...relayMarkdown(result.relay));
  if (idle) {
    L.push('');
    L.push(`## Idle calls (${options.idle} connected calls waiting for a reply)`);
    L.push('');
    L.push('| server | RSS empty | RSS with calls | RSS / call | heap used / call | external / call | RSS after they hang up |');
    L.push('|---|---:|---:|---:|---:|---:|---:|');
    for (const [id, r] of Object.entries(idle)) {
      L.push(
        `| ${id} | ${fmt(r.empty.rssKiB / 1024, 1)} MiB | ${fmt(r.idle.rssKiB / 1024, 1)} MiB | ${fmt(r.perCallBytes.rss / 1024, 2)} KiB | ` +
          `${fmt(r.perCallBytes.heapUsed / 1024, 2)} KiB | ${fmt(r.perCallBytes.external / 1024, 2)} KiB | ${fmt(r.after.rssKiB / 1024, 1)} MiB |`,
      );
    }
    L.push('');
    L.push('Memory is measured after a full GC (`--expose-gc`), against the same server after a short warm-up with no calls.');
  }
  if (result.profile) {
    for (const [id, p] of Object.entries(result.profile)) {
      L.push('');
      L.push(`## CPU profile: ${id} at c=${Math.max(...options.conc)}`);
      L.push('');
      L.push('```');
      L.push(formatProfileSummary(p.summary, 25));
      L.push('```');
    }
  }
  if (result.alloc) {
    for (const [id, a] of Object.entries(result.alloc)) {
      L.push('');
      L.push(`## Allocations per session: ${id} at c=32`);
      L.push('');
      L.push('```');
      L.push(formatAlloc(a.summary, 25));
      L.push('```');
    }
  }
  if (result.heap) {
    for (const [id, h] of Object.entries(result.heap)) {
      L.push('');
      L.push(`## Heap kept per idle call: ${id}`);
      L.push('');
      L.push('```');
      L.push(formatHeapDiff(h, 30));
      L.push('```');
    }
  }
  L.push('');
  L.push('Reproduce: `npm run bench` (see scripts/bench/README.md).');
  L.push('');
  return L.join('\n');
}

// ---------- main ----------
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const env = {
  date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  node: process.versions.node,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  cpus: ncpu,
  memGiB: Math.round(totalmem() / 2 ** 30),
  agikitVersion: pkg.version,
  pinned: pin,
  serverCpu: SERVER_CPU,
  generatorCpu: GEN_CPU,
  generator: agiload,
};
console.log(`agikit benchmark: Node ${env.node}, ${env.cpus} CPUs${pin ? `, server on CPU ${SERVER_CPU}, generator on CPU ${GEN_CPU}` : ''}`);
if (opts.agikit.length > 1 || opts.agikit[0].name !== 'agikit') for (const a of opts.agikit) console.log(`  ${a.name}: ${a.entry}`);

const result = { env, options: { ...opts, agikit: opts.agikit }, points: [], idle: null };
if (!opts.relayOnly) {
  console.log('\nLoad');
  result.points = await loadSuite();
  if (opts.workers.length > 0) {
    console.log('\nWorkers');
    result.points.push(...(await workersSuite()));
  }
  if (opts.open.length > 0) {
    console.log('\nOpen loop');
    result.open = await openSuite(result.points);
  }
}
if (opts.relay || opts.relayOnly) {
  console.log('\nRelay Call vs plain Agi');
  const points = await relaySuite();
  result.relay = { points, ratios: relayRatios(points) };
  for (const r of result.relay.ratios) console.log(`  c=${r.conc} ${r.impl}: ${fmt(r.value, 2)}× plain's CPU per call (${fmt(r.relayCpuUs, 1)} / ${fmt(r.plainCpuUs, 1)} µs)`);
}
if (opts.idle > 0 && !opts.relayOnly) {
  console.log('\nIdle calls');
  result.idle = await idleSuite();
}
if (opts.profile) result.profile = await profileRun();
if (opts.heap) result.heap = await heapRun();
if (opts.alloc) result.alloc = await allocRun();
result.evaluation = evaluate(result.points, result.idle, { ...opts, openResult: result.open }, result.relay);

const md = markdown(result);
mkdirSync(opts.out, { recursive: true });
writeFileSync(join(opts.out, 'latest.md'), md);
writeFileSync(join(opts.out, 'latest.json'), `${JSON.stringify(slimResult(result), null, 2)}\n`);
console.log(`\n${md}`);
console.log(`results: ${join(opts.out, 'latest.md')}, ${join(opts.out, 'latest.json')}`);
