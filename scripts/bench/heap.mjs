// Diffs two V8 heap snapshots (before and while N idle calls wait) and says what each call keeps alive:
// objects grouped by kind and constructor, bytes and object count per call.
//
//   node scripts/bench/heap.mjs <empty.heapsnapshot> <idle.heapsnapshot> <calls>
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function groups(file) {
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  const { node_fields: fields, node_types: types } = snap.snapshot.meta;
  const nf = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const typeNames = types[iType];
  const { nodes, strings } = snap;
  const out = new Map();
  let total = 0;
  for (let i = 0; i < nodes.length; i += nf) {
    const type = typeNames[nodes[i + iType]];
    const size = nodes[i + iSize];
    let name = strings[nodes[i + iName]];
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '(strings)';
    else if (type === 'number') name = '(heap numbers)';
    else if (type === 'code') name = '(code)';
    else if (type === 'closure') name = `${name || '(anonymous)'}()`;
    else if (type === 'array') name = name || '(array)';
    else if (type === 'hidden' || type === 'object shape') name = name.replace(/\d+/g, 'N');
    else if (type === 'native') name = name.replace(/\d+/g, 'N');
    const key = `${type}\t${name}`;
    const g = out.get(key) ?? { type, name, count: 0, size: 0 };
    g.count++;
    g.size += size;
    total += size;
    out.set(key, g);
  }
  return { groups: out, total };
}

export function diffSnapshots(emptyFile, idleFile, calls) {
  const a = groups(emptyFile);
  const b = groups(idleFile);
  const rows = [];
  for (const [key, g] of b.groups) {
    const base = a.groups.get(key) ?? { count: 0, size: 0 };
    const dSize = g.size - base.size;
    const dCount = g.count - base.count;
    if (dSize === 0 && dCount === 0) continue;
    rows.push({ type: g.type, name: g.name, bytesPerCall: dSize / calls, objectsPerCall: dCount / calls });
  }
  rows.sort((x, y) => y.bytesPerCall - x.bytesPerCall);
  return { calls, totalBytesPerCall: (b.total - a.total) / calls, rows };
}

export function formatHeapDiff(diff, top = 30) {
  const L = [`${diff.calls} calls: ${(diff.totalBytesPerCall / 1024).toFixed(2)} KiB of heap objects per call (self sizes, snapshot diff)`, ''];
  L.push('  bytes/call  objects/call  kind        name');
  for (const r of diff.rows.slice(0, top)) {
    L.push(`  ${r.bytesPerCall.toFixed(0).padStart(10)}  ${r.objectsPerCall.toFixed(2).padStart(12)}  ${r.type.padEnd(10)}  ${r.name.slice(0, 90)}`);
  }
  return L.join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [a, b, n] = process.argv.slice(2);
  if (!a || !b || !n) {
    console.error('usage: node scripts/bench/heap.mjs <empty.heapsnapshot> <idle.heapsnapshot> <calls>');
    process.exit(2);
  }
  console.log(formatHeapDiff(diffSnapshots(a, b, Number(n)), 40));
}
