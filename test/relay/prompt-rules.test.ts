/**
 * The pure parts of Relay prompts: the digit collection state machine (terminator, digitsMax, the
 * two timeouts), the parameter check with the seed's defaults, and the dB to VOLUME(TX) mapping.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { digitTimeout, pressDigit, startDigits, type DigitRules, type DigitState } from '../../src/relay/digit-collector.js';
import { RelayArgumentError } from '../../src/relay/errors.js';
import { checkPrompt, PROMPT_DEFAULTS, type PromptParams } from '../../src/relay/prompt-options.js';
import { checkVolume, volumeFactor, volumeValue } from '../../src/relay/volume.js';

const RULES: DigitRules = { max: 4, terminators: '#*', initialTimeoutMs: 4000, digitsTimeoutMs: 1500 };

/** Feeds keys (a letter `t` stands for a timeout) and returns every state on the way. */
function run(rules: DigitRules, input: string): DigitState[] {
  const states = [startDigits(rules)];
  for (const key of input) {
    const last = states[states.length - 1] as DigitState;
    states.push(key === 't' ? digitTimeout(last) : pressDigit(rules, last, key));
  }
  return states;
}

const last = (states: DigitState[]): DigitState => states[states.length - 1] as DigitState;

describe('digit collection', () => {
  it('waits initialTimeout for the first key, digitsTimeout for each next one', () => {
    const states = run(RULES, '12');
    assert.deepEqual(
      states.map((s) => (s.done ? 'done' : s.waitMs)),
      [4000, 1500, 1500],
    );
  });

  it('12# gives 12 with terminator #, the terminator not in the digits', () => {
    assert.deepEqual(last(run(RULES, '12#')), { done: true, digits: '12', terminator: '#', end: 'terminator' });
  });

  it('any of the terminators ends it', () => {
    assert.deepEqual(last(run(RULES, '9*')), { done: true, digits: '9', terminator: '*', end: 'terminator' });
  });

  it('digitsMax ends it at once, with no terminator', () => {
    const states = run(RULES, '12345');
    assert.deepEqual(states[4], { done: true, digits: '1234', terminator: null, end: 'max' });
    assert.deepEqual(last(states), states[4], 'keys after the end change nothing');
  });

  it('no key within initialTimeout is no input', () => {
    assert.deepEqual(last(run(RULES, 't')), { done: true, digits: '', terminator: null, end: 'no-input' });
  });

  it('digitsTimeout after some keys ends it with the digits so far', () => {
    assert.deepEqual(last(run(RULES, '12t3')), { done: true, digits: '12', terminator: null, end: 'digits-timeout' });
  });

  it('a terminator pressed first is input: no digits, terminator set', () => {
    assert.deepEqual(last(run(RULES, '#')), { done: true, digits: '', terminator: '#', end: 'terminator' });
  });

  it('without terminators, # is a digit like any other', () => {
    const rules = { ...RULES, terminators: '' };
    assert.deepEqual(last(run(rules, '1#2*')), { done: true, digits: '1#2*', terminator: null, end: 'max' });
  });

  it('digitsMax 1: the first key decides', () => {
    assert.deepEqual(last(run({ ...RULES, max: 1 }, '7')), { done: true, digits: '7', terminator: null, end: 'max' });
  });
});

const digits = (extra: Partial<PromptParams> = {}): PromptParams => ({ promptType: 'digits', digitsMax: 4, ...extra });
const MEDIA = [{ type: 'audio', url: 'hello-world' }];

