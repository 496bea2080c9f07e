// Reads a V8 .cpuprofile (node --cpu-prof) and says where the time went: self time per function,
// per area (agikit, Node core, pino, GC, ...), inclusive time of agikit's functions, and folded stacks
// for flame-graph tools (flamegraph.pl, speedscope, inferno).
//
//   node scripts/bench/profile.mjs <file.cpuprofile> [--sessions N] [--folded out.folded] [--svg out.svg]
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flameSvg } from './flame.mjs';

/** A short, stable place name for a call frame's script URL. */
export function shortUrl(url, root = '') {
  if (!url) return '';
  let u = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (root && u.startsWith(root)) u = u.slice(root.length + 1);
  const nm = u.lastIndexOf('node_modules/');
  if (nm !== -1) u = u.slice(nm + 'node_modules/'.length);
  const dist = u.indexOf('dist/src/');
  if (dist !== -1) u = `agikit:${u.slice(dist + 'dist/src/'.length)}`;
  return u;
}

/** Which area a frame belongs to. */
export function areaOf(frame) {
  const name = frame.functionName;
  const url = frame.url || '';
  if (name === '(idle)') return 'idle';
  if (name === '(garbage collector)') return 'GC';
  if (name === '(program)') return 'native (V8/libuv/syscalls outside JS)';
  if (name === '(root)') return 'root';
  if (/dist\/src\//.test(url)) return 'agikit';
  if (/node_modules\/(pino|sonic-boom|thread-stream|on-exit-leak-free|fast-redact|quick-format-unescaped|safe-stable-stringify|atomic-sleep|@pinojs)/.test(url)) {
    return 'pino';
  }
  if (/scripts\/bench\/servers\//.test(url)) return 'app (bench handler)';
  if (url.startsWith('node:') || url === '') return url.startsWith('node:net') ? 'node:net' : url.startsWith('node:internal/streams') ? 'node streams' : 'node core / native';
  return 'other';
}

function frameKey(frame, root) {
  const name = frame.functionName || '(anonymous)';
  const url = shortUrl(frame.url, root);
  return url ? `${name} ${url}:${frame.lineNumber + 1}` : name;
}

export function summarizeProfile(profile, { sessions = 0, root = '' } = {}) {
  const nodes = new Map();
  const parent = new Map();
  for (const n of profile.nodes) {
    nodes.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  // Time of each sample: V8 records the delta *before* sample i; attribute delta i+1 to sample i.
  const { samples, timeDeltas } = profile;
  const sampleTime = new Float64Array(samples.length);
  for (let i = 0; i < samples.length; i++) sampleTime[i] = (timeDeltas[i + 1] ?? timeDeltas[i] ?? 0) / 1000; // ms
  const self = new Map();
  const inclusive = new Map();
  const area = new Map();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < samples.length; i++) {
    const t = sampleTime[i];
    const leaf = nodes.get(samples[i]);
    total += t;
    if (leaf.callFrame.functionName === '(idle)') {
      idle += t;
      continue;
    }
    const k = frameKey(leaf.callFrame, root);
    const s = self.get(k) ?? { ms: 0, area: areaOf(leaf.callFrame) };
    s.ms += t;
    self.set(k, s);
    const a = areaOf(leaf.callFrame);
    area.set(a, (area.get(a) ?? 0) + t);
    const seen = new Set();
    for (let id = samples[i]; id !== undefined; id = parent.get(id)) {
      const f = nodes.get(id).callFrame;
      if (areaOf(f) !== 'agikit' && areaOf(f) !== 'pino') continue;
      const key = frameKey(f, root);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + t);
    }
  }
  const busy = total - idle;
  const perSession = (ms) => (sessions ? (ms * 1000) / sessions : null);
  const rows = (map) =>
    [...map.entries()]
      .map(([k, v]) => (typeof v === 'number' ? { name: k, ms: v } : { name: k, ...v }))
      .sort((a, b) => b.ms - a.ms)
      .map((r) => ({ ...r, pctBusy: (100 * r.ms) / busy, usPerSession: perSession(r.ms) }));
  return {
    totalMs: total,
    idleMs: idle,
    busyMs: busy,
    sessions,
    areas: rows(area),
    self: rows(self),
    agikitInclusive: rows(inclusive),
  };
}

export function formatProfileSummary(s, top = 25) {
  const L = [];
  const us = (r) => (r.usPerSession === null ? '' : `${r.usPerSession.toFixed(2).padStart(7)} µs/sess`);
  L.push(
    `sampled ${(s.totalMs / 1000).toFixed(2)} s, busy ${(s.busyMs / 1000).toFixed(2)} s (${((100 * s.busyMs) / s.totalMs).toFixed(0)}%)` +
      (s.sessions ? `, ${s.sessions} sessions → ${((s.busyMs * 1000) / s.sessions).toFixed(1)} µs of JS-thread time per session` : ''),
  );
  L.push('');
  L.push('self time by area:');
  for (const r of s.areas) L.push(`  ${r.pctBusy.toFixed(1).padStart(5)}%  ${us(r)}  ${r.name}`);
  L.push('');
  L.push(`top ${top} functions by self time:`);
  for (const r of s.self.slice(0, top)) L.push(`  ${r.pctBusy.toFixed(1).padStart(5)}%  ${us(r)}  [${r.area}] ${r.name}`);
  L.push('');
  L.push('agikit and pino functions by inclusive time:');
  for (const r of s.agikitInclusive.slice(0, top)) L.push(`  ${r.pctBusy.toFixed(1).padStart(5)}%  ${us(r)}  ${r.name}`);
  return L.join('\n');
}

/** Folded stacks ("root;caller;callee count_in_microseconds"), one line per distinct stack. */
export function foldProfile(profile, root = '') {
  const nodes = new Map();
  const parent = new Map();
  for (const n of profile.nodes) {
    nodes.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const stackOf = new Map();
  const stack = (id) => {
    let s = stackOf.get(id);
    if (s !== undefined) return s;
    const f = nodes.get(id).callFrame;
    const name = `${f.functionName || '(anonymous)'}${f.url ? ` ${shortUrl(f.url, root)}:${f.lineNumber + 1}` : ''}`.replace(/;/g, ',');
    const p = parent.get(id);
    s = p === undefined ? name : `${stack(p)};${name}`;
    stackOf.set(id, s);
    return s;
  };
  const counts = new Map();
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    const f = nodes.get(samples[i]).callFrame;
    if (f.functionName === '(idle)') continue;
    const k = stack(samples[i]);
    counts.set(k, (counts.get(k) ?? 0) + (timeDeltas[i + 1] ?? timeDeltas[i] ?? 0));
  }
  return counts;
}

export function writeFolded(profile, file, root = '') {
  const counts = foldProfile(profile, root);
  const lines = [...counts.entries()].map(([k, v]) => `${k} ${Math.round(v)}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  writeFileSync(file.replace(/\.folded$/, '.svg'), flameSvg(counts, { title: file.replace(/^.*\//, '') }));
}

// CLI
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [file, ...rest] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node scripts/bench/profile.mjs <file.cpuprofile> [--sessions N] [--folded out.folded] [--top N]');
    process.exit(2);
  }
  const arg = (n) => {
    const i = rest.indexOf(`--${n}`);
    return i === -1 ? undefined : rest[i + 1];
  };
  const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const summary = summarizeProfile(profile, { sessions: Number(arg('sessions') ?? 0), root });
  console.log(formatProfileSummary(summary, Number(arg('top') ?? 30)));
  if (arg('folded')) writeFolded(profile, arg('folded'), root);
}
