/**
 * The AGI command table: every command of Asterisk 22 (res_agi.c plus app_stack's `gosub`), each
 * described once: its wire words, how the method's arguments become wire arguments, how the reply
 * becomes a typed result, whether Asterisk allows it on a hung-up channel, and its documentation.
 *
 * This one table drives the {@link Agi} methods (installed on its prototype), their TypeScript
 * signatures, their TSDoc (`methods.generated.ts`) and `docs/commands.md`
 * (`node dist/scripts/gen-commands.js`).
 *
 * @module
 */

import { AgiArgumentError, CommandFailure } from '../errors.js';
import { escapeDigitsArg, type WireArg } from '../protocol/encode.js';
import type { AgiReply, DataMode } from '../protocol/reply.js';
import {
  callerIdText,
  digitFromCode,
  epochSeconds,
  intAttr,
  resultNumber,
  type CallerIdInput,
  type ChannelState,
  type ControlStreamOptions,
  type ControlStreamResult,
  type EscapeDigits,
  type GetDataResult,
  type GosubResult,
  type PlaybackResult,
  type RecordFileOptions,
  type RecordFileResult,
  type SayCase,
  type SpeechMatch,
  type SpeechResult,
} from './results.js';

/** One AGI command, described as data. */
export interface CommandSpec<A extends unknown[], R> {
  /** Command words as sent, e.g. `STREAM FILE`. */
  readonly words: string;
  /**
   * Maps the method's arguments to wire arguments (each is quoted on the wire). Trailing `undefined`
   * entries are omitted optionals. Must not use default parameter values: its `length` is the
   * method's positional arity, after which an options object may follow.
   */
  readonly encode: (...args: A) => WireArg[];
  /** Reads a `200` reply into the typed result; throws {@link CommandFailure} for failures. */
  readonly decode: (reply: AgiReply) => R;
  /** Asterisk runs it on a hung-up channel (dead mode); others get `511`. */
  readonly dead: boolean;
  /** How the reply's parenthesised value is read (default `keyword`). */
  readonly data?: DataMode;
  /** The method takes a rest parameter; a trailing plain object is then its options. */
  readonly variadic?: boolean;
  /** A reply for which Asterisk sends a second, `520` block for this same command (`exec` returning 1). */
  readonly usageFollows?: (reply: AgiReply) => boolean;
  /** TSDoc body: what the command does, its result semantics and quirks. */
  readonly doc: string;
}

/** `result=-1` of a channel operation: a failure, or a hangup; the channel is probed to tell which. */
function failed(detail: string, ifAlive?: { value: unknown }): never {
  throw new CommandFailure(detail, true, ifAlive);
}

/** A failure that has nothing to do with the channel's state. */
function refused(detail: string): never {
  throw new CommandFailure(detail, false);
}

function command<A extends unknown[], R>(spec: CommandSpec<A, R>): CommandSpec<A, R> {
  return spec;
}

const esc = escapeDigitsArg;

function int32(name: string, value: number): number {
  if (!Number.isInteger(value) || value < -2147483648 || value > 2147483647) {
    throw new AgiArgumentError(`${name} must be a 32-bit integer, got ${value}`);
  }
  return value;
}

/**
 * A number to say, given as a number or as a string of digits (what `getData` returns). Says what
 * was wrong when refusing: a string that is not a whole number, or a value past Asterisk's 32 bits.
 */
function sayableInteger(name: string, value: number | string): number {
  if (typeof value === 'number') return int32(name, value);
  if (typeof value !== 'string' || !/^-?[0-9]+$/.test(value.trim())) {
    throw new AgiArgumentError(`${name} must be a 32-bit integer or a string of digits, got ${JSON.stringify(value)}`);
  }
  const parsed = Number(value.trim());
  if (parsed < -2147483648 || parsed > 2147483647) {
    throw new AgiArgumentError(`${name} ${JSON.stringify(value)} is outside what Asterisk says (a 32-bit integer: -2147483648 to 2147483647)`);
  }
  return parsed;
}

