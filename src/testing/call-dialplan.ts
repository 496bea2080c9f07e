/**
 * The dialplan of one live test call, as pure functions: {@link callDialplan} turns
 * {@link OriginateOptions} into the `dialplan add extension` commands of its two extensions (the AGI
 * side in `agikit-app`, the far leg's script in `agikit-far`), and {@link parseCallResult} reads back
 * what the hangup handler stored in the astdb. The contexts they rely on are in
 * asterisk-conf/extensions.conf; the quoting rules in dialplan-text.ts.
 *
 * @module
 */

import { randomBytes } from 'node:crypto';
import {
  MAX_CLI_COMMAND_BYTES,
  addExtensionCommand,
  assertNoLineBreaks,
  chunk,
  cliCommandBytes,
  escapeAppArgument,
  needsSubstitutionGuard,
  type AstDbEntry,
} from './dialplan-text.js';
import type { FarStep } from './far-steps.js';
import type { CallResult, DialplanLocation, OriginateOptions } from './live-types.js';

/** Dialplan contexts and astdb families the harness and asterisk-conf/extensions.conf share. */
export const AGIKIT_DIALPLAN = {
  /** Context holding one extension per call, named after the call id, that runs AGI(). */
  appContext: 'agikit-app',
  /** Context holding one extension per call that runs the far-leg steps. */
  farContext: 'agikit-far',
  /** Context a test's AGI app may send the call to (all-digit extensions and `s`, priorities 1-9 hang up). */
  continueContext: 'agikit-continue',
  /** Context with `GOSUB agikit-sub echo 1 <a>,<b>` for AGI GOSUB tests. */
  subContext: 'agikit-sub',
  /** astdb family prefix of synchronisation signals: `agikit-sync/<call>/<name>`. */
  syncFamily: 'agikit-sync',
  /** astdb family prefix of per-call results: `agikit-result/<call>/<key>`. */
  resultFamily: 'agikit-result',
} as const;

const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const CALL_ID_PATTERN = /^[A-Za-z0-9]{1,40}$/;
const FILE_PATTERN = /^[A-Za-z0-9_./-]{1,200}$/;
const VARIABLE_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*(\([^&()]*\))?$/;
/** A plain channel variable name (no function call). */
export const VARIABLE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** How often the far leg's `waitFor` polls the astdb (agikit-sync in extensions.conf). */
const SYNC_POLL_MS = 50;

/**
 * The AGI command an application sends to raise a signal that the far leg
 * (see {@link far.waitFor}) or the test ({@link LiveCall.waitForSignal})
 * is waiting for.
 *
 * @param callId - the call id; the app sees it as `agi_extension` and in the channel variable `AGIKIT_CALL`
 * @param name - signal name (letters, digits, `_`, `.`, `-`)
 * @returns e.g. `DATABASE PUT agikit-sync/c1a2b3 ready 1`
 */
export function signalCommand(callId: string, name: string): string {
  assertName(name, 'signal name');
  return `DATABASE PUT ${AGIKIT_DIALPLAN.syncFamily}/${callId} ${name} 1`;
}

/**
 * Build a FastAGI URL.
 *
 * @param port - TCP port the AGI server listens on
 * @param route - script/route part, becomes `agi_network_script` (no leading slash needed)
 * @param host - host Asterisk connects to; defaults to 127.0.0.1 (host networking)
 * @returns e.g. `agi://127.0.0.1:4573/ivr/main`
 */
export function fastAgiUrl(port: number, route = '', host = '127.0.0.1'): string {
  return `agi://${host}:${port}/${route.replace(/^\/+/, '')}`;
}

let callCounter = 0;

/** A fresh call id: letters and digits, unique per process and unlikely to repeat across processes. */
export function newCallId(): string {
  callCounter += 1;
  return `c${callCounter.toString(36)}${randomBytes(4).toString('hex')}`;
}

/** Throws unless `name` is a valid signal or read name. */
export function assertName(name: string, what: string): void {
  if (!NAME_PATTERN.test(name)) throw new Error(`invalid ${what} ${JSON.stringify(name)}: use letters, digits, _ . -`);
}

/** What {@link callDialplan} produces. */
export interface CallDialplan {
  /** `dialplan add extension` commands, far leg first, to run before the call is originated. */
  readonly adds: readonly string[];
  /** The `channel originate` command that places the call. */
  readonly originate: string;
  /** The commands that remove the call's extensions and astdb entries afterwards. */
  readonly cleanup: readonly string[];
}

/**
 * The dialplan of one call: the AGI side (Local ;1, runs `<id>@agikit-app` once the far leg
 * answered) and the far leg (Local ;2, answers, runs the steps, then holds the line).
 *
 * @param id - the call id (letters and digits)
 * @param options - what the call should do
 * @returns the commands to add, originate and clean up
 * @throws Error on an invalid id, name, step or argument, before anything is sent
 */