describe('checkPrompt', () => {
  it('fills in the seed defaults: initialTimeout 4 s, digitsTimeout 1 s, volume 0, no terminators', () => {
    const plan = checkPrompt(digits(), MEDIA, 'prompt');
    assert.equal(plan.type, 'digits');
    assert.equal(plan.volume, 0);
    assert.equal(plan.initialTimeoutMs, 4000);
    assert.deepEqual(plan.digits, { max: 4, terminators: '', initialTimeoutMs: 4000, digitsTimeoutMs: 1000 });
    assert.equal(plan.speech, null);
    assert.deepEqual(plan.media, MEDIA);
  });

  it('speech defaults: 1 s end silence, 60 s, en-US, no hints; both has both', () => {
    const plan = checkPrompt({ promptType: 'both', digitsMax: 2 }, MEDIA, 'prompt');
    assert.deepEqual(plan.speech, { endSilenceSeconds: 1, speechTimeoutMs: 60_000, language: PROMPT_DEFAULTS.speechLanguage, hints: [] });
    assert.ok(plan.digits);
    const speech = checkPrompt({ promptType: 'speech', endSilenceTimeout: 1.2, speechTimeout: 5, speechLanguage: 'de-DE', speechHints: ['ja', 'nein'] }, MEDIA, 'prompt');
    assert.deepEqual(speech.speech, { endSilenceSeconds: 2, speechTimeoutMs: 5000, language: 'de-DE', hints: ['ja', 'nein'] }, 'RECORD FILE counts whole seconds: 1.2 s becomes 2');
    assert.equal(speech.digits, null);
  });

  it('seconds become ms; terminators are upper-cased', () => {
    const plan = checkPrompt(digits({ initialTimeout: 2.5, digitsTimeout: 0.75, digitsTerminators: '#a', volume: -6 }), MEDIA, 'prompt');
    assert.deepEqual(plan.digits, { max: 4, terminators: '#A', initialTimeoutMs: 2500, digitsTimeoutMs: 750 });
    assert.equal(plan.volume, -6);
  });

  const refused: Array<[string, PromptParams, RegExp]> = [
    ['no promptType', { digitsMax: 1 } as unknown as PromptParams, /promptType must be digits, speech or both/],
    ['digits without digitsMax', { promptType: 'digits' }, /digitsMax is required/],
    ['both without digitsMax', { promptType: 'both' }, /digitsMax is required/],
    ['digitsMax 0', digits({ digitsMax: 0 }), /digitsMax must be a whole number/],
    ['digitsMax 2.5', digits({ digitsMax: 2.5 }), /digitsMax must be a whole number/],
    ['a terminator that is no key', digits({ digitsTerminators: '#x' }), /digitsTerminators may only hold/],
    ['initialTimeout 0', digits({ initialTimeout: 0 }), /initialTimeout must be a number of seconds above 0/],
    ['digitsTimeout negative', digits({ digitsTimeout: -1 }), /digitsTimeout must be/],
    ['volume 41', digits({ volume: 41 }), /volume must be a number of dB from -40 to \+40/],
    ['a speech parameter on a digits prompt', digits({ speechTimeout: 5 }), /speechTimeout is for speech prompts, and promptType is digits/],
    ['a digits parameter on a speech prompt', { promptType: 'speech', digitsMax: 3 }, /digitsMax is for digits prompts, and promptType is speech/],
    ['a bad language', { promptType: 'speech', speechLanguage: 'english please' }, /speechLanguage must be a language tag/],
    ['hints that are not strings', { promptType: 'speech', speechHints: [1] as unknown as string[] }, /speechHints must be an array of strings/],
  ];
  for (const [what, params, message] of refused) {
    it(`refuses ${what} with a RelayArgumentError`, () => {
      assert.throws(() => checkPrompt(params, MEDIA, 'promptTTS'), (error: unknown) => error instanceof RelayArgumentError && message.test(error.message) && error.message.startsWith('promptTTS'));
    });
  }

  it('refuses an empty or bad media list', () => {
    assert.throws(() => checkPrompt(digits(), [], 'prompt'), RelayArgumentError);
    assert.throws(() => checkPrompt(digits(), [{ type: 'video' }], 'prompt'), /type must be audio, tts, silence or ringtone/);
  });
});

describe('volume', () => {
  it('dB to the VOLUME(TX) factor: +6 doubles, -6 halves, 0 is "no adjustment"', () => {
    assert.ok(Math.abs(volumeFactor(6) - 1.995) < 0.001);
    assert.ok(Math.abs(volumeFactor(-6) - 0.501) < 0.001);
    assert.equal(volumeFactor(0), 1);
    assert.equal(volumeValue(0), '0');
    assert.equal(volumeValue(20), '10.0000');
    assert.equal(volumeValue(-40), '0.0100');
  });

  it('refuses what is not -40..+40 dB', () => {
    for (const bad of [40.5, -41, Number.NaN, '6', undefined]) assert.throws(() => checkVolume(bad, 'PromptAction.volume'), /PromptAction.volume must be a number of dB/);
    assert.equal(checkVolume(-40), -40);
  });
});
