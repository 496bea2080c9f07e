/**
 * Detectors: the parameters (defaults, refusals), the mappings onto Asterisk (AMD's arguments,
 * WaitForTone, TONE_DETECT, the statuses they set), the digit filter and when a detector ends; and
 * the component over a fake AMI and a fake AGI session: digits from DTMFEnd events, AMD with and
 * without the beep, TONE_DETECT polling and removal, hangup, stop, the events.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Agi } from '../../src/agi/agi.js';
import type { AmiClient } from '../../src/ami/client.js';
import { AmiMessage } from '../../src/ami/message.js';
import { Call } from '../../src/relay/call.js';
import {
  AMD_DEFAULTS,
  amdArguments,
  amdOutcome,
  checkAmdParams,
  checkDetectParams,
  detectionResult,
  endsWith,
  FAX_TONES,
  toneCount,
  toneDetectFunctions,
  toneOutcome,
  waitForToneArguments,
  type DetectParams,
} from '../../src/relay/detect-options.js';
import { CallBusyError, RelayArgumentError, RelayCapabilityError } from '../../src/relay/errors.js';
import { RelayRuntime } from '../../src/relay/runtime.js';
import { within } from '../support/settle.js';

describe('detect parameters', () => {
  it('fills in the seed\'s defaults', () => {
    assert.deepEqual(checkDetectParams('detect', { detectType: 'machine' }), { type: 'machine', timeout: 30, amd: AMD_DEFAULTS });
    assert.deepEqual(AMD_DEFAULTS, { timeout: 30, waitForBeep: false, initialTimeout: 4.5, endSilenceTimeout: 1, machineVoiceThreshold: 1.25, machineWordsThreshold: 6 });
    assert.deepEqual(checkDetectParams('detect', { detectType: 'digit' }), { type: 'digit', timeout: 30, digits: '0123456789#*' });
    assert.deepEqual(checkDetectParams('detect', { detectType: 'fax' }), { type: 'fax', timeout: 30, tone: 'CED' });
    // undefined does not hide a default; other keys are not taken over
    assert.deepEqual(checkDetectParams('detect', { detectType: 'digit', timeout: undefined, digits: '5575' }), { type: 'digit', timeout: 30, digits: '57' });
  });

  for (const [params, message] of [
    [{ detectType: 'voice' }, /detect: detectType must be machine, digit, fax, not "voice"/],
    [{ detectType: 'digit', timeout: 0 }, /timeout must be a number of seconds above 0 and at most 3600, not 0/],
    [{ detectType: 'fax', timeout: -1 }, /timeout must be .* not -1/],
    [{ detectType: 'fax', timeout: Number.NaN }, /timeout must be .* not null/],
    [{ detectType: 'fax', timeout: '5' }, /timeout must be .* not "5"/],
    [{ detectType: 'machine', timeout: 3601 }, /timeout must be .* not 3601/],
    [{ detectType: 'machine', initialTimeout: 0 }, /initialTimeout must be/],
    [{ detectType: 'machine', machineVoiceThreshold: Number.POSITIVE_INFINITY }, /machineVoiceThreshold must be/],
    [{ detectType: 'machine', machineWordsThreshold: 2.5 }, /machineWordsThreshold must be a whole number of words from 1 to 1000, not 2.5/],
    [{ detectType: 'machine', machineWordsThreshold: 0 }, /machineWordsThreshold must be/],
    [{ detectType: 'machine', waitForBeep: 'yes' }, /waitForBeep must be true or false, not "yes"/],
    [{ detectType: 'digit', digits: '' }, /digits must be a non-empty string of DTMF digits/],
    [{ detectType: 'digit', digits: '12x' }, /digits may hold 0123456789\*#ABCD only, not "x"/],
    [{ detectType: 'fax', tone: 'V21' }, /tone must be CED or CNG, not "V21"/],
  ] as const) {
    it(`refuses ${JSON.stringify(params)}`, () => {
      assert.throws(
        () => checkDetectParams('detect', params as unknown as DetectParams),
        (error: unknown) => error instanceof RelayArgumentError && message.test(error.message),
      );
    });
  }

  it('maps the seed\'s AMD parameters onto AMD()\'s arguments (ms; words above maximumNumberOfWords are a machine)', () => {
    assert.deepEqual(amdArguments(AMD_DEFAULTS), ['4500', '1250', '1000', '30000', '', '', '5']);
    const custom = checkAmdParams('amd', { timeout: 45, initialTimeout: 3, endSilenceTimeout: 0.8, machineVoiceThreshold: 1.2345, machineWordsThreshold: 1 });
    assert.deepEqual(amdArguments(custom.amd), ['3000', '1235', '800', '45000', '', '', '0']);
  });

  it('reads AMDSTATUS and WAITFORTONESTATUS', () => {
    assert.deepEqual(amdOutcome('MACHINE'), { kind: 'verdict', verdict: 'MACHINE' });
    assert.deepEqual(amdOutcome('HUMAN'), { kind: 'verdict', verdict: 'HUMAN' });
    assert.deepEqual(amdOutcome('NOTSURE'), { kind: 'verdict', verdict: 'UNKNOWN' });
    assert.deepEqual(amdOutcome('HANGUP'), { kind: 'hangup' });
    assert.deepEqual(amdOutcome(''), { kind: 'error' });
    assert.deepEqual(amdOutcome(undefined), { kind: 'error' });
    assert.deepEqual(['SUCCESS', 'TIMEOUT', 'HANGUP', 'ERROR', undefined].map(toneOutcome), ['detected', 'timeout', 'hangup', 'error', 'error']);
  });

  it('tones: WaitForTone arguments (timeout in seconds), TONE_DETECT functions (received audio), the hit count', () => {
    assert.deepEqual(waitForToneArguments(FAX_TONES.CED, 30_000), ['2100', '500', '30.000']);
    assert.deepEqual(waitForToneArguments(FAX_TONES.CNG, 1234.4), ['1100', '400', '1.234']);
    assert.deepEqual(toneDetectFunctions(FAX_TONES.CNG), { start: 'TONE_DETECT(1100,400,r)', remove: 'TONE_DETECT(0,,x)', count: 'TONE_DETECT(rx)' });
    assert.deepEqual(['', '0', '3', 'x', undefined, '-1'].map(toneCount), [0, 0, 3, 0, 0, 0]);
  });

  it('when a detector ends, and its result', () => {
    const digits = checkDetectParams('detect', { detectType: 'digit' });
    assert.equal(endsWith(digits, '5', true), true, 'a blocking digit detector ends with the first digit');
    assert.equal(endsWith(digits, '5', false), false, 'an async one runs on');
    assert.equal(detectionResult(digits, ['5', '7']), '57');
    assert.equal(detectionResult(digits, []), null);
    const beep = checkDetectParams('detect', { detectType: 'machine', waitForBeep: true });
    assert.equal(endsWith(beep, 'MACHINE', true), false, 'a MACHINE waits for the beep');
    assert.equal(endsWith(beep, 'HUMAN', false), true);
    assert.equal(endsWith(beep, 'READY', true), true);
    assert.equal(detectionResult(beep, ['MACHINE', 'READY']), 'MACHINE');
    const fax = checkDetectParams('detect', { detectType: 'fax' });
    assert.equal(endsWith(fax, 'CED', false), true);
    assert.equal(detectionResult(fax, ['CED']), 'CED');
  });
});

/** A fake AMI: records Setvar, answers Getvar from `values`, delivers events to the call's subscription. */
class FakeAmi {
  readonly setvars: string[] = [];
  readonly values = new Map<string, string>();
  private readonly listeners = new Map<string, Set<(event: AmiMessage) => void>>();

