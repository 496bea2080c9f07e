// agikit serving the standard call flow. `--level` sets pino's level (default `info`, the default a
// user gets); `--level none` passes a logger stub whose methods do nothing, to price logging itself.
// AGIKIT_DIST points at the built entry point (default: this checkout's dist/src/index.js).
import cluster from 'node:cluster';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { pino } from 'pino';
import { flag, serveControl, stubLogger } from './common.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const entry = process.env.AGIKIT_DIST ? resolve(process.env.AGIKIT_DIST) : resolve(here, '../../../dist/src/index.js');
const { FastAgiServer } = await import(pathToFileURL(entry).href);

const level = flag('level', 'info');

// `--workers N`: N processes on one port through node:cluster, as `agikit serve --workers N` runs
// them. The primary only hands out connections; the orchestrator gets every pid, so that the server's
// CPU time and RSS are summed over all of them.
const workers = Number(flag('workers', '1'));
if (workers > 1 && cluster.isPrimary) {
  const pids = [];
  let port;
  for (let i = 0; i < workers; i++) pids.push(cluster.fork().process.pid);
  let listening = 0;
  cluster.on('listening', (_worker, address) => {
    port = address.port;
    if (++listening === workers) serveControl({ port, entry, pids: [process.pid, ...pids] });
  });
  process.on('exit', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
  });
} else {

// pino's default destination: synchronous writes to fd 1, which the orchestrator points at /dev/null.
const logger = level === 'none' ? stubLogger() : pino({ level });

// The soak (scripts/soak.mjs) sets timeouts, so that calls a hostile peer leaves hanging are ended.
const commandTimeout = flag('command-timeout', undefined);
const headerTimeout = flag('header-timeout', undefined);
const server = new FastAgiServer({
  host: '127.0.0.1',
  port: 0,
  logger,
  statusVariable: false,
  ...(commandTimeout ? { commandTimeoutMs: Number(commandTimeout) } : {}),
  ...(headerTimeout ? { headerTimeoutMs: Number(headerTimeout) } : {}),
});
server.fallback(async (agi) => {
  await agi.answer();
  const num = await agi.getVariable('CALLERID(num)');
  const cust = await agi.databaseGet('cust', agi.args[0]);
  await agi.streamFile('welcome', '#');
  const { digits } = await agi.getData('enter-pin', 3000, 4);
  await agi.setVariable('RESULT', digits);
  void num;
  void cust;
});
const { port } = await server.listen();
if (cluster.isPrimary) serveControl({ port, entry }, () => ({ stats: server.stats }));
}
