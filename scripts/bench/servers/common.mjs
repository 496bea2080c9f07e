// Shared plumbing for the benchmark's server processes: report the bound port to the orchestrator over
// IPC, and answer its requests for memory figures, heap snapshots and a clean exit (which also makes
// `--cpu-prof` write its profile).
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';

let inspector;
function post(method, params = {}) {
  inspector ??= (() => {
    const s = new Session();
    s.connect();
    return s;
  })();
  return new Promise((resolve, reject) => inspector.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
}

export function serveControl(info, extra = () => ({})) {
  process.on('message', (msg) => {
    if (msg.cmd === 'mem') {
      if (msg.gc && typeof globalThis.gc === 'function') {
        globalThis.gc();
        globalThis.gc();
      }
      process.send({ reply: 'mem', memory: process.memoryUsage(), ...extra() });
    } else if (msg.cmd === 'snapshot') {
      if (typeof globalThis.gc === 'function') globalThis.gc();
      const file = writeHeapSnapshot(msg.file);
      process.send({ reply: 'snapshot', file });
    } else if (msg.cmd === 'allocStart') {
      // Sampling heap profiler, counting objects that die young too: where the garbage comes from.
      post('HeapProfiler.startSampling', {
        samplingInterval: msg.interval ?? 1024,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      }).then(() => process.send({ reply: 'allocStart' }));
    } else if (msg.cmd === 'allocStop') {
      post('HeapProfiler.stopSampling').then(({ profile }) => {
        writeFileSync(msg.file, JSON.stringify(profile));
        process.send({ reply: 'allocStop', file: msg.file });
      });
    } else if (msg.cmd === 'exit') {
      process.exit(0);
    }
  });
  process.send({ reply: 'ready', pid: process.pid, ...info });
}

/** A logger whose methods do nothing (`--level none`), to price logging itself. */
export function stubLogger() {
  const noop = () => {};
  const log = {
    level: 'silent',
    child: () => log,
    isLevelEnabled: () => false,
    trace: noop,
    debug: noop,
    info: noop,
    warn: noop,
    error: noop,
    fatal: noop,
    silent: noop,
  };
  return log;
}

export function flag(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
}

/** The token after `result=` of a hand-parsed `200 result=<token>[ (<data>)][ attrs]` reply (baselines). */
export function resultOf(line) {
  if (!line.startsWith('200 result=')) throw new Error(`AGI command failed: ${line}`);
  const space = line.indexOf(' ', 11);
  return space === -1 ? line.slice(11) : line.slice(11, space);
}

/** The parenthesised data of a hand-parsed reply (baselines). */
export function dataOf(line) {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  return open === -1 || close < open ? undefined : line.slice(open + 1, close);
}
