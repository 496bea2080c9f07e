// The standard call flow written against the Relay `Call` (AGI-only subset: no AMI), served by a
// Relay Consumer mounted in a FastAGI server at `/relay/ivr`. The generator drives it with
// `--flow relay` (or `--flow relay-prompt` with `--prompt`), which expects what Relay sends:
//   CHANNEL STATUS        the Call reads the channel's state before onIncomingCall (Relay's `ringing`)
//   ANSWER                call.answer()
//   GET VARIABLE, DATABASE GET     call.agi (Relay has no such methods)
//   STREAM FILE "welcome" ""       call.playAudio('welcome'): no escape digits (a Relay play is not cut by keys)
//   GET DATA ...          call.agi.getData; with --prompt, call.promptAudio(...): STREAM FILE with every
//                         key as escape digit, then one WAIT FOR DIGIT per further digit
//   SET VARIABLE          call.agi
// `--level` as in agikit.mjs (pino `info` by default, `none`: a logger stub).
import { pathToFileURL, fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { pino } from 'pino';
import { flag, serveControl, stubLogger } from './common.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const entry = process.env.AGIKIT_DIST ? resolve(process.env.AGIKIT_DIST) : resolve(here, '../../../dist/src/index.js');
const { FastAgiServer } = await import(pathToFileURL(entry).href);
const { Consumer } = await import(pathToFileURL(resolve(dirname(entry), 'relay/index.js')).href);

const level = flag('level', 'info');
const usePrompt = process.argv.includes('--prompt');
const logger = level === 'none' ? stubLogger() : pino({ level });

class Ivr extends Consumer {
  setup() {
    this.contexts = ['ivr'];
  }

  async onIncomingCall(call) {
    await call.answer();
    const agi = call.agi;
    const num = await agi.getVariable('CALLERID(num)');
    const cust = await agi.databaseGet('cust', agi.args[0]);
    const played = await call.playAudio('welcome');
    const digits = usePrompt
      ? (await call.promptAudio({ promptType: 'digits', url: 'enter-pin', digitsMax: 4, initialTimeout: 3, digitsTimeout: 3 })).result
      : (await call.agi.getData('enter-pin', 3000, 4)).digits;
    await call.agi.setVariable('RESULT', digits);
    void num;
    void cust;
    void played;
  }
}

const router = new Ivr({ log: logger }).router();
const server = new FastAgiServer({ host: '127.0.0.1', port: 0, logger, statusVariable: false, router });
const { port } = await server.listen();
serveControl({ port, entry }, () => ({ stats: server.stats }));