function integer(name: string, value: number | undefined): number | undefined {
  if (value !== undefined && !Number.isInteger(value)) {
    throw new AgiArgumentError(`${name} must be an integer, got ${value}`);
  }
  return value;
}

/** `0` → no digit, positive → the digit, `-1` → failure or hangup. */
function digitResult(reply: AgiReply, what: string): string | null {
  const n = resultNumber(reply);
  if (n < 0 || Number.isNaN(n)) failed(`${what} failed`);
  return digitFromCode(reply.result);
}

function playback(what: string) {
  return (reply: AgiReply): PlaybackResult => {
    const n = resultNumber(reply);
    if (n < 0 || Number.isNaN(n)) failed(`${what}: file missing or unplayable, or hangup`);
    return { digit: digitFromCode(reply.result), endpos: intAttr(reply, 'endpos') };
  };
}

function okWhen(expected: string, detail: string) {
  return (reply: AgiReply): void => {
    if (reply.result !== expected) refused(detail);
  };
}

function voidResult(): void {}

function value(reply: AgiReply): string | undefined {
  return reply.result === '1' ? (reply.data ?? '') : undefined;
}

const SAY_CASE: Record<SayCase, string> = { all: 'a', upper: 'u', lower: 'l', none: 'n' };

/** Asterisk's English default `SAY DATETIME` format, sent when a timezone is given without a format. */
export const DEFAULT_DATETIME_FORMAT = "ABdY 'digits/at' IMp";

function speechResult(reply: AgiReply): SpeechResult {
  if (reply.result !== '1') refused('no speech object, or the read format could not be set');
  const kind = reply.data;
  const endpos = intAttr(reply, 'endpos');
  if (kind === 'hangup') failed('hangup during speech recognition');
  if (kind === 'digit') return { kind, endpos, digit: reply.attrs.digit ?? null, results: [] };
  if (kind === 'timeout') return { kind, endpos, digit: null, results: [] };
  if (kind === 'speech') {
    const results: SpeechMatch[] = [];
    const count = intAttr(reply, 'results');
    for (let i = 0; i < count; i++) {
      results.push({
        score: intAttr(reply, `score${i}`),
        text: reply.attrs[`text${i}`] ?? '',
        grammar: reply.attrs[`grammar${i}`] ?? '',
      });
    }
    return { kind, endpos, digit: null, results };
  }
  return refused(`unrecognised speech result ${JSON.stringify(kind)}`);
}

function speechOk(what: string) {
  return okWhen('1', `${what} failed (no speech object, or the engine refused)`);
}

/**
 * The table. Keys are the method names on {@link Agi}; each entry's `doc` becomes that method's TSDoc.
 */
