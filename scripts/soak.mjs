#!/usr/bin/env node
// agikit soak: a FastAGI server under a long closed-loop load with a share of hostile calls, to show
// that memory stays flat and that hostile calls affect no other call. Not part of `npm test`.
//
//   npm run build && node scripts/soak.mjs                 # 10 minutes, 256 calls at once, 1% hostile
//   node scripts/soak.mjs --duration 60 --report 10        # a short run
//
// The load is scripts/bench/agiload.c in soak mode: every call plays Asterisk 22 through the
// benchmark's six-command flow (checked byte for byte), and 1 call in 100 is hostile, in turn: reset
// (RST in the header or at a command), junk (stray lines, some not UTF-8, before a reply; the call
// must still complete), stall (half a header, or no reply: the server's header or command timeout
// must end it), flood (a free-text value that never closes: the reply bound must end it).
// The server is scripts/bench/servers/agikit.mjs (pino at warn, so hostile events are logged, to
// /dev/null) with a 5 s command and header timeout. Every --report seconds the script prints calls
// served, errors of ordinary calls, hostile calls that ended as they should (or not), and the
// server's V8 heap (after a full GC) and RSS. Results: scripts/bench/results/soak-latest.{md,json}.
import { fork, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildGenerator } from './bench/generator.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const results = join(here, 'bench', 'results');

const HELP = `Usage: node scripts/soak.mjs [options]
  --duration S          seconds of load (default 600)
  --conc N              calls at once (default 256)
  --hostile N           hostile calls per thousand (default 10)
  --report S            seconds between progress lines (default 30)
  --command-timeout MS  the server's command timeout (default 5000)
  --header-timeout MS   the server's header timeout (default 5000)
  --no-save             do not write scripts/bench/results/soak-latest.*`;

function parseArgs(argv) {
  const o = { duration: 600, conc: 256, hostile: 10, report: 30, commandTimeout: 5000, headerTimeout: 5000, save: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) throw new Error(`bad value for ${a}`);
      return v;
    };
    if (a === '--duration') o.duration = num();
    else if (a === '--conc') o.conc = num();
    else if (a === '--hostile') o.hostile = num();
    else if (a === '--report') o.report = num();
    else if (a === '--command-timeout') o.commandTimeout = num();
    else if (a === '--header-timeout') o.headerTimeout = num();
    else if (a === '--no-save') o.save = false;
    else if (a === '--help' || a === '-h') {
      console.log(HELP);
      process.exit(0);
    } else throw new Error(`unknown option ${a}\n${HELP}`);
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const agiload = buildGenerator();

