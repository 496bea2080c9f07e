/**
 * A simulated Asterisk channel: answers every AGI command the way Asterisk 22 does, from a small
 * model of the call (answered or not, variables, astdb, the digits the caller will press, when the
 * caller hangs up). Pure: give it a command line, it gives back the lines Asterisk would send.
 *
 * @module
 */

import { AGI_COMMANDS, type AnyCommandSpec } from '../agi/commands.js';
import type { AgiHeader } from '../protocol/header.js';
import { parseAgiArgs } from './parse-args.js';

/** How the simulated caller and channel behave. */
export interface SimulatorOptions {
  /**
   * Digits the caller presses, in order (`'12#'`, `['1', '2', '#']` or `'1,2,#'`). Each digit goes to
   * the next command that listens for it: `getData`, `waitForDigit`, `getOption`, and `streamFile`,
   * `say*`, `recordFile`, `controlStreamFile` when it is one of their escape digits.
   */
  dtmf?: string | readonly string[];
  /** The caller hangs up at the Nth command (1-based): Asterisk's `HANGUP` line, then dead-channel replies. */
  hangupAfter?: number;
  /** Channel variables (and function values such as `CALLERID(num)`) the app can read. */
  variables?: Record<string, string>;
  /** astdb content, keyed `family/key`. */
  database?: Record<string, string>;
  /** Sound files that do not exist (playing them fails with `result=-1`). */
  missingFiles?: readonly string[];
  /** Send the `HANGUP` line on hangup (Asterisk's `AGISIGHUP`, default true). */
  sighup?: boolean;
  /** Whether the channel is already answered when AGI starts (default false). */
  answered?: boolean;
}

/** A digit's ASCII code as Asterisk reports it. */
const ascii = (digit: string): number => digit.charCodeAt(0);

/** Length reported for any sound file that plays to the end, in samples (2 s at 8 kHz). */
const FILE_SAMPLES = 16000;

const DEAD = '511 Command Not Permitted on a dead channel or intercept routine';
const INVALID = '510 Invalid or unknown command';
const USAGE = '520 Invalid command syntax.  Proper usage not available.';

/** Commands whose media wait a hangup interrupts (they answer -1 first, then Asterisk sends HANGUP). */
const MEDIA = new Set(['STREAM FILE', 'CONTROL STREAM FILE', 'GET OPTION', 'GET DATA', 'WAIT FOR DIGIT', 'RECORD FILE', 'SAY ALPHA', 'SAY DATE', 'SAY DATETIME', 'SAY DIGITS', 'SAY NUMBER', 'SAY PHONETIC', 'SAY TIME', 'EXEC', 'RECEIVE CHAR', 'RECEIVE TEXT', 'SPEECH RECOGNIZE']);

const SPECS: Array<[string[], AnyCommandSpec]> = (Object.values(AGI_COMMANDS) as AnyCommandSpec[])
  .map((spec): [string[], AnyCommandSpec] => [spec.words.split(' '), spec])
  .sort((a, b) => b[0].length - a[0].length);

/** Finds the table entry a command line starts with (case-insensitive, whole words, longest first). */
export function matchCommand(words: readonly string[]): { spec: AnyCommandSpec; args: string[] } | undefined {
  for (const [specWords, spec] of SPECS) {
    if (specWords.every((w, i) => words[i]?.toUpperCase() === w)) return { spec, args: words.slice(specWords.length) };
  }
  return undefined;
}

/** Splits a DTMF script given as `'12#'`, `'1,2,#'` or an array. */
export function parseDtmfScript(dtmf: string | readonly string[] | undefined): string[] {
  if (dtmf === undefined) return [];
  const text = typeof dtmf === 'string' ? dtmf : dtmf.join('');
  return [...text.replace(/[\s,]/g, '').toUpperCase()];
}

/** The simulated channel. Feed it command lines with {@link respond}. */
export class SimulatedChannel {
  /** Digits not yet pressed. */
  readonly dtmf: string[];
  readonly variables: Map<string, string>;
  readonly database: Map<string, string>;
  answered: boolean;
  /** `true` once the caller has hung up. */
  dead = false;
  /** Commands answered so far. */
  count = 0;
  /** Where the dialplan will continue after AGI. */
  readonly location: { context: string; extension: string; priority: string };

  constructor(
    private readonly options: SimulatorOptions = {},
    header?: AgiHeader,
  ) {
    this.dtmf = parseDtmfScript(options.dtmf);
    this.answered = options.answered ?? false;
    this.database = new Map(Object.entries(options.database ?? {}));
    const env = header?.env;
    this.variables = new Map(
      Object.entries({
        UNIQUEID: env?.uniqueid ?? '',
        CHANNEL: env?.channel ?? '',
        'CALLERID(num)': env?.callerid ?? '',
        'CALLERID(name)': env?.calleridname ?? '',
        CONTEXT: env?.context ?? '',
        EXTEN: env?.extension ?? '',
        ...options.variables,
      }),
    );
    this.location = { context: env?.context ?? 'default', extension: env?.extension ?? 's', priority: String(env?.priority ?? 1) };
  }

