/**
 * What a prompt is asked to do, with the seed's names, units and defaults, and the check that turns
 * it into a {@link PromptPlan} (pure; nothing is sent for a prompt that fails it).
 *
 * @module
 */

import { DTMF_CHARS } from '../protocol/encode.js';
import type { DigitRules } from './digit-collector.js';
import { RelayArgumentError } from './errors.js';
import { checkMediaList, MAX_ITEM_SECONDS, type Media } from './media-list.js';
import type { RingtoneName } from './ringtones.js';
import { checkVolume } from './volume.js';

/** What a prompt collects: digits, speech, or whichever comes first. */
export type PromptType = 'digits' | 'speech' | 'both';

/** The parameters every prompt takes (the seed's `prompt` parameters besides `media_list`). */
export interface PromptParams {
  /** `digits`, `speech` or `both`. Required. */
  readonly promptType: PromptType;
  /** Seconds to wait for the first key or for speech to start, once the media has played. Default 4. */
  readonly initialTimeout?: number;
  /** Volume of the media in dB, -40..+40 (0: unchanged). Default 0. */
  readonly volume?: number;
  /** Digits: how many to collect at most. Required for `digits` and `both`. */
  readonly digitsMax?: number;
  /** Digits: keys that end the collection (e.g. `#`), not part of the result. Default none. */
  readonly digitsTerminators?: string;
  /**
   * Digits: seconds to wait for each key after the first. Default 1 (SignalWire's default); a
   * collection that runs into it ends with the digits it has.
   */
  readonly digitsTimeout?: number;
  /** Speech: seconds of silence that end the speech. Default 1; Asterisk counts whole seconds (rounded up). */
  readonly endSilenceTimeout?: number;
  /** Speech: longest time to collect speech, in seconds. Default 60. */
  readonly speechTimeout?: number;
  /** Speech: the language, passed to the recognizer. Default `en-US`. */
  readonly speechLanguage?: string;
  /** Speech: phrases to expect, passed to the recognizer. */
  readonly speechHints?: readonly string[];
}

/** `prompt()`: the parameters and the media to play. */
export interface PromptOptions extends PromptParams {
  /** What to play while collecting (the `play` media items); the first key stops it. */
  readonly mediaList: readonly Media[];
}

/** `promptAudio()`: the parameters and one audio file, sound name or `http(s)` URL. */
export interface PromptAudioOptions extends PromptParams {
  readonly url: string;
}

/** `promptTTS()`: the parameters and a text to speak. */
export interface PromptTTSOptions extends PromptParams {
  readonly text: string;
  /** Default: the call's language. */
  readonly language?: string;
  /** `male` or `female` (default: the TTS provider's voice). */
  readonly gender?: 'male' | 'female';
}

/** `promptRingtone()`: the parameters and a ringtone. */
export interface PromptRingtoneOptions extends PromptParams {
  /** One of the seed's 39 ringtone names (`us`, `uk`, ...). */
  readonly name: RingtoneName;
  /** Seconds to play it. Default: one ring cadence. */
  readonly duration?: number;
}

/** Speech rules of a prompt. */
export interface SpeechRules {
  /** `RECORD FILE`'s `s=`: whole seconds of silence that end the speech. */
  readonly endSilenceSeconds: number;
  /** Longest time to collect speech (ms). */
  readonly speechTimeoutMs: number;
  readonly language: string;
  readonly hints: readonly string[];
}

/** A checked prompt: everything the prompt runs by. */
export interface PromptPlan {
  readonly type: PromptType;
  readonly media: readonly Media[];
  /** Volume of the media, dB. */
  readonly volume: number;
  /** How long to wait for input once the media has played (ms). */
  readonly initialTimeoutMs: number;
  /** `null` for a speech-only prompt. */
  readonly digits: DigitRules | null;
  /** `null` for a digits-only prompt. */
  readonly speech: SpeechRules | null;
}

/** The seed's defaults, in seconds. */
export const PROMPT_DEFAULTS = {
  initialTimeout: 4,
  digitsTimeout: 1,
  endSilenceTimeout: 1,
  speechTimeout: 60,
  speechLanguage: 'en-US',
} as const;

/** Most digits one prompt collects. */
export const MAX_PROMPT_DIGITS = 128;

const DIGIT_PARAMS = ['digitsMax', 'digitsTerminators', 'digitsTimeout'] as const;
const SPEECH_PARAMS = ['endSilenceTimeout', 'speechTimeout', 'speechLanguage', 'speechHints'] as const;

