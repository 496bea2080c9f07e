/**
 * The main job: serve the example app over FastAGI and, with a local Asterisk 22 (started in Docker
 * by the project's own scripts), place a demo call into it and print what happened.
 *
 *   node dist/scripts/demo.js [--keep-serving] [--port N]
 *
 * Without Docker the app is still served, and the demo says why no call was placed.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import app from '../examples/hello.js';
import { FastAgiServer } from '../src/server/fastagi-server.js';
import { far, liveAsteriskAvailable, startAsterisk } from '../src/testing/asterisk.js';

const keepServing = process.argv.includes('--keep-serving');
const portArg = process.argv.indexOf('--port');
const port = portArg === -1 ? 0 : Number(process.argv[portArg + 1]);

/** Prints the server's structured log as a readable call trace. */
const trace = new Writable({
  write(chunk: Buffer, _encoding, callback) {
    for (const line of chunk.toString().split('\n')) {
      if (!line) continue;
      const entry = JSON.parse(line) as Record<string, unknown>;
      const who = entry.uniqueid ? `[${String(entry.uniqueid)}] ` : '';
      if (entry.msg === 'agi command') {
        console.log(`  ${who}>> ${String(entry.command)}`);
        for (const reply of String(entry.reply).split('\n')) console.log(`  ${who}<< ${reply}`);
      } else {
        const { level: _l, time: _t, pid: _p, hostname: _h, msg, uniqueid: _u, channel: _c, ...rest } = entry;
        const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
        console.log(`${who}${String(msg)}${extra}`);
      }
    }
    callback();
  },
});

const server = new FastAgiServer({ port, logger: pino({ level: 'debug' }, trace), router: app });
const address = await server.listen();
console.log(`\nagikit is serving examples/hello.ts at agi://127.0.0.1:${address.port}/hello\n`);

console.log('Making sure Docker and the Asterisk 22 image exist (the first build takes about a minute) ...');
const live = await liveAsteriskAvailable();
if (!live.ok) {
  console.log(`No demo call: a local Asterisk cannot run here (${live.reason}).`);
  console.log(`Point your own Asterisk at it:  exten => 100,1,AGI(agi://127.0.0.1:${address.port}/hello)`);
  if (!keepServing) {
    await server.close();
    process.exit(0);
  }
} else {
  console.log(`Starting Asterisk (${live.image}) ...`);
  const asterisk = await startAsterisk();
  console.log(`${asterisk.version} is up. Placing a demo call: the caller waits, types 1234, then listens.\n`);
  try {
    const call = await asterisk.originate({
      agi: { port: address.port, route: 'hello' },
      args: ['demo caller'],
      callerId: { number: '5551234', name: 'Demo Caller' },
      far: [far.wait(3), far.dtmf('1234'), far.wait(12), far.hangup()],
      record: ['DEMO_DIGITS', 'AGIKIT_STATUS'],
      timeoutMs: 30_000,
    });
    const result = await call.result();
    console.log('\nWhat the dialplan saw after AGI():');
    console.log(`  AGISTATUS=${result.agiStatus}  AGIKIT_STATUS=${result.variables.AGIKIT_STATUS ?? ''}  DEMO_DIGITS=${result.variables.DEMO_DIGITS ?? ''}`);
    const stored = await asterisk.cli('database show agikit-demo');
    console.log(`  astdb: ${stored.trim().split('\n').filter((l) => l.startsWith('/')).join('; ') || '(nothing)'}`);
    const ok = result.agiStatus === 'SUCCESS' && result.variables.DEMO_DIGITS === '1234';
    console.log(ok ? '\nDemo call OK.\n' : '\nDemo call did not go as planned (see above).\n');
    process.exitCode = ok ? 0 : 1;
  } finally {
    await asterisk.stop();
  }
  if (!keepServing) await server.close();
}
if (keepServing) console.log(`Still serving on port ${address.port}; Ctrl-C to stop.`);