  /** The lines Asterisk sends in answer to one command line (without LF). */
  respond(line: string): string[] {
    this.count += 1;
    const words = parseAgiArgs(line);
    const match = matchCommand(words);
    if (!match) return [INVALID];
    const { spec, args } = match;
    if (this.dead && !spec.dead) return [DEAD];
    if (!this.dead && this.options.hangupAfter !== undefined && this.count >= this.options.hangupAfter) {
      return this.hangUpDuring(spec, args);
    }
    return this.answer(spec.words, args);
  }

  /** The caller hangs up while this command runs. */
  private hangUpDuring(spec: AnyCommandSpec, args: string[]): string[] {
    this.dead = true;
    const hangupLine = this.options.sighup === false ? [] : ['HANGUP'];
    if (MEDIA.has(spec.words)) {
      const failed = spec.words === 'RECORD FILE' ? '200 result=-1 (hangup) endpos=0' : spec.words === 'SPEECH RECOGNIZE' ? '200 result=1 (hangup) endpos=0' : spec.words.includes('STREAM') || spec.words === 'GET OPTION' ? '200 result=-1 endpos=0' : '200 result=-1';
      return [failed, ...hangupLine];
    }
    // Between commands: the HANGUP line comes first, then the command's own (dead-mode) reply.
    return [...hangupLine, ...(spec.dead ? this.answer(spec.words, args) : [DEAD])];
  }

  private takeDigit(accepted: string): string | undefined {
    const next = this.dtmf[0];
    if (next === undefined || !accepted.toUpperCase().includes(next)) return undefined;
    this.dtmf.shift();
    return next;
  }

