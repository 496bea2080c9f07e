#!/usr/bin/env node
// AMI event demultiplexing: how many events per second one process can route to per-channel
// subscriptions for 1,000 concurrent calls. A fake AMI server (a child process) streams realistic
// Asterisk 22 channel events for 1,000 interleaved calls as fast as the client reads them; the
// client (agikit's AmiClient, from dist/) has one `ami.channel(uniqueid)` subscription per channel
// and checks that each got exactly its events. See scripts/bench/README.md.
//
//   npm run build && node scripts/bench/ami-demux.mjs [--channels 1000] [--cycles 11] [--reps 3] [--global]
import { fork } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const CHANNELS = option('channels', 1000);
// The first cycle warms up (JIT, table capacity) and is not measured.
const CYCLES = option('cycles', 11);
const REPS = option('reps', 3);
const GLOBAL = process.argv.includes('--global');

// ---------- the events of one call, as Asterisk 22 writes them ----------

function snapshot(i, state, exten, priority) {
  const uniqueid = `1763700000.${i}`;
  return [
    `Channel: PJSIP/trunk-${String(i).padStart(8, '0')}`,
    `ChannelState: ${state[0]}`,
    `ChannelStateDesc: ${state[1]}`,
    `CallerIDNum: +1555${String(1000000 + i)}`,
    'CallerIDName: <unknown>',
    'ConnectedLineNum: <unknown>',
    'ConnectedLineName: <unknown>',
    'Language: en',
    'AccountCode: ',
    'Context: from-trunk',
    `Exten: ${exten}`,
    `Priority: ${priority}`,
    `Uniqueid: ${uniqueid}`,
    `Linkedid: ${uniqueid}`,
  ];
}

const RING = ['4', 'Ring'];
const UP = ['6', 'Up'];

/** About 26 events of one inbound call answered by AGI: ringing, answer, AGI commands, DTMF, hangup. */
function callEvents(i) {
  const e = (name, state, exten, priority, ...extra) => [`Event: ${name}`, 'Privilege: call,all', ...snapshot(i, state, exten, priority), ...extra];
  const d = (name, state, ...extra) => [`Event: ${name}`, 'Privilege: dialplan,all', ...snapshot(i, state, '100', '2'), ...extra];
  const agi = (n, command, result) => [
    e('AGIExecStart', UP, '100', '2', `CommandId: ${n}`, `Command: ${command}`),
    e('AGIExecEnd', UP, '100', '2', `CommandId: ${n}`, `Command: ${command}`, 'ResultCode: 200', `Result: Success ${result}`),
  ];
  return [
    e('Newchannel', ['0', 'Down'], '100', '1'),
    d('VarSet', RING, 'Variable: __TRUNK', 'Value: carrier-a'),
    d('Newexten', RING, 'Extension: 100', 'Application: Answer', 'AppData: '),
    e('Newstate', RING, '100', '1'),
    e('Newstate', UP, '100', '1'),
    d('Newexten', UP, 'Extension: 100', 'Application: AGI', 'AppData: agi://127.0.0.1:4573/ivr'),
    d('VarSet', UP, 'Variable: AGISTATUS', 'Value: '),
    e('AsyncAGIStart', UP, '100', '2', 'Env: agi_request%3A%20agi'),
    ...agi(1, 'ANSWER', 'result=0'),
    ...agi(2, 'GET VARIABLE "CALLERID(num)"', 'result=1 (5551234)'),
    ...agi(3, 'STREAM FILE "welcome" "#"', 'result=0 endpos=12000'),
    e('DTMFBegin', UP, '100', '2', 'Digit: 4', 'Direction: Received'),
    e('DTMFEnd', UP, '100', '2', 'Digit: 4', 'DurationMs: 120', 'Direction: Received'),
    e('DTMFBegin', UP, '100', '2', 'Digit: 2', 'Direction: Received'),
    e('DTMFEnd', UP, '100', '2', 'Digit: 2', 'DurationMs: 110', 'Direction: Received'),
    ...agi(4, 'GET DATA "enter-pin" 3000 4', 'result=42'),
    ...agi(5, 'SET VARIABLE "RESULT" "42"', 'result=1'),
    d('VarSet', UP, 'Variable: RESULT', 'Value: 42'),
    e('HangupRequest', UP, '100', '2', 'Cause: 16'),
    e('SoftHangupRequest', UP, '100', '2', 'Cause: 16'),
    d('VarSet', UP, 'Variable: AGISTATUS', 'Value: SUCCESS'),
    e('Hangup', UP, '100', '2', 'Cause: 16', 'Cause-txt: Normal Clearing'),
  ];
}