/**
 * Checks a prompt's parameters and media and fills in the defaults.
 *
 * @param method - the method's name, for messages (`promptTTS`)
 * @throws RelayArgumentError naming the bad parameter and what is wrong with it
 */
export function checkPrompt(params: PromptParams, mediaList: readonly unknown[], method: string): PromptPlan {
  if (typeof params !== 'object' || params === null) throw new RelayArgumentError(`${method}: parameters must be an object`);
  const type = params.promptType;
  if (type !== 'digits' && type !== 'speech' && type !== 'both') {
    throw new RelayArgumentError(`${method}: promptType must be digits, speech or both, not ${JSON.stringify(type)}`);
  }
  const wantsDigits = type !== 'speech';
  const wantsSpeech = type !== 'digits';
  // A digits parameter on a speech prompt (or the reverse) is almost always a wrong promptType.
  for (const name of wantsDigits ? [] : DIGIT_PARAMS) {
    if (params[name] !== undefined) throw new RelayArgumentError(`${method}: ${name} is for digits prompts, and promptType is ${type}`);
  }
  for (const name of wantsSpeech ? [] : SPEECH_PARAMS) {
    if (params[name] !== undefined) throw new RelayArgumentError(`${method}: ${name} is for speech prompts, and promptType is ${type}`);
  }
  const media = checkMediaList(mediaList);
  const initialTimeoutMs = milliseconds(params.initialTimeout ?? PROMPT_DEFAULTS.initialTimeout, `${method}: initialTimeout`);
  const volume = checkVolume(params.volume ?? 0, `${method}: volume`);
  return {
    type,
    media,
    volume,
    initialTimeoutMs,
    digits: wantsDigits ? checkDigits(params, initialTimeoutMs, method) : null,
    speech: wantsSpeech ? checkSpeech(params, method) : null,
  };
}

function checkDigits(params: PromptParams, initialTimeoutMs: number, method: string): DigitRules {
  const max = params.digitsMax;
  if (max === undefined) throw new RelayArgumentError(`${method}: digitsMax is required for a ${params.promptType} prompt`);
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > MAX_PROMPT_DIGITS) {
    throw new RelayArgumentError(`${method}: digitsMax must be a whole number from 1 to ${MAX_PROMPT_DIGITS}, not ${JSON.stringify(max)}`);
  }
  const terminators = params.digitsTerminators ?? '';
  if (typeof terminators !== 'string' || [...terminators.toUpperCase()].some((key) => !DTMF_CHARS.includes(key))) {
    throw new RelayArgumentError(`${method}: digitsTerminators may only hold the keys ${DTMF_CHARS}, not ${JSON.stringify(terminators)}`);
  }
  return {
    max,
    terminators: terminators.toUpperCase(),
    initialTimeoutMs,
    digitsTimeoutMs: milliseconds(params.digitsTimeout ?? PROMPT_DEFAULTS.digitsTimeout, `${method}: digitsTimeout`),
  };
}

function checkSpeech(params: PromptParams, method: string): SpeechRules {
  const endSilenceMs = milliseconds(params.endSilenceTimeout ?? PROMPT_DEFAULTS.endSilenceTimeout, `${method}: endSilenceTimeout`);
  const language = params.speechLanguage ?? PROMPT_DEFAULTS.speechLanguage;
  if (typeof language !== 'string' || !/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/.test(language)) {
    throw new RelayArgumentError(`${method}: speechLanguage must be a language tag such as en-US, not ${JSON.stringify(language)}`);
  }
  const hints = params.speechHints ?? [];
  if (!Array.isArray(hints) || hints.some((hint) => typeof hint !== 'string')) {
    throw new RelayArgumentError(`${method}: speechHints must be an array of strings`);
  }
  return {
    endSilenceSeconds: Math.ceil(endSilenceMs / 1000),
    speechTimeoutMs: milliseconds(params.speechTimeout ?? PROMPT_DEFAULTS.speechTimeout, `${method}: speechTimeout`),
    language,
    hints: [...hints],
  };
}

/** A duration given in seconds (above 0, at most an hour), in ms. */
function milliseconds(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_ITEM_SECONDS) {
    throw new RelayArgumentError(`${what} must be a number of seconds above 0 and at most ${MAX_ITEM_SECONDS}, not ${JSON.stringify(value)}`);
  }
  return Math.round(value * 1000);
}