export function callDialplan(id: string, options: OriginateOptions): CallDialplan {
  const D = AGIKIT_DIALPLAN;
  if (!CALL_ID_PATTERN.test(id)) throw new Error(`invalid call id ${JSON.stringify(id)}: letters and digits only`);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const record = options.record ?? [];
  for (const name of record) {
    if (!VARIABLE_PATTERN.test(name)) throw new Error(`cannot record ${JSON.stringify(name)}: use NAME or FUNC(args) without & or nested ()`);
  }

  const app = new ExtensionBuilder();
  app.add('Set', `AGIKIT_CALL=${id}`);
  app.add('Set', `AGIKIT_RECORD=${record.join('&')}`);
  app.add('Set', `CHANNEL(hangup_handler_push)=agikit-hangup,s,1(${id})`);
  if (options.callerId?.number !== undefined) app.add('Set', `CALLERID(num)=${app.setValue(options.callerId.number)}`);
  if (options.callerId?.name !== undefined) app.add('Set', `CALLERID(name)=${app.setValue(options.callerId.name)}`);
  for (const [name, value] of Object.entries(options.variables ?? {})) {
    if (!VARIABLE_NAME_PATTERN.test(name)) throw new Error(`invalid variable name ${JSON.stringify(name)}`);
    app.add('Set', `${name}=${app.setValue(value)}`);
  }
  const target = typeof options.agi === 'string' ? options.agi : fastAgiUrl(options.agi.port, options.agi.route ?? '', options.agi.host);
  const rawArgs = [target, ...(options.args ?? [])];
  rawArgs.forEach((arg, i) => assertNoLineBreaks(arg, i === 0 ? 'AGI target' : 'AGI argument'));
  const application = options.application ?? 'AGI';
  // If the plain AGI() line would not fit in one CLI command, pass every
  // argument through a channel variable.
  const plainLine = addExtensionCommand(D.appContext, id, 99, application, rawArgs.map(escapeAppArgument).join(','));
  const viaVariables = cliCommandBytes(plainLine) > MAX_CLI_COMMAND_BYTES;
  app.add(application, rawArgs.map((arg) => app.argument(arg, viaVariables)).join(','));
  app.add('Hangup');

  const farLeg = new ExtensionBuilder();
  // Option i: return at once; plain Answer() waits up to 500 ms for a
  // first media frame, which never comes over a silent Local channel.
  farLeg.add('Answer', ',i');
  for (const step of options.far ?? []) compileFarStep(step, id, farLeg);
  farLeg.add('Wait', String(Math.ceil(timeoutMs / 1000) + 5));
  farLeg.add('Hangup');

  return {
    adds: [...farLeg.commands(D.farContext, id), ...app.commands(D.appContext, id)],
    originate: `channel originate Local/${id}@${D.farContext}/n extension ${id}@${D.appContext}`,
    cleanup: [
      `dialplan remove extension ${id}@${D.appContext}`,
      `dialplan remove extension ${id}@${D.farContext}`,
      `database deltree ${D.syncFamily}/${id}`,
      `database deltree ${D.resultFamily}/${id}`,
    ],
  };
}

/**
 * Read what the hangup handler (`agikit-hangup` in extensions.conf) stored under
 * `agikit-result/<call>`: `agistatus`, `location`, `hangupcause`, `var-<name>` (base64),
 * `far-read-<name>` and `far-timeout`.
 *
 * @param id - the call id
 * @param entries - the parsed `database show agikit-result/<call>` output
 * @param durationMs - time from originate to the recorded hangup
 * @returns the call's result
 */
export function parseCallResult(id: string, entries: readonly AstDbEntry[], durationMs: number): CallResult {
  const raw = new Map(entries.map((e) => [e.key, e.value]));
  const variables: Record<string, string> = {};
  const farDigits: Record<string, string> = {};
  for (const [key, value] of raw) {
    if (key.startsWith('var-')) variables[key.slice(4)] = Buffer.from(value, 'base64').toString('utf8');
    else if (key.startsWith('far-read-')) farDigits[key.slice(9)] = value;
  }
  const cause = raw.get('hangupcause');
  return {
    id,
    agiStatus: raw.get('agistatus') ?? '',
    location: parseLocation(raw.get('location')),
    hangupCause: cause === undefined || cause === '' ? undefined : Number(cause),
    variables,
    farDigits,
    farTimeout: raw.get('far-timeout'),
    durationMs,
  };
}