// ---------- server (child process) ----------

async function serve() {
  const calls = Array.from({ length: CHANNELS }, (_, i) => callEvents(i));
  const perCall = calls[0].length;
  // Interleaved: step k of every call, then step k + 1, as 1,000 concurrent calls would be.
  let text = '';
  for (let k = 0; k < perCall; k++) for (const call of calls) text += `${call[k].join('\r\n')}\r\n\r\n`;
  const cycle = Buffer.from(text);
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.write('Asterisk Call Manager/11.0.0\r\n');
    let buffer = '';
    socket.on('data', async (data) => {
      buffer += data.toString();
      let end;
      while ((end = buffer.indexOf('\r\n\r\n')) >= 0) {
        const action = buffer.slice(0, end);
        buffer = buffer.slice(end + 4);
        const id = /ActionID: (.*)/.exec(action)?.[1] ?? '';
        socket.write(`Response: Success\r\nActionID: ${id}\r\n\r\n`);
        if (!action.includes('Action: BenchStart')) continue;
        for (let c = 1; c <= CYCLES; c++) {
          if (!socket.write(cycle)) await new Promise((r) => socket.once('drain', r));
          socket.write(`Event: BenchCycle\r\nPrivilege: system,all\r\nCycle: ${c}\r\n\r\n`);
        }
      }
    });
  });
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port, perCall, cycleBytes: cycle.length }));
}

// ---------- client (this process) ----------

async function measure(port, perCall) {
  const { AmiClient } = await import(join(root, 'dist/src/index.js'));
  const { pino } = await import('pino');
  const ami = await AmiClient.connect({ port, username: 'bench', secret: 'bench', events: true, logger: pino({ level: 'silent' }), pingIntervalMs: 0 });
  const counts = new Uint32Array(CHANNELS);
  for (let i = 0; i < CHANNELS; i++) ami.channel(`1763700000.${i}`, () => void counts[i]++);
  let seen = 0;
  if (GLOBAL) ami.on('event', () => void seen++);
  const result = await new Promise((resolveResult) => {
    let start;
    const onCycle = (event) => {
      if (event.get('Event') !== 'BenchCycle') return;
      const cycle = Number(event.get('Cycle'));
      if (cycle === 1) start = { t: process.hrtime.bigint(), cpu: process.cpuUsage(), counts: counts.reduce((a, b) => a + b, 0) };
      if (cycle === CYCLES) {
        const wallS = Number(process.hrtime.bigint() - start.t) / 1e9;
        const cpu = process.cpuUsage(start.cpu);
        const cpuS = (cpu.user + cpu.system) / 1e6;
        const events = counts.reduce((a, b) => a + b, 0) - start.counts;
        resolveResult({ events, wallS, cpuS, heapMB: process.memoryUsage().heapUsed / 2 ** 20 });
      }
    };
    ami.on('event', onCycle);
    void ami.action('BenchStart');
  });
  for (let i = 0; i < CHANNELS; i++) {
    if (counts[i] !== perCall * CYCLES) throw new Error(`channel ${i}: ${counts[i]} events, expected ${perCall * CYCLES}`);
  }
  await ami.close();
  return result;
}

if (process.argv.includes('--serve')) {
  await serve();
} else {
  const runs = [];
  for (let r = 0; r < REPS; r++) {
    const child = fork(fileURLToPath(import.meta.url), ['--serve', ...process.argv.slice(2)]);
    const { port, perCall, cycleBytes } = await new Promise((r2) => child.once('message', r2));
    const result = await measure(port, perCall);
    child.kill();
    runs.push(result);
    if (r === 0) {
      console.log(`${CHANNELS} channels, ${perCall} events per call (${Math.round(cycleBytes / (CHANNELS * perCall))} bytes per event), ${CYCLES - 1} measured cycles of ${CHANNELS * perCall} events${GLOBAL ? ', plus a global event listener' : ''}`);
    }
    console.log(
      `rep ${r + 1}: ${result.events} events in ${result.wallS.toFixed(3)} s = ${Math.round(result.events / result.wallS).toLocaleString('en')} events/s; ` +
        `CPU ${((result.cpuS / result.events) * 1e6).toFixed(2)} µs/event = ${Math.round(result.events / result.cpuS).toLocaleString('en')} events per CPU-second; heap ${result.heapMB.toFixed(1)} MB`,
    );
  }
  const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(
    `median: ${Math.round(median(runs.map((r) => r.events / r.wallS))).toLocaleString('en')} events/s (wall), ` +
      `${Math.round(median(runs.map((r) => r.events / r.cpuS))).toLocaleString('en')} events per CPU-second of the client`,
  );
}