export const AGI_COMMANDS = {
  answer: command({
    words: 'ANSWER',
    encode: () => [],
    decode: (reply) => {
      if (reply.result !== '0') failed('answer failed');
    },
    dead: false,
    doc: 'Answers the channel if it is not already up (answering an answered channel is fine).',
  }),

  asyncAgiBreak: command({
    words: 'ASYNCAGI BREAK',
    encode: () => [],
    decode: voidResult,
    dead: true,
    doc: 'Ends an Async AGI session. Over FastAGI and stdio it does nothing (Asterisk just replies `result=0`); use `exit()` to return to the dialplan.',
  }),

  channelStatus: command({
    words: 'CHANNEL STATUS',
    encode: (channel?: string) => [channel],
    decode: (reply): ChannelState => {
      const n = resultNumber(reply);
      if (!(n >= 0 && n <= 9)) refused('channel not found');
      return n as ChannelState;
    },
    dead: false,
    doc: 'State of this channel, or of the channel named exactly: a `ChannelState` (`Up` is 6). Asterisk\'s own documentation swaps 4 and 5; this follows the code (`Ring` = 4, `Ringing` = 5). A named channel that does not exist throws `AgiCommandError`.',
  }),

  controlStreamFile: command({
    words: 'CONTROL STREAM FILE',
    encode: (file: string, escapeDigits?: EscapeDigits, options?: ControlStreamOptions) => {
      const o = options ?? {};
      const args: WireArg[] = [file, esc(escapeDigits), integer('skipMs', o.skipMs), o.forwardKey, o.rewindKey, o.pauseKey, integer('offsetMs', o.offsetMs)];
      // Asterisk reads these positionally: fill the gaps before the last given one with its defaults.
      const defaults: WireArg[] = [file, '', 3000, '#', '*', '', 0];
      let last = args.length;
      while (last > 0 && args[last - 1] === undefined) last--;
      return args.slice(0, last).map((a, i) => (a === undefined ? defaults[i] : a));
    },
    decode: (reply): ControlStreamResult => {
      const n = resultNumber(reply);
      if (n < 0 || Number.isNaN(n)) failed('control stream file: file missing, or hangup');
      const endpos = intAttr(reply, 'endpos', -1);
      return { digit: digitFromCode(reply.result), endposMs: endpos < 0 ? null : endpos };
    },
    dead: false,
    doc: 'Plays a file with fast-forward (`#`), rewind (`*`) and optional pause keys; an escape digit stops it. `endposMs` is in **milliseconds** (Asterisk assumes 8 kHz) and `null` when playback reached the end of the file. The forward and rewind keys are checked before the escape digits, and an empty key keeps the default, so fast-forward and rewind cannot be disabled. Sets `CPLAYBACKSTATUS`, `CPLAYBACKOFFSET` and `CPLAYBACKSTOPKEY`. Not interruptible by further AGI input.',
  }),

  databaseDel: command({
    words: 'DATABASE DEL',
    encode: (family: string, key: string) => [family, key],
    decode: (reply) => reply.result === '1',
    dead: true,
    doc: 'Deletes one astdb entry. Resolves `true` when Asterisk reports success, which Asterisk 22 also does when the key did not exist (so `true` does not prove there was a key; use `databaseGet` first if that matters), and `false` only when astdb could not run the delete.',
  }),

  databaseDelTree: command({
    words: 'DATABASE DELTREE',
    encode: (family: string, keyTree?: string) => [family, keyTree],
    // Asterisk prints 0 when something was deleted: inverted relative to its own documentation.
    decode: (reply) => reply.result === '0',
    dead: true,
    doc: 'Deletes a whole astdb family, or a key tree inside it. Resolves `true` if at least one entry was deleted. (On the wire Asterisk answers `0` for deleted and `1` for nothing deleted, the opposite of its documentation; agikit reads it correctly.)',
  }),

  databaseGet: command({
    words: 'DATABASE GET',
    encode: (family: string, key: string) => [family, key],
    decode: value,
    data: 'freeText',
    dead: true,
    doc: 'Reads an astdb entry: its value (possibly `\'\'`), or `undefined` when the key does not exist. No length limit.',
  }),

  databasePut: command({
    words: 'DATABASE PUT',
    encode: (family: string, key: string, value: string | number) => [family, key, String(value)],
    decode: okWhen('1', 'astdb write failed'),
    dead: true,
    doc: 'Writes an astdb entry (created or replaced). Throws `AgiCommandError` if Asterisk could not store it.',
  }),

  exec: command({
    words: 'EXEC',
    encode: (application: string, ...args: (string | number)[]) =>
      args.length === 0 ? [application] : [application, args.map(String).join(',')],
    decode: (reply): number => {
      const n = resultNumber(reply);
      if (n === -2) refused(`application not found`);
      if (n === -1) failed('application failed', { value: -1 });
      return n;
    },
    dead: true,
    variadic: true,
    usageFollows: (reply) => reply.result === '1',
    doc: 'Runs a dialplan application, e.g. `exec(\'Playback\', \'beep\')` or `exec(\'Dial\', \'PJSIP/100\', \'30\', \'tT\')`. The arguments are joined with `,` into the application\'s own argument syntax and sent as one quoted word (Asterisk passes only that one word on). Resolves the application\'s return value (normally `0`). `-1` with the channel hung up throws `AgiHangupError`; `-1` with the channel up is returned. An unknown application throws `AgiCommandError`. Variables in the arguments are substituted only if the channel variable `AGIEXECFULL` is true.',
  }),

  getData: command({
    words: 'GET DATA',
    encode: (file: string, timeoutMs?: number, maxDigits?: number) => [
      file,
      integer('timeoutMs', timeoutMs) ?? (maxDigits === undefined ? undefined : 0),
      integer('maxDigits', maxDigits),
    ],
    decode: (reply): GetDataResult => {
      if (reply.result === '-1') failed('get data failed: prompt missing, or hangup');
      return { digits: reply.result, timeout: reply.data === 'timeout' };
    },
    dead: false,
    doc: 'Plays a prompt (`\'\'` for none) and collects digits until `#`, `maxDigits` (default 1024) or the timeout. The timeout (ms) applies to the first digit and between digits; omitted or `0` means Asterisk\'s 6 s first / 2 s between, negative waits forever. `#` ends input and is not included; a digit pressed during the prompt interrupts it and counts. `digits` is the literal digit string (not ASCII codes) and may be `\'\'`.',
  }),

  getFullVariable: command({
    words: 'GET FULL VARIABLE',
    encode: (expression: string, channel?: string) => [expression, channel],
    decode: value,
    data: 'freeText',
    dead: true,
    doc: 'Evaluates an expression with full variable and function substitution, e.g. `\'${CALLERID(num)} at ${EPOCH}\'`, on this channel or a named one. No length limit (unlike `getVariable`). Resolves `undefined` when the named channel does not exist. For values that may contain LF or `)`, read `${BASE64_ENCODE(${VAR})}` and decode.',
  }),

  getOption: command({
    words: 'GET OPTION',
    // Always send a timeout: without one Asterisk reads the PBX digit timeout, which crashes on a
    // channel with no PBX (AGI started by AMI Originate Application=AGI).
    encode: (file: string, escapeDigits?: EscapeDigits, timeoutMs?: number) => [file, esc(escapeDigits), integer('timeoutMs', timeoutMs) ?? 5000],
    decode: playback('get option'),
    dead: false,
    doc: 'Plays a file like `streamFile`, then waits up to `timeoutMs` (default 5000, Asterisk\'s usual digit timeout) for one escape digit. `digit` is `null` on timeout, and also when a non-escape digit is pressed during the wait, or the caller hangs up during the wait (Asterisk cannot tell these apart here). `endpos` is in samples.',
  }),

  getVariable: command({
    words: 'GET VARIABLE',
    encode: (name: string) => [name],
    decode: value,
    data: 'freeText',
    dead: true,
    doc: 'Reads a channel variable, global, built-in (`UNIQUEID`, `EPOCH`, `VAR:offset:len`) or, when the name ends in `)`, a function (`CALLERID(num)`). Resolves `undefined` when it is not set. Asterisk truncates the value to 1023 bytes; use `getFullVariable` for longer ones.',
  }),

  gosub: command({
    words: 'GOSUB',
    encode: (context: string, extension: string, priority: number | string, args?: readonly (string | number)[]) => [
      context,
      extension,
      typeof priority === 'number' ? String(priority) : priority,
      args === undefined ? undefined : args.map(String).join(','),
    ],
    decode: (reply): GosubResult => {
      if (reply.result === '-1') refused('gosub label not found');
      if (reply.result !== '0') refused('gosub failed');
      return { abnormalExit: reply.text.includes('abnormal exit') };
    },
    dead: false,
    doc: 'Runs a dialplan subroutine and waits for it to `Return()` (Asterisk sends `100 result=0 Trying...` first; agikit keeps reading until the final line). The arguments become `${ARG1}`…; the return value is in `GOSUB_RETVAL`. The channel\'s context, extension and priority are restored afterwards. An unknown label throws `AgiCommandError`.',
  }),

  hangup: command({
    words: 'HANGUP',
    encode: (channel?: string) => [channel],
    decode: (reply) => {
      if (reply.result !== '1') refused('channel not found');
    },
    dead: false,
    doc: 'Hangs up this channel, or the channel named exactly (a missing one throws `AgiCommandError`). After hanging up this channel Asterisk sends the `HANGUP` line: `agi.hungUp` resolves and `onHangup` callbacks run.',
  }),

  noop: command({
    words: 'NOOP',
    encode: (text?: string) => [text],
    decode: voidResult,
    dead: true,
    doc: 'Does nothing; Asterisk always replies `result=0`. Useful as a keepalive or a marker in Asterisk\'s AGI debug log.',
  }),

  receiveChar: command({
    words: 'RECEIVE CHAR',
    encode: (timeoutMs: number) => [integer('timeoutMs', timeoutMs)],
    decode: (reply): string | null => {
      const n = resultNumber(reply);
      if (n === 0) return null;
      // Asterisk answers -1 (hangup) on a plain timeout too; agikit checks the channel before deciding.
      if (n < 0 || Number.isNaN(n)) failed('no character received', { value: null });
      return String.fromCharCode(n);
    },
    dead: false,
    doc: 'Waits for one character of text (channels with text support only). `0` returns at once and a negative timeout waits forever (Asterisk\'s documentation says otherwise; this follows its code). Resolves `null` on timeout or when the channel cannot receive text.',
  }),

  receiveText: command({
    words: 'RECEIVE TEXT',
    encode: (timeoutMs: number) => [integer('timeoutMs', timeoutMs)],
    decode: (reply): string | null => {
      if (reply.result === '1') return reply.data ?? '';
      return failed('no text received', { value: null });
    },
    data: 'freeText',
    dead: false,
    doc: 'Waits for a text message (channels with text support only). Same timeout rules as `receiveChar`. Resolves `null` on timeout or when the channel cannot receive text.',
  }),

  recordFile: command({
    words: 'RECORD FILE',
    encode: (file: string, format: string, escapeDigits: EscapeDigits, timeoutMs: number, options?: RecordFileOptions) => {
      const o = options ?? {};
      const args: WireArg[] = [file, format, esc(escapeDigits), integer('timeoutMs', timeoutMs)];
      if (o.offset !== undefined) args.push(integer('offset', o.offset));
      // Always the word BEEP: Asterisk takes the first later word containing "s" as the silence option.
      if (o.beep) args.push('BEEP');
      if (o.silenceSeconds !== undefined) args.push(`s=${integer('silenceSeconds', o.silenceSeconds)}`);
      return args;
    },
    decode: (reply): RecordFileResult => {
      const endpos = intAttr(reply, 'endpos');
      const n = resultNumber(reply);
      switch (reply.data) {
        case 'dtmf':
          return { reason: 'dtmf', digit: digitFromCode(reply.result), endpos };
        case 'timeout':
          // The number before (timeout) is leftover from ast_waitfor and means nothing.
          return { reason: 'timeout', digit: null, endpos };
        case 'randomerror':
          if (n > 0) return { reason: 'beep-interrupted', digit: digitFromCode(reply.result), endpos };
          return refused('the beep could not be played');
        case 'writefile':
          return refused('the recording file could not be created');
        case 'hangup':
          return failed('hangup during recording');
        default:
          return failed(`recording failed (${reply.data ?? 'read format or silence detector'})`);
      }
    },
    dead: false,
    doc: 'Records from the channel into `file` (no extension; relative names go under Asterisk\'s sounds directory) in `format` (`wav`, `gsm`, `ulaw`, `sln`, …) until an escape digit, `timeoutMs` (`-1`: no limit) or, with `silenceSeconds`, that much silence. `reason` is `dtmf`, `timeout` (time or silence limit: Asterisk reports both alike) or `beep-interrupted`. `endpos` is in samples. Not interruptible by further AGI input.',
  }),

  sayAlpha: command({
    words: 'SAY ALPHA',
    encode: (text: string, escapeDigits?: EscapeDigits, caseMode?: SayCase) => [text, esc(escapeDigits), caseMode === undefined ? undefined : SAY_CASE[caseMode]],
    decode: (reply) => digitResult(reply, 'say alpha'),
    dead: false,
    doc: 'Spells a string character by character. `caseMode` says letter case for `all` letters, `upper` or `lower` only, or `none` (default). Resolves the escape digit pressed, or `null`.',
  }),

  sayDate: command({
    words: 'SAY DATE',
    encode: (date: Date | number, escapeDigits?: EscapeDigits) => [int32('date', epochSeconds(date)), esc(escapeDigits)],
    decode: (reply) => digitResult(reply, 'say date'),
    dead: false,
    doc: 'Says the date of a `Date` or epoch seconds (Asterisk parses a 32-bit value: dates after 2038-01-19 are refused). Resolves the escape digit pressed, or `null`. Not interruptible by further AGI input.',
  }),

  sayDateTime: command({
    words: 'SAY DATETIME',
    encode: (date: Date | number, escapeDigits?: EscapeDigits, format?: string, timezone?: string) => [
      epochSeconds(date),
      esc(escapeDigits),
      format ?? (timezone === undefined ? undefined : DEFAULT_DATETIME_FORMAT),
      timezone,
    ],
    decode: (reply) => digitResult(reply, 'say datetime'),
    dead: false,
    doc: 'Says a date and time in a voicemail.conf-style `format` (default `ABdY \'digits/at\' IMp`, or `A dBY HMS` for German) in an optional zoneinfo `timezone`. A timezone given without a format uses the English default. Resolves the escape digit pressed, or `null`. Not interruptible by further AGI input.',
  }),

  sayDigits: command({
    words: 'SAY DIGITS',
    encode: (digits: string | number, escapeDigits?: EscapeDigits) => [String(digits), esc(escapeDigits)],
    decode: (reply) => digitResult(reply, 'say digits'),
    dead: false,
    doc: 'Says a digit string one digit at a time. Asterisk requires it to start with a digit (`12*` is fine, `*12` gives `AgiUsageError`). Resolves the escape digit pressed, or `null`.',
  }),

  sayNumber: command({
    words: 'SAY NUMBER',
    encode: (number: number | string, escapeDigits?: EscapeDigits, gender?: string) => [sayableInteger('number', number), esc(escapeDigits), gender],
    decode: (reply) => digitResult(reply, 'say number'),
    dead: false,
    doc: 'Says a whole number (32-bit) as words, e.g. "one hundred twenty three". Takes a number or a string of digits such as `getData` returns (`\'0042\'` is said as forty-two). `gender` is language-specific (`f`, `m`, `c`, `n`). Resolves the escape digit pressed, or `null`.',
  }),

  sayPhonetic: command({
    words: 'SAY PHONETIC',
    encode: (text: string, escapeDigits?: EscapeDigits) => [text, esc(escapeDigits)],
    decode: (reply) => digitResult(reply, 'say phonetic'),
    dead: false,
    doc: 'Spells a string with the NATO phonetic alphabet ("alfa bravo"). Resolves the escape digit pressed, or `null`.',
  }),

  sayTime: command({
    words: 'SAY TIME',
    encode: (time: Date | number, escapeDigits?: EscapeDigits) => [int32('time', epochSeconds(time)), esc(escapeDigits)],
    decode: (reply) => digitResult(reply, 'say time'),
    dead: false,
    doc: 'Says the time of day of a `Date` or epoch seconds (32-bit, as `sayDate`). Resolves the escape digit pressed, or `null`. Not interruptible by further AGI input.',
  }),

  sendImage: command({
    words: 'SEND IMAGE',
    encode: (name: string) => [name],
    decode: (reply) => {
      if (reply.result !== '0') failed('send image failed');
    },
    dead: false,
    doc: 'Sends an image (name without extension) on channels that support images. Asterisk reports success whenever the channel is up, whether or not the image was sent.',
  }),

  sendText: command({
    words: 'SEND TEXT',
    encode: (text: string) => [text],
    decode: (reply) => {
      if (reply.result !== '0') failed('send text failed: the channel cannot send text');
    },
    dead: false,
    doc: 'Sends a text message. Throws `AgiCommandError` when the channel technology cannot send text (Asterisk answers -1 there, not 0 as its documentation says). Empty text succeeds and sends nothing.',
  }),

  setAutoHangup: command({
    words: 'SET AUTOHANGUP',
    encode: (seconds: number) => [seconds],
    decode: voidResult,
    dead: false,
    doc: 'Hangs the channel up automatically after `seconds` (fractions allowed); `0` cancels.',
  }),

  setCallerId: command({
    words: 'SET CALLERID',
    encode: (callerId: CallerIdInput) => [callerIdText(callerId)],
    decode: voidResult,
    dead: false,
    doc: 'Sets caller ID name **and** number from `"Name" <number>`, `Name <number>`, a bare number or name, or `{ name, number }`. Both are replaced: giving only a number clears the name. Asterisk strips formatting characters from the number.',
  }),

  setContext: command({
    words: 'SET CONTEXT',
    encode: (context: string) => [context],
    decode: voidResult,
    dead: false,
    doc: 'Sets the context where the dialplan continues after AGI. Not validated. Send context, then extension, then priority **last**: without `setPriority` the dialplan resumes at the old priority + 1.',
  }),

  setExtension: command({
    words: 'SET EXTENSION',
    encode: (extension: string) => [extension],
    decode: voidResult,
    dead: false,
    doc: 'Sets the extension where the dialplan continues after AGI. Not validated; follow with `setPriority`.',
  }),

  setMusic: command({
    words: 'SET MUSIC',
    encode: (on: boolean, musicClass?: string) => [on ? 'on' : 'off', musicClass],
    decode: voidResult,
    dead: false,
    doc: 'Starts (`true`) or stops (`false`) music on hold on the channel, optionally of a given class. Any playback command stops it and does not restart it.',
  }),

  setPriority: command({
    words: 'SET PRIORITY',
    encode: (priority: number | string) => [typeof priority === 'number' ? String(int32('priority', priority)) : priority],
    decode: voidResult,
    dead: false,
    doc: 'Sets the priority (number or label) where the dialplan continues after AGI. A label is looked up in the current context and extension, so set those first; an unknown label throws `AgiUsageError`.',
  }),

  setVariable: command({
    words: 'SET VARIABLE',
    encode: (name: string, value: string | number) => [name, String(value)],
    decode: voidResult,
    dead: true,
    doc: 'Sets a channel variable, or writes a function such as `CALLERID(name)`; `_`/`__` prefixes make it inherit. Values with spaces, quotes, backslashes and UTF-8 are sent exactly (LF, CR and NUL cannot be sent and are refused).',
  }),

  speechActivateGrammar: command({
    words: 'SPEECH ACTIVATE GRAMMAR',
    encode: (name: string) => [name],
    decode: speechOk('speech activate grammar'),
    dead: false,
    doc: 'Activates a loaded grammar on the session\'s speech object.',
  }),

  speechCreate: command({
    words: 'SPEECH CREATE',
    encode: (engine?: string) => [engine],
    decode: speechOk('speech create'),
    dead: false,
    doc: 'Creates the session\'s speech object on an engine (default engine when omitted). Throws `AgiCommandError` if one already exists or the engine is unknown. The object is destroyed when the session ends.',
  }),

  speechDeactivateGrammar: command({
    words: 'SPEECH DEACTIVATE GRAMMAR',
    encode: (name: string) => [name],
    decode: speechOk('speech deactivate grammar'),
    dead: false,
    doc: 'Deactivates a grammar.',
  }),

  speechDestroy: command({
    words: 'SPEECH DESTROY',
    encode: () => [],
    decode: speechOk('speech destroy'),
    dead: true,
    doc: 'Destroys the session\'s speech object (throws `AgiCommandError` if there is none).',
  }),

  speechLoadGrammar: command({
    words: 'SPEECH LOAD GRAMMAR',
    encode: (name: string, path: string) => [name, path],
    decode: speechOk('speech load grammar'),
    dead: false,
    doc: 'Loads a grammar from `path` under `name`.',
  }),

  speechRecognize: command({
    words: 'SPEECH RECOGNIZE',
    encode: (prompt: string, timeoutSeconds: number, offset?: number) => [prompt, timeoutSeconds, integer('offset', offset)],
    decode: speechResult,
    dead: false,
    doc: 'Plays `prompt` and recognises speech. The timeout is in **seconds**, starts after the prompt, and `0` means none. Resolves `kind` `speech` (with `results`), `digit` or `timeout`; a hangup throws `AgiHangupError` (Asterisk reports it as `result=1 (hangup)`). Not interruptible by further AGI input.',
  }),

  speechSet: command({
    words: 'SPEECH SET',
    encode: (name: string, value: string) => [name, value],
    decode: speechOk('speech set'),
    dead: false,
    doc: 'Sets an engine-specific setting on the speech object.',
  }),

  speechUnloadGrammar: command({
    words: 'SPEECH UNLOAD GRAMMAR',
    encode: (name: string) => [name],
    decode: speechOk('speech unload grammar'),
    dead: true,
    doc: 'Unloads a grammar.',
  }),

  streamFile: command({
    words: 'STREAM FILE',
    encode: (file: string, escapeDigits?: EscapeDigits, offset?: number) => [file, esc(escapeDigits), integer('offset', offset)],
    decode: playback('stream file'),
    dead: false,
    doc: 'Plays a sound file (no extension; relative names are looked up in the sounds directory with language fallback), stoppable by an escape digit. Resolves the digit (`\'#\'`, never its ASCII code) or `null`, and `endpos`, where playback stopped in **samples** (the file length when it played to the end). A missing or unplayable file throws `AgiCommandError`; a hangup throws `AgiHangupError`. Stops music on hold. Sets `PLAYBACKSTATUS`.',
  }),

  tddMode: command({
    words: 'TDD MODE',
    encode: (mode: 'on' | 'off' | 'tdd' | 'mate') => [mode],
    decode: (reply) => reply.result === '1',
    dead: false,
    doc: 'Switches TDD (telecommunications device for the deaf) mode. Resolves `false` when the channel is not TDD-capable.',
  }),

  verbose: command({
    words: 'VERBOSE',
    encode: (message: string, level?: number) => [message, integer('level', level)],
    decode: voidResult,
    dead: true,
    doc: 'Logs a message to Asterisk\'s verbose log at `level` (1–4, default 1).',
  }),

  waitForDigit: command({
    words: 'WAIT FOR DIGIT',
    encode: (timeoutMs: number) => [integer('timeoutMs', timeoutMs)],
    decode: (reply): string | null => {
      const n = resultNumber(reply);
      if (n < 0 || Number.isNaN(n)) failed('wait for digit failed');
      // 1 means "interrupted by new AGI input", which cannot happen since agikit never pipelines.
      return n <= 1 ? null : digitFromCode(reply.result);
    },
    dead: false,
    doc: 'Waits up to `timeoutMs` (`-1`: forever) for one DTMF digit. Resolves the digit (`\'5\'`), or `null` on timeout.',
  }),
} as const;

/** Method names of the table. */
export type AgiCommandName = keyof typeof AGI_COMMANDS;

/** Any command spec (for code that handles the table generically). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCommandSpec = CommandSpec<any[], unknown>;