// ---------- the server ----------
const server = fork(join(here, 'bench', 'servers', 'agikit.mjs'), ['--level', 'warn', '--command-timeout', String(opts.commandTimeout), '--header-timeout', String(opts.headerTimeout)], {
  stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  execArgv: ['--expose-gc'],
});
const replies = [];
server.on('message', (msg) => {
  const i = replies.findIndex((r) => r.kind === msg.reply);
  if (i !== -1) replies.splice(i, 1)[0].resolve(msg);
});
function ask(kind, message) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not answer ${kind} within 30 s`)), 30_000);
    replies.push({
      kind,
      resolve: (msg) => {
        clearTimeout(timer);
        resolve(msg);
      },
    });
    if (message) server.send(message);
  });
}
const ready = await ask('ready');

// ---------- the load ----------
const MiB = 1024 * 1024;
const rows = [];
const started = Date.now();
console.log(`soak: ${opts.duration} s, ${opts.conc} calls at once, ${opts.hostile}‰ hostile; server pid ${ready.pid}, port ${ready.port}; ${availableParallelism()} CPUs (${cpus()[0]?.model ?? '?'}), load average ${loadavg()[0].toFixed(2)}`);
console.log('    t   served  calls/s  errors  hostile ok/bad  heap MiB  RSS MiB  active pending  protocolErr  timeouts  load');

const gen = spawn(agiload, ['--mode', 'soak', '--port', String(ready.port), '--pid', String(ready.pid), '--conc', String(opts.conc), '--duration', String(opts.duration), '--hostile', String(opts.hostile), '--report', String(opts.report)], { stdio: ['ignore', 'pipe', 'inherit'] });
let final;
const lines = createInterface({ input: gen.stdout });
const progress = (async () => {
  for await (const line of lines) {
    const m = /^(PROGRESS|FINAL) (\{.*\})$/.exec(line);
    if (!m) {
      console.log(line);
      continue;
    }
    const report = JSON.parse(m[2]);
    const mem = await ask('mem', { cmd: 'mem', gc: true });
    const previous = rows.at(-1);
    const row = {
      t: report.t,
      served: report.served,
      callsPerSecond: previous ? (report.served - previous.served) / Math.max(0.001, report.t - previous.t) : 0,
      errors: report.errors,
      errorKinds: report.errorKinds,
      hostile: report.hostile,
      hostileOk: Object.values(report.hostile).reduce((n, h) => n + h.expected, 0),
      hostileBad: Object.values(report.hostile).reduce((n, h) => n + h.unexpected, 0),
      heapUsedMiB: mem.memory.heapUsed / MiB,
      rssMiB: mem.memory.rss / MiB,
      stats: mem.stats,
      loadavg: loadavg()[0],
      firstError: report.firstError,
      firstHostileError: report.firstHostileError,
    };
    rows.push(row);
    const s = row.stats;
    console.log(
      `${row.t.toFixed(0).padStart(5)}  ${String(row.served).padStart(7)}  ${row.callsPerSecond.toFixed(0).padStart(7)}  ${String(row.errors).padStart(6)}  ${`${row.hostileOk}/${row.hostileBad}`.padStart(14)}  ${row.heapUsedMiB.toFixed(1).padStart(8)}  ${row.rssMiB.toFixed(1).padStart(7)}  ${String(s.active).padStart(6)} ${String(s.pending).padStart(7)}  ${String(s.protocolErrors).padStart(11)}  ${String(s.closedByAgikit.TIMEOUT).padStart(8)}  ${row.loadavg.toFixed(2).padStart(4)}`,
    );
    if (m[1] === 'FINAL') final = row;
  }
})();
const genExit = await new Promise((resolve) => gen.on('exit', (code) => resolve(code)));
await progress;
server.send({ cmd: 'exit' });
if (genExit !== 0 || !final) {
  console.error(`soak: the generator exited with ${genExit}`);
  process.exit(1);
}

// ---------- verdict ----------
// Memory is compared between the first report after a minute of load (warm) and the last.
const warm = rows.find((r) => r.t >= 60) ?? rows[1] ?? rows[0];
const loaded = rows.filter((r) => r !== final && r.t > 0);
const peakHeap = Math.max(...loaded.map((r) => r.heapUsedMiB));
const peakRss = Math.max(...loaded.map((r) => r.rssMiB));
const last = loaded.at(-1) ?? final;
const summary = {
  when: new Date(started).toISOString(),
  options: opts,
  node: process.version,
  cpus: availableParallelism(),
  served: final.served,
  callsPerSecond: final.served / opts.duration,
  errors: final.errors,
  errorKinds: final.errorKinds,
  hostile: final.hostile,
  memory: { warmHeapMiB: warm.heapUsedMiB, lastHeapMiB: last.heapUsedMiB, peakHeapMiB: peakHeap, warmRssMiB: warm.rssMiB, lastRssMiB: last.rssMiB, peakRssMiB: peakRss },
  serverStats: final.stats,
  firstError: final.firstError,
  firstHostileError: final.firstHostileError,
  rows,
};
const hostileStarted = Object.values(final.hostile).reduce((n, h) => n + h.started, 0);
const verdict = [
  `served ${final.served} calls (${summary.callsPerSecond.toFixed(0)}/s), ${final.errors} errors in ordinary calls${final.firstError ? ` (first: ${final.firstError})` : ''}`,
  `hostile: ${hostileStarted} started, ${final.hostileOk} ended as expected, ${final.hostileBad} not${final.firstHostileError ? ` (first: ${final.firstHostileError})` : ''}`,
  `heap after GC: ${warm.heapUsedMiB.toFixed(1)} MiB at ${warm.t.toFixed(0)} s, ${last.heapUsedMiB.toFixed(1)} MiB at ${last.t.toFixed(0)} s (peak ${peakHeap.toFixed(1)}); RSS ${warm.rssMiB.toFixed(1)} -> ${last.rssMiB.toFixed(1)} MiB (peak ${peakRss.toFixed(1)})`,
];
console.log(`\n${verdict.join('\n')}`);
if (opts.save) {
  mkdirSync(results, { recursive: true });
  writeFileSync(join(results, 'soak-latest.json'), `${JSON.stringify(summary, null, 2)}\n`);
  const table = rows
    .map((r) => `| ${r.t.toFixed(0)} | ${r.served} | ${r.callsPerSecond.toFixed(0)} | ${r.errors} | ${r.hostileOk} / ${r.hostileBad} | ${r.heapUsedMiB.toFixed(1)} | ${r.rssMiB.toFixed(1)} | ${r.stats.active} | ${r.loadavg.toFixed(2)} |`)
    .join('\n');
  writeFileSync(
    join(results, 'soak-latest.md'),
    `# Soak, ${summary.when}\n\n\`node scripts/soak.mjs${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}\`: ${opts.duration} s, ${opts.conc} calls at once, ${opts.hostile}‰ hostile (reset, junk, stall, flood in turn), Node ${process.version}, ${availableParallelism()} CPUs shared with other work (load average in the last column).\n\n${verdict.map((v) => `- ${v}`).join('\n')}\n\nHostile calls by kind: ${Object.entries(final.hostile).map(([k, h]) => `${k} ${h.started} (${h.expected} as expected, ${h.unexpected} not)`).join(', ')}.\n\n| t (s) | served | calls/s | errors | hostile ok / not | heap after GC (MiB) | RSS (MiB) | active | load avg |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n${table}\n`,
  );
  console.log(`wrote ${join(results, 'soak-latest.md')}`);
}
process.exit(final.errors === 0 && final.hostileBad === 0 ? 0 : 1);
