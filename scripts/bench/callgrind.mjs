#!/usr/bin/env node
// Instructions per call (valgrind's callgrind) of the plain Agi flow and of the same flow on the Relay
// Call: a ratio that does not move with the machine's load, unlike CPU time. Each server runs under
// callgrind with instrumentation off, is warmed up, then instrumented for one load window; the
// instructions of all its threads (user space only: the kernel's share is not counted) are divided by
// the calls completed in the window. Warm-up and window are counted in calls, not seconds, so that JIT
// tiering and GC are in the same state whatever the machine's load. Slow (valgrind runs the JIT's code
// ~50× slower). Needs valgrind; not part of `npm run bench`.
//
//   node scripts/bench/callgrind.mjs [--conc 8] [--warm-calls 5000] [--calls 3000] [--agikit PATH] [--prompt]
import { execFileSync, fork, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDir, buildGenerator } from './generator.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const conc = arg('conc', '8');
const warmCalls = Number(arg('warm-calls', '5000'));
const calls = Number(arg('calls', '3000'));
const agikit = arg('agikit', undefined);
const agiload = buildGenerator();
const dir = join(buildDir, 'callgrind');
mkdirSync(dir, { recursive: true });

const servers = [
  { id: 'agikit-plain', script: 'agikit.mjs', args: [], flow: 'plain' },
  { id: 'agikit-relay', script: 'agikit-relay.mjs', args: [], flow: 'relay' },
];
if (process.argv.includes('--prompt')) servers.push({ id: 'agikit-relay-prompt', script: 'agikit-relay.mjs', args: ['--prompt'], flow: 'relay-prompt' });

async function measure(server) {
  const out = join(dir, `${server.id}-c${conc}.out`);
  const child = fork(join(here, 'servers', server.script), server.args, {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { ...process.env, ...(agikit ? { AGIKIT_DIST: agikit } : {}) },
    execPath: 'valgrind',
    execArgv: ['--tool=callgrind', '--instr-atstart=no', '--smc-check=all-non-file', `--callgrind-out-file=${out}`, '-q', process.execPath],
  });
  const { port, pid } = await new Promise((resolve) => child.on('message', (m) => m.reply === 'ready' && resolve(m)));
  // Load windows of 5 s until `count` calls have completed (calls in flight at a window's edge are few at this c).
  const load = (count) => {
    const total = { sessions: 0, errors: 0, firstError: '' };
    while (total.sessions < count) {
      const argv = ['--mode', 'load', '--port', String(port), '--pid', String(pid), '--conc', conc, '--warmup', '0', '--duration', '5', '--flow', server.flow];
      const r = JSON.parse(spawnSync(agiload, argv, { encoding: 'utf8' }).stdout);
      total.sessions += r.sessions;
      total.errors += r.errors;
      total.firstError ||= r.firstError;
    }
    return total;
  };
  const warm = load(warmCalls);
  execFileSync('callgrind_control', ['-i', 'on', String(pid)], { stdio: 'ignore' });
  const run = load(calls);
  execFileSync('callgrind_control', ['-i', 'off', String(pid)], { stdio: 'ignore' });
  child.send({ cmd: 'exit' });
  await new Promise((resolve) => child.on('exit', resolve));
  const ir = Number(/^totals:\s+(\d+)/m.exec(readFileSync(out, 'utf8'))?.[1] ?? NaN);
  const errors = warm.errors + run.errors;
  return { id: server.id, warmCalls: warm.sessions, calls: run.sessions, errors, firstError: run.firstError || warm.firstError, ir, irPerCall: ir / run.sessions };
}

const results = [];
for (const server of servers) {
  const r = await measure(server);
  results.push(r);
  console.log(`${r.id.padEnd(20)} c=${conc}: ${Math.round(r.irPerCall).toLocaleString('en-US')} instructions/call over ${r.calls} calls (warm-up ${r.warmCalls})` + (r.errors ? `  ERRORS ${r.errors}: ${r.firstError}` : ''));
}
const plain = results[0];
for (const r of results.slice(1)) console.log(`${r.id} ÷ plain: ${(r.irPerCall / plain.irPerCall).toFixed(2)}×`);
console.log(JSON.stringify({ conc: Number(conc), warmCalls, calls, results }));