  /** The call's event subscription (what ChannelAmi makes, one per call). */
  channel(id: string, listener: (event: AmiMessage) => void): { id: string; active: boolean; unsubscribe(): void } {
    const set = this.listeners.get(id) ?? new Set();
    this.listeners.set(id, set);
    set.add(listener);
    return { id, active: true, unsubscribe: () => set.delete(listener) };
  }

  async action(name: string, fields: Record<string, string>): Promise<AmiMessage> {
    assert.equal(fields['Channel'], 'Local/x;1');
    if (name === 'Getvar') return new AmiMessage([['Response', 'Success'], ['Value', this.values.get(fields['Variable'] ?? '') ?? '']]);
    assert.equal(name, 'Setvar');
    this.setvars.push(`${fields['Variable']}=${fields['Value']}`);
    return new AmiMessage([['Response', 'Success']]);
  }

  dtmf(digit: string, direction = 'Received', uniqueid = 'u1'): void {
    const event = new AmiMessage([['Event', 'DTMFEnd'], ['Uniqueid', uniqueid], ['Digit', digit], ['Direction', direction]]);
    for (const listener of this.listeners.get(uniqueid) ?? []) listener(event);
  }
}

/** A fake AGI session: `exec` and `getVariable` answer from `apps` (per application: its variables). */
function fakeAgi(apps: Record<string, Record<string, string>>, execs: string[], holdMs = 0): Agi {
  const variables = new Map<string, string>();
  return {
    env: { channel: 'Local/x;1' },
    closed: false,
    onHangup: () => undefined,
    exec: async (application: string, ...args: unknown[]) => {
      execs.push(`${application}(${args.filter((a) => typeof a === 'string').join(',')})`);
      await new Promise((resolve) => setTimeout(resolve, holdMs));
      for (const [name, value] of Object.entries(apps[application] ?? {})) variables.set(name, value);
      return 0;
    },
    getVariable: async (name: string) => variables.get(name),
  } as unknown as Agi;
}

