// A small, dependency-free flame graph renderer: folded stacks in, standalone SVG out (hover a frame
// for its name and share). Frames are coloured by area: agikit orange, Node core green, pino purple,
// GC red, the benchmark's own handler blue, the rest grey.

const WIDTH = 1600;
const ROW = 17;

function colour(name) {
  if (/ agikit:/.test(name)) return '#f0a040';
  if (/^\(garbage collector\)/.test(name)) return '#e05050';
  if (/ (pino|sonic-boom|fast-redact|quick-format|safe-stable)/.test(name)) return '#b080e0';
  if (/ scripts\/bench\//.test(name)) return '#6aa0e0';
  if (/ node:/.test(name)) return '#70c070';
  return '#b8b8b8';
}

const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** @param {Map<string, number>} counts folded stack → weight */
export function flameSvg(counts, { title = 'flame graph' } = {}) {
  const root = { name: 'all', value: 0, children: new Map() };
  for (const [stack, value] of counts) {
    root.value += value;
    let node = root;
    for (const frame of stack.split(';')) {
      let child = node.children.get(frame);
      if (!child) {
        child = { name: frame, value: 0, children: new Map() };
        node.children.set(frame, child);
      }
      child.value += value;
      node = child;
    }
  }
  const rects = [];
  let depthMax = 0;
  const walk = (node, x, depth) => {
    const w = (node.value / root.value) * WIDTH;
    if (w < 0.3) return;
    depthMax = Math.max(depthMax, depth);
    rects.push({ node, x, w, depth });
    let cx = x;
    for (const child of [...node.children.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      walk(child, cx, depth + 1);
      cx += (child.value / root.value) * WIDTH;
    }
  };
  walk(root, 0, 0);
  const height = (depthMax + 1) * ROW + 40;
  const out = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="monospace" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="8" y="18" font-size="14">${esc(title)}: ${(root.value / 1000).toFixed(0)} ms sampled (idle excluded)</text>`,
  );
  for (const { node, x, w, depth } of rects) {
    const y = height - (depth + 1) * ROW;
    const pct = ((100 * node.value) / root.value).toFixed(2);
    const label = w > 30 ? esc(node.name.slice(0, Math.floor((w - 4) / 6.6))) : '';
    out.push(
      `<g><title>${esc(node.name)} — ${pct}%</title><rect x="${x.toFixed(1)}" y="${y}" width="${Math.max(0.3, w - 0.3).toFixed(1)}" height="${ROW - 1}" fill="${node === root ? '#ddd' : colour(node.name)}"/>` +
        (label ? `<text x="${(x + 2).toFixed(1)}" y="${y + 12}">${label}</text>` : '') +
        `</g>`,
    );
  }
  out.push('</svg>');
  return out.join('\n');
}
