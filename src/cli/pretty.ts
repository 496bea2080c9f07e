import { Writable } from 'node:stream';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'name', 'uniqueid', 'channel', 'command', 'reply']);

/** Formats one pino JSON line for people: time, level, call, message, AGI traffic, other fields. */
export function prettyLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : '';
  const level = LEVELS[entry.level as number] ?? String(entry.level);
  const call = entry.uniqueid ? ` [${String(entry.uniqueid)}]` : '';
  const lines = [`${time} ${level.padEnd(5)}${call} ${String(entry.msg ?? '')}`];
  if (entry.msg === 'agi command') {
    lines.push(`    >> ${String(entry.command)}`);
    for (const reply of String(entry.reply).split('\n')) lines.push(`    << ${reply}`);
  }
  const rest = Object.fromEntries(Object.entries(entry).filter(([k]) => !HIDDEN.has(k)));
  if (Object.keys(rest).length > 0) lines[0] += ` ${JSON.stringify(rest)}`;
  return lines.join('\n');
}

/** A pino destination that prints {@link prettyLine}s to `out` (default stdout). */
export function prettyDestination(out: NodeJS.WritableStream = process.stdout): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line) out.write(`${prettyLine(line)}\n`);
      callback();
    },
  });
}