function fakeCall(options: { ami?: FakeAmi; agi?: Agi }): Call {
  const runtime = new RelayRuntime(options.ami ? { ami: options.ami as unknown as AmiClient } : {});
  const call = new Call(runtime, { id: 'u1', context: 'c', fromNumber: '', toNumber: '', channel: 'Local/x;1' });
  if (options.agi) call.attach(options.agi);
  call.advance('answered');
  return call;
}

function watch(call: Call): string[] {
  const seen: string[] = [];
  call.on('detect.update', (action, detection) => seen.push(`update:${detection}:${action.state}`));
  call.on('detect.finished', (action) => seen.push(`finished:${action.result?.result ?? null}`));
  call.on('detect.error', (action) => seen.push(`error:${action.state}`));
  return seen;
}

describe('detect over a fake AMI and AGI', () => {
  it('digits over AMI: the filter, received digits only, this call only; async collects until stop(); events', async () => {
    const ami = new FakeAmi();
    const call = fakeCall({ ami });
    const seen = watch(call);
    const action = await call.detectDigitAsync({ digits: '57' });
    assert.equal(action.state, 'detecting');
    ami.dtmf('5');
    ami.dtmf('9');
    ami.dtmf('7', 'Sent');
    ami.dtmf('7', 'Received', 'other-call');
    ami.dtmf('7');
    assert.equal(action.completed, false);
    assert.deepEqual(await action.stop(), { successful: true });
    const result = await action.done;
    assert.deepEqual({ ...result, event: result.event?.name }, { successful: true, event: 'detect.stop', type: 'digit', result: '57' });
    assert.deepEqual(seen, ['update:5:detecting', 'update:7:detecting', 'finished:57']);
    assert.equal(call.listenerCount('ending'), 0);
    ami.dtmf('5');
    assert.deepEqual(seen, ['update:5:detecting', 'update:7:detecting', 'finished:57'], 'a stopped detector hears no more digits');
  });

  it('detectDigit (blocking) resolves with the first matching digit, without the lane', async () => {
    const ami = new FakeAmi();
    const call = fakeCall({ ami });
    const release = await call.lane.acquire({ name: 'play', stop: async () => undefined });
    const pending = call.detectDigit({ digits: '#' }, { queue: false });
    ami.dtmf('1');
    ami.dtmf('#');
    const result = await within(pending, 1000, 'detectDigit to resolve');
    release();
    assert.deepEqual({ ...result, event: result.event?.payload['Digit'] }, { successful: true, event: '#', type: 'digit', result: '#' });
  });

  it('a digit detector with nothing pressed: unsuccessful at its timeout; at once when the call ends', async () => {
    const call = fakeCall({ ami: new FakeAmi() });
    const started = Date.now();
    const result = await call.detectDigit({ timeout: 0.2 });
    assert.ok(Date.now() - started >= 190);
    assert.deepEqual({ ...result, event: result.event?.name }, { successful: false, event: 'detect.timeout', type: 'digit', result: null });
    const action = await call.detectDigitAsync();
    call.advance('ending');
    const ended = await within(action.done, 1000, 'the detector to end with the call');
    assert.deepEqual({ ...ended, event: ended.event?.name }, { successful: false, event: 'call.ended', type: 'digit', result: null });
  });

  it('AMD: EXEC AMD with the mapped arguments in the lane, then AMDSTATUS/AMDCAUSE; detectHuman/detectMachine judge the verdict', async () => {
    const execs: string[] = [];
    const agi = fakeAgi({ AMD: { AMDSTATUS: 'HUMAN', AMDCAUSE: 'HUMAN-1000-1000' } }, execs);
    const call = fakeCall({ agi });
    const seen = watch(call);
    const result = await call.detectAnsweringMachine({ initialTimeout: 2 });
    assert.deepEqual(execs, ['AMD(2000,1250,1000,30000,,,5)']);
    assert.deepEqual(result, {
      successful: true,
      type: 'machine',
      result: 'HUMAN',
      event: { name: 'agi.reply', payload: { command: 'EXEC', application: 'AMD', AMDSTATUS: 'HUMAN', AMDCAUSE: 'HUMAN-1000-1000' } },
    });
    assert.deepEqual(seen, ['update:HUMAN:detecting', 'finished:HUMAN']);
    assert.equal((await call.detectHuman()).successful, true);
    assert.deepEqual({ ...(await call.detectMachine()), event: null }, { successful: false, event: null, type: 'machine', result: 'HUMAN' });
  });

  it('AMD: NOTSURE is UNKNOWN; HANGUP is unsuccessful; an empty status is an error (detect.error)', async () => {
    for (const [status, expected, events] of [
      ['NOTSURE', { successful: true, result: 'UNKNOWN' }, ['update:UNKNOWN:detecting', 'finished:UNKNOWN']],
      ['HANGUP', { successful: false, result: null }, ['finished:null']],
      ['', { successful: false, result: null }, ['error:error']],
    ] as const) {
      const call = fakeCall({ agi: fakeAgi({ AMD: { AMDSTATUS: status } }, []) });
      const seen = watch(call);
      const result = await call.amd();
      assert.deepEqual({ successful: result.successful, result: result.result }, expected, status);
      assert.deepEqual(seen, events, status);
    }
  });

  it('waitForBeep: after MACHINE, WaitForTone for a 1 kHz beep within what is left of the timeout: READY, or NOT_READY (unsuccessful)', async () => {
    for (const [status, updates, successful] of [
      ['SUCCESS', ['MACHINE', 'READY'], true],
      ['TIMEOUT', ['MACHINE', 'NOT_READY'], false],
    ] as const) {
      const execs: string[] = [];
      const call = fakeCall({ agi: fakeAgi({ AMD: { AMDSTATUS: 'MACHINE', AMDCAUSE: 'LONGGREETING' }, WaitForTone: { WAITFORTONESTATUS: status } }, execs, 20) });
      const seen: string[] = [];
      call.on('detect.update', (_action, detection) => seen.push(detection));
      const result = await call.amd({ waitForBeep: true, timeout: 10 });
      assert.equal(execs[0], 'AMD(4500,1250,1000,10000,,,5)');
      assert.match(execs[1] ?? '', /^WaitForTone\(1000,150,(9\.9[0-9]{2}|10\.000)\)$/);
      assert.deepEqual(seen, updates);
      assert.deepEqual({ successful: result.successful, result: result.result, status: result.event?.payload['WAITFORTONESTATUS'] }, { successful, result: 'MACHINE', status });
    }
  });

  it('AMD in the lane: queue: false refuses while the lane is held; stop() and signal throw RelayCapabilityError (EXEC cannot be interrupted)', async () => {
    const call = fakeCall({ agi: fakeAgi({ AMD: { AMDSTATUS: 'MACHINE' } }, [], 50) });
    const release = await call.lane.acquire({ name: 'play', stop: async () => undefined });
    await assert.rejects(call.amdAsync({}, { queue: false }), CallBusyError);
    await assert.rejects(call.amd({}, { signal: new AbortController().signal }), (error: unknown) => error instanceof RelayCapabilityError && /detectAnsweringMachine|amd\(\{ signal \}\)/.test(error.message));
    const action = await call.amdAsync();
    await assert.rejects(action.stop(), (error: unknown) => error instanceof RelayCapabilityError && /EXEC'd AMD/.test(error.message));
    release();
    assert.equal((await action.done).result, 'MACHINE');
    assert.deepEqual(await action.stop(), { successful: true }, 'a completed action stops at once');
  });

  it('fax over AMI: TONE_DETECT set on the received audio, its count polled, removed after; one per call at a time', async () => {
    const ami = new FakeAmi();
    const call = fakeCall({ ami });
    const seen = watch(call);
    const action = await call.detectFaxAsync({ tone: 'CNG' });
    const second = await call.detectFaxAsync();
    const refused = await second.done;
    assert.deepEqual({ successful: refused.successful, state: second.state, message: refused.event?.payload['message'] }, {
      successful: false,
      state: 'error',
      message: "detectFaxAsync: the call's tone detector (TONE_DETECT, one per channel) is in use by detect " + action.controlId,
    });
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.equal(action.completed, false);
    ami.values.set('TONE_DETECT(rx)', '1');
    const result = await within(action.done, 1000, 'the poll to see the hit');
    assert.deepEqual({ ...result, event: result.event?.name }, { successful: true, event: 'ami.Getvar', type: 'fax', result: 'CNG' });
    assert.deepEqual(ami.setvars, ['TONE_DETECT(1100,400,r)=', 'TONE_DETECT(0,,x)=']);
    assert.deepEqual(seen, ['error:error', 'update:CNG:detecting', 'finished:CNG']);
    // The call's detector is free again.
    ami.values.delete('TONE_DETECT(rx)');
    const third = await call.detectFax({ timeout: 0.3 });
    assert.deepEqual({ successful: third.successful, result: third.result }, { successful: false, result: null });
  });

  it('fax without AMI: WaitForTone in the lane for what is left of the timeout', async () => {
    const execs: string[] = [];
    const call = fakeCall({ agi: fakeAgi({ WaitForTone: { WAITFORTONESTATUS: 'SUCCESS' } }, execs) });
    const result = await call.detect({ detectType: 'fax', tone: 'CED', timeout: 12 });
    assert.match(execs[0] ?? '', /^WaitForTone\(2100,500,1[12]\.[0-9]{3}\)$/);
    assert.deepEqual({ successful: result.successful, result: result.result }, { successful: true, result: 'CED' });
  });
});
