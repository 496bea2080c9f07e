import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { pino } from 'pino';
import { assertTranscript, type Transcript } from '../agi/transcript.js';
import { FakeAsterisk, replayTranscript } from '../testing/simulate.js';
import type { TranscriptLine } from '../testing/fake-asterisk.js';
import { mediaFromFlags } from './consumer-flags.js';
import { loadApp, routable } from './load-app.js';
import { printLine } from './options.js';
import { describeError } from './shell.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function keyValues(entries: string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new Error(`${what} must be NAME=VALUE, got ${JSON.stringify(entry)}`);
    out[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return out;
}

function printTranscriptLine(line: TranscriptLine): void {
  printLine(`${line.dir === '>' ? '>>' : '<<'} ${line.line}`);
}

interface SimulateOptions {
  route: string;
  arg: string[];
  env: string[];
  var: string[];
  db: string[];
  missingFile: string[];
  dtmf?: string;
  hangupAfter?: string;
  transcript?: string;
  tcp?: boolean;
  logLevel: string;
  mediaDir?: string;
}

/** `agikit simulate` and `agikit replay`: run an app with no Asterisk at all. */
export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('run an app against a simulated Asterisk (no PBX needed) and print the call')
    .argument('<module>', 'JavaScript module whose default export is a handler or a Router')
    .option('--route <path>', 'FastAGI script path and query, as in agi://host/<path>', '/')
    .option('--arg <value>', 'agi_arg_N (repeat for more)', collect, [])
    .option('--env <key=value>', 'header field without agi_, e.g. callerid=5551234 (repeat)', collect, [])
    .option('--var <name=value>', 'channel variable the app can read (repeat)', collect, [])
    .option('--db <family/key=value>', 'astdb entry (repeat)', collect, [])
    .option('--missing-file <name>', 'a sound file that does not exist (repeat)', collect, [])
    .option('--dtmf <digits>', 'digits the caller presses, in order, e.g. "1,2,#"')
    .option('--hangup-after <n>', 'the caller hangs up at the Nth command')
    .option('--transcript <file>', 'write the call as a JSON transcript (for agikit replay)')
    .option('--tcp', 'run through a real FastAGI server on 127.0.0.1 instead of in-process streams')
    .option('--log-level <level>', 'app log level (stderr)', 'warn')
    .option('--media-dir <dir>', 'Relay consumers: media directory (synthesized speech, recordings)')
    .addHelpText(
      'after',
      `
Examples:
  agikit simulate dist/examples/hello.js --route /hello --dtmf "1,2,3,4,#"
  agikit simulate app.js --route '/ivr/acme?lang=fr' --arg 1001 --env callerid=5551234 --hangup-after 3
  agikit simulate app.js --route /ivr --transcript call.json && agikit replay call.json

Exits 0 when the app ended with SUCCESS or by the caller hanging up, 1 when it failed (FAILURE) or no
route matched (NOTFOUND).`,
    )
    .action(async (modulePath: string, options: SimulateOptions) => {
      const log = pino({ level: options.logLevel }, pino.destination(2));
      const media = mediaFromFlags(options.mediaDir, undefined);
      const app = routable(await loadApp(modulePath), { log, ...(media ? { media } : {}) });
      const hangupAfter = options.hangupAfter === undefined ? undefined : Number(options.hangupAfter);
      if (hangupAfter !== undefined && !(Number.isInteger(hangupAfter) && hangupAfter > 0)) throw new Error('--hangup-after must be a positive integer');
      const script = options.route.replace(/^\/+/, '');
      const fake = new FakeAsterisk({
        ...(options.dtmf !== undefined ? { dtmf: options.dtmf } : {}),
        ...(hangupAfter !== undefined ? { hangupAfter } : {}),
        variables: keyValues(options.var, '--var'),
        database: keyValues(options.db, '--db'),
        missingFiles: options.missingFile,
      });
      const result = await fake.run(app, {
        ...(script ? { script } : {}),
        args: options.arg,
        env: keyValues(options.env, '--env'),
        transport: options.tcp ? 'tcp' : 'memory',
        log,
        onLine: printTranscriptLine,
      });
      const failed = result.status === 'FAILURE' || result.status === 'NOTFOUND';
      printLine(`status: ${result.status}${result.error !== undefined ? ` (${describeError(result.error)})` : ''}`);
      if (options.transcript) {
        const transcript: Transcript = { ...result.transcript, meta: { ...result.transcript.meta, app: modulePath, route: options.route } };
        writeFileSync(options.transcript, `${JSON.stringify(transcript, null, 2)}\n`);
        printLine(`transcript: ${options.transcript} (${transcript.exchanges.length} commands)`);
      }
      if (failed) {
        process.stderr.write(`agikit: the app ${result.status === 'NOTFOUND' ? `has no route for ${options.route}` : `failed: ${describeError(result.error)}`}\n`);
        process.exitCode = 1;
      }
    });

  program
    .command('replay')
    .description('replay a recorded call against an app and report the first command where it now differs')
    .argument('<transcript>', 'JSON transcript (agikit simulate --transcript, or agikit serve --record-dir)')
    .argument('[module]', 'the app; default: the module recorded in the transcript')
    .option('--quiet', 'do not print the call as it replays')
    .addHelpText(
      'after',
      `
Examples:
  agikit replay call.json
  agikit replay recordings/1723456789.12.json dist/app.js

Exits 0 when the app sent exactly the recorded commands, 1 at the first difference.`,
    )
    .action(async (transcriptPath: string, modulePath: string | undefined, options: { quiet?: boolean }) => {
      let transcript: unknown;
      try {
        transcript = JSON.parse(readFileSync(transcriptPath, 'utf8')) as unknown;
      } catch (error) {
        throw new Error(`cannot read ${transcriptPath}: ${error instanceof Error ? error.message : String(error)}`);
      }
      assertTranscript(transcript);
      const appPath = modulePath ?? (typeof transcript.meta?.app === 'string' ? transcript.meta.app : undefined);
      if (!appPath) throw new Error('the transcript does not name its app; give the module as the second argument');
      const app = routable(await loadApp(appPath));
      const result = await replayTranscript(app, transcript, options.quiet ? {} : { onLine: printTranscriptLine });
      if (result.ok) {
        printLine(`replay OK: the app sent the ${result.matched} recorded commands (status ${result.status})`);
        return;
      }
      printLine(`replay FAILED after ${result.matched} matching commands`);
      process.stderr.write(`agikit: ${result.mismatch?.message ?? 'the app differs from the recording'}\n`);
      process.exitCode = 1;
    });
}