  private answer(words: string, a: string[]): string[] {
    const num = (i: number): number | undefined => {
      const v = a[i];
      return v !== undefined && /^-?\d+$/.test(v) ? Number(v) : undefined;
    };
    switch (words) {
      case 'ANSWER':
        this.answered = true;
        return ['200 result=0'];
      case 'ASYNCAGI BREAK':
      case 'NOOP':
      case 'SET AUTOHANGUP':
      case 'SET MUSIC':
      case 'SEND IMAGE':
      case 'SEND TEXT':
        return ['200 result=0'];
      case 'SET CONTEXT':
        if (a[0] === undefined) return [USAGE];
        this.location.context = a[0];
        return ['200 result=0'];
      case 'SET EXTENSION':
        if (a[0] === undefined) return [USAGE];
        this.location.extension = a[0];
        return ['200 result=0'];
      case 'SET PRIORITY':
        if (a[0] === undefined) return [USAGE];
        this.location.priority = a[0];
        return ['200 result=0'];
      case 'SET CALLERID':
        return ['200 result=1'];
      case 'VERBOSE':
        return ['200 result=1'];
      case 'CHANNEL STATUS':
        if (a[0] !== undefined && a[0] !== this.variables.get('CHANNEL')) return ['200 result=-1'];
        return [`200 result=${this.answered ? 6 : 4}`];
      case 'HANGUP':
        if (a[0] !== undefined && a[0] !== this.variables.get('CHANNEL')) return ['200 result=-1'];
        this.dead = true;
        return this.options.sighup === false ? ['200 result=1'] : ['200 result=1', 'HANGUP'];
      case 'GET VARIABLE': {
        if (a.length !== 1) return [USAGE];
        const v = this.variables.get(a[0] ?? '');
        return v === undefined ? ['200 result=0'] : [`200 result=1 (${v})`];
      }
      case 'GET FULL VARIABLE':
        if (a[0] === undefined) return [USAGE];
        return [`200 result=1 (${a[0].replace(/\$\{([^}]*)\}/g, (_m, name: string) => this.variables.get(name) ?? '')})`];
      case 'SET VARIABLE':
        if (a.length !== 2) return [USAGE];
        this.variables.set(a[0] ?? '', a[1] ?? '');
        return ['200 result=1'];
      case 'DATABASE GET': {
        if (a.length !== 2) return [USAGE];
        const v = this.database.get(`${a[0]}/${a[1]}`);
        return v === undefined ? ['200 result=0'] : [`200 result=1 (${v})`];
      }
      case 'DATABASE PUT':
        if (a.length !== 3) return [USAGE];
        this.database.set(`${a[0]}/${a[1]}`, a[2] ?? '');
        return ['200 result=1'];
      case 'DATABASE DEL':
        if (a.length !== 2) return [USAGE];
        return [`200 result=${this.database.delete(`${a[0]}/${a[1]}`) ? 1 : 0}`];
      case 'DATABASE DELTREE': {
        if (a.length < 1) return [USAGE];
        const prefix = a[1] ? `${a[0]}/${a[1]}` : `${a[0]}/`;
        let deleted = 0;
        for (const key of [...this.database.keys()]) {
          if (key === prefix || key.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`)) {
            this.database.delete(key);
            deleted++;
          }
        }
        // Asterisk answers 0 when something was deleted (inverted).
        return [`200 result=${deleted > 0 ? 0 : 1}`];
      }
      case 'EXEC': {
        if (a[0] === undefined) return [USAGE];
        const app = a[0].toLowerCase();
        if (app === 'set' && a[1]?.includes('=')) {
          const eq = a[1].indexOf('=');
          this.variables.set(a[1].slice(0, eq), a[1].slice(eq + 1));
        }
        if (app === 'hangup') {
          this.dead = true;
          return this.options.sighup === false ? ['200 result=-1'] : ['200 result=-1', 'HANGUP'];
        }
        return ['200 result=0'];
      }
      case 'GOSUB':
        if (a.length < 3) return [USAGE];
        return ['100 result=0 Trying...', '200 result=0 Gosub complete'];
      case 'STREAM FILE':
      case 'CONTROL STREAM FILE': {
        if (a.length < 2) return [USAGE];
        if (this.options.missingFiles?.includes(a[0] ?? '')) return [`200 result=-1 endpos=${words === 'STREAM FILE' ? (num(2) ?? 0) : -1}`];
        const digit = this.takeDigit(a[1] ?? '');
        if (words === 'CONTROL STREAM FILE') return digit ? [`200 result=${ascii(digit)} endpos=1000`] : ['200 result=0 endpos=-1'];
        return digit ? [`200 result=${ascii(digit)} endpos=${FILE_SAMPLES / 2}`] : [`200 result=0 endpos=${FILE_SAMPLES}`];
      }
      case 'GET OPTION': {
        if (a.length < 2) return [USAGE];
        if (this.options.missingFiles?.includes(a[0] ?? '')) return ['200 result=-1 endpos=0'];
        const digit = this.takeDigit(a[1] ?? '');
        return digit ? [`200 result=${ascii(digit)} endpos=${FILE_SAMPLES}`] : [`200 result=0 endpos=${FILE_SAMPLES}`];
      }
      case 'GET DATA': {
        if (a.length < 1) return [USAGE];
        if (a[0] && this.options.missingFiles?.includes(a[0])) return ['200 result=-1'];
        const max = num(2) ?? 1024;
        if (max <= 0) return ['200 result=-1'];
        let digits = '';
        while (digits.length < max) {
          const d = this.takeDigit('0123456789*#ABCD');
          if (d === undefined) return [`200 result=${digits} (timeout)`];
          if (d === '#') return [`200 result=${digits}`];
          digits += d;
        }
        return [`200 result=${digits}`];
      }
      case 'WAIT FOR DIGIT': {
        if (num(0) === undefined) return [USAGE];
        const d = this.takeDigit('0123456789*#ABCD');
        return [`200 result=${d ? ascii(d) : 0}`];
      }
      case 'SAY DIGITS':
        if (a.length !== 2 || !/^-?\d/.test(a[0] ?? '')) return [USAGE];
        return this.sayResult(a[1]);
      case 'SAY NUMBER':
        if (a.length < 2 || num(0) === undefined) return [USAGE];
        return this.sayResult(a[1]);
      case 'SAY DATE':
      case 'SAY TIME':
      case 'SAY DATETIME':
        if (a.length < 2 || num(0) === undefined) return [USAGE];
        return this.sayResult(a[1]);
      case 'SAY ALPHA':
      case 'SAY PHONETIC':
        if (a.length < 2) return [USAGE];
        return this.sayResult(a[1]);
      case 'RECORD FILE': {
        if (a.length < 4 || num(3) === undefined) return [USAGE];
        const digit = this.takeDigit(a[2] ?? '');
        if (digit) return [`200 result=${ascii(digit)} (dtmf) endpos=8000`];
        const timeout = num(3) ?? -1;
        return [`200 result=0 (timeout) endpos=${timeout > 0 ? timeout * 8 : 80000}`];
      }
      case 'RECEIVE CHAR':
        return ['200 result=-1 (hangup)'];
      case 'RECEIVE TEXT':
        return ['200 result=-1'];
      case 'TDD MODE':
        return ['200 result=0'];
      case 'SPEECH CREATE':
      case 'SPEECH SET':
      case 'SPEECH DESTROY':
      case 'SPEECH LOAD GRAMMAR':
      case 'SPEECH UNLOAD GRAMMAR':
      case 'SPEECH ACTIVATE GRAMMAR':
      case 'SPEECH DEACTIVATE GRAMMAR':
        return ['200 result=1'];
      case 'SPEECH RECOGNIZE': {
        const d = this.takeDigit('0123456789*#ABCD');
        return d ? [`200 result=1 (digit) digit=${d} endpos=0`] : ['200 result=1 (timeout) endpos=0'];
      }
      default:
        return [INVALID];
    }
  }

  private sayResult(escapeDigits: string | undefined): string[] {
    const digit = this.takeDigit(escapeDigits ?? '');
    return [`200 result=${digit ? ascii(digit) : 0}`];
  }
}