function parseLocation(raw: string | undefined): DialplanLocation | undefined {
  if (raw === undefined) return undefined;
  const m = /^(.*),([^,]*),(-?\d+)$/.exec(raw);
  if (m === null || m[1] === undefined || m[2] === undefined || m[3] === undefined) return undefined;
  return { context: m[1], extension: m[2], priority: Number(m[3]) };
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** Collects the priorities of one generated extension. */
class ExtensionBuilder {
  readonly priorities: { application: string; data: string }[] = [];
  private temp = 0;

  add(application: string, data = ''): void {
    this.priorities.push({ application, data });
  }

  /**
   * Text for an application argument that arrives literally as `value`.
   * Values with `$` or that are long go through a channel variable holding
   * base64, since substitution cannot be escaped and CLI commands are short.
   */
  argument(value: string, viaVariable = false): string {
    const escaped = escapeAppArgument(value);
    if (!viaVariable && !needsSubstitutionGuard(value) && escaped.length <= 200) return escaped;
    return `\${BASE64_DECODE(\${${this.stash(base64(escaped))}})}`;
  }

  /** Text for the value part of Set(NAME=...) that yields `value` literally. */
  setValue(value: string): string {
    if (/^[A-Za-z0-9_.:/@+%=-]{0,200}$/.test(value)) return value;
    return `\${BASE64_DECODE(\${${this.stash(base64(value))}})}`;
  }

  private stash(b64: string): string {
    this.temp += 1;
    const name = `AGIKIT_T${this.temp}`;
    const parts = chunk(b64, 300);
    parts.forEach((part, i) => this.add('Set', i === 0 ? `${name}=${part}` : `${name}=\${${name}}${part}`));
    return name;
  }

  commands(context: string, extension: string): string[] {
    return this.priorities.map((p, i) => addExtensionCommand(context, extension, i + 1, p.application, p.data));
  }
}

/** Appends the priorities of one far-leg step. */
function compileFarStep(step: FarStep, id: string, ext: ExtensionBuilder): void {
  const D = AGIKIT_DIALPLAN;
  switch (step.kind) {
    case 'waitFor': {
      assertName(step.signal, 'signal name');
      const polls = Math.max(1, Math.ceil((step.timeoutMs ?? 10_000) / SYNC_POLL_MS));
      ext.add('Gosub', `agikit-sync,wait,1(${id},${step.signal},${polls})`);
      return;
    }
    case 'signal':
      assertName(step.signal, 'signal name');
      ext.add('Set', `DB(${D.syncFamily}/${id}/${step.signal})=1`);
      ext.add('Verbose', `0,AGIKIT-SIGNAL ${id} ${step.signal}`);
      return;
    case 'dtmf': {
      if (!/^[0-9A-Da-d*#wW]+$/.test(step.digits)) throw new Error(`invalid DTMF digits ${JSON.stringify(step.digits)}`);
      const parts = [step.digits];
      if (step.betweenMs !== undefined || step.durationMs !== undefined) parts.push(step.betweenMs === undefined ? '' : String(Math.round(step.betweenMs)));
      if (step.durationMs !== undefined) parts.push(String(Math.round(step.durationMs)));
      ext.add('SendDTMF', parts.join(','));
      return;
    }
    case 'playback':
      if (step.files.length === 0) throw new Error('far.playback() needs at least one file');
      for (const f of step.files) if (!FILE_PATTERN.test(f)) throw new Error(`invalid sound file name ${JSON.stringify(f)}`);
      ext.add('Playback', step.files.join('&'));
      return;
    case 'silence': {
      let left = Math.floor(step.seconds);
      if (left < 1) throw new Error('far.silence() needs at least 1 second');
      const files: string[] = [];
      while (left > 0) {
        const n = Math.min(10, left);
        files.push(`silence/${n}`);
        left -= n;
      }
      ext.add('Playback', files.join('&'));
      return;
    }
    case 'wait':
      if (!(step.seconds >= 0)) throw new Error('far.wait() needs a non-negative number of seconds');
      ext.add('Wait', String(step.seconds));
      return;
    case 'read': {
      assertName(step.name, 'read name');
      const max = step.maxDigits === undefined ? '' : String(Math.floor(step.maxDigits));
      const timeout = String(step.timeoutSeconds ?? 10);
      ext.add('Read', `AGIKIT_FAR_READ,,${max},,1,${timeout}`);
      ext.add('Set', `DB(${D.resultFamily}/${id}/far-read-${step.name})=\${AGIKIT_FAR_READ}`);
      return;
    }
    case 'record': {
      if (!FILE_PATTERN.test(step.path) || !/\.[a-z0-9]+$/.test(step.path)) {
        throw new Error(`invalid recording path ${JSON.stringify(step.path)} (needs a format extension such as .wav)`);
      }
      const silence = String(Math.floor(step.silenceSeconds ?? 0));
      const max = String(Math.floor(step.maxSeconds ?? 10));
      // q: no beep, x: DTMF does not stop it, k: keep the file on hangup.
      ext.add('Record', `${step.path},${silence},${max},qxk`);
      return;
    }
    case 'echo':
      ext.add('Echo');
      return;
    case 'hangup':
      ext.add('Hangup', step.cause === undefined ? '' : String(Math.floor(step.cause)));
      return;
    case 'app':
      if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(step.application)) throw new Error(`invalid application ${JSON.stringify(step.application)}`);
      assertNoLineBreaks(step.data, 'application data');
      ext.add(step.application, step.data);
      return;
  }
}
