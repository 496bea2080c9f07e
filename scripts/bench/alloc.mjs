// Summarises a V8 sampling heap profile (HeapProfiler.startSampling with the objects collected by
// minor and major GCs included): bytes allocated per session, by function and by area, which is what
// drives the garbage collector's share of the CPU profile.
//
//   node scripts/bench/alloc.mjs <file.heapprofile> <sessions>
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { areaOf, shortUrl } from './profile.mjs';

export function summarizeAlloc(profile, sessions, root = '') {
  const self = new Map();
  const area = new Map();
  const inclusive = new Map();
  let total = 0;
  const walk = (node, stack) => {
    const f = node.callFrame;
    const key = `${f.functionName || '(anonymous)'}${f.url ? ` ${shortUrl(f.url, root)}:${f.lineNumber + 1}` : ''}`;
    const here = [...stack, { key, area: areaOf(f) }];
    if (node.selfSize > 0) {
      total += node.selfSize;
      const s = self.get(key) ?? { bytes: 0, area: areaOf(f) };
      s.bytes += node.selfSize;
      self.set(key, s);
      area.set(areaOf(f), (area.get(areaOf(f)) ?? 0) + node.selfSize);
      const seen = new Set();
      for (const fr of here) {
        if (fr.area !== 'agikit' || seen.has(fr.key)) continue;
        seen.add(fr.key);
        inclusive.set(fr.key, (inclusive.get(fr.key) ?? 0) + node.selfSize);
      }
    }
    for (const c of node.children ?? []) walk(c, here);
  };
  walk(profile.head, []);
  const rows = (map) =>
    [...map.entries()]
      .map(([name, v]) => (typeof v === 'number' ? { name, bytes: v } : { name, ...v }))
      .sort((a, b) => b.bytes - a.bytes)
      .map((r) => ({ ...r, perSession: r.bytes / sessions }));
  return { sessions, totalBytes: total, perSession: total / sessions, areas: rows(area), self: rows(self), agikitInclusive: rows(inclusive) };
}

export function formatAlloc(s, top = 25) {
  const L = [`${s.sessions} sessions: ${(s.perSession / 1024).toFixed(1)} KiB allocated per session (sampled, short-lived objects included)`, ''];
  L.push('by area:');
  for (const r of s.areas) L.push(`  ${r.perSession.toFixed(0).padStart(7)} B/sess  ${r.name}`);
  L.push('');
  L.push(`top ${top} allocating functions (self):`);
  for (const r of s.self.slice(0, top)) L.push(`  ${r.perSession.toFixed(0).padStart(7)} B/sess  [${r.area}] ${r.name}`);
  if (s.agikitInclusive.length) {
    L.push('');
    L.push('agikit functions, inclusive:');
    for (const r of s.agikitInclusive.slice(0, top)) L.push(`  ${r.perSession.toFixed(0).padStart(7)} B/sess  ${r.name}`);
  }
  return L.join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [file, sessions] = process.argv.slice(2);
  if (!file || !sessions) {
    console.error('usage: node scripts/bench/alloc.mjs <file.heapprofile> <sessions>');
    process.exit(2);
  }
  const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
  console.log(formatAlloc(summarizeAlloc(JSON.parse(readFileSync(file, 'utf8')), Number(sessions), root), 40));
}
