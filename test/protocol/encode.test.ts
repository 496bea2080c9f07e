import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AgiArgumentError } from '../../src/errors.js';
import {
  encodeCommand,
  encodeRawCommand,
  escapeDigitsArg,
  maxLineBytesFor,
  MAX_LINE_BYTES_2K,
  MAX_LINE_BYTES_8K,
  quoteArg,
} from '../../src/protocol/encode.js';
import { parseAgiArgs } from '../../src/testing/parse-args.js';

/** Deterministic pseudo-random generator so the property test is repeatable. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('encode', () => {
  it('quotes every argument and escapes " and \\', () => {
    assert.equal(quoteArg('plain'), '"plain"');
    assert.equal(quoteArg(''), '""');
    assert.equal(quoteArg('a b "c" d\\e'), '"a b \\"c\\" d\\\\e"');
  });

  it('matches the reference examples of what Asterisk reads', () => {
    // Asterisk strips the final LF before tokenizing.
    const read = (line: string): string[] => parseAgiArgs(line.slice(0, -1));
    assert.deepEqual(read(encodeCommand('STREAM FILE', ['foo', ''], 8191)), ['STREAM', 'FILE', 'foo', '']);
    assert.deepEqual(read(encodeCommand('SET VARIABLE', ['FOO', 'a b "c" d\\e'], 8191)), ['SET', 'VARIABLE', 'FOO', 'a b "c" d\\e']);
    assert.deepEqual(parseAgiArgs('verbose hello\\ world 1'), ['verbose', 'hello world', '1']);
    assert.deepEqual(parseAgiArgs('abc"def ghi"jk'), ['abcdef ghijk']);
    assert.deepEqual(parseAgiArgs('"stream" FILE x ""'), ['stream', 'FILE', 'x', '']);
    assert.deepEqual(parseAgiArgs('x \\n trailing\\'), ['x', 'n', 'trailing']);
  });

  it('round-trips any string without LF/CR/NUL exactly through Asterisk\'s tokenizer', () => {
    const alphabet = ['a', ' ', '\t', '"', '\\', ',', '(', ')', '|', ':', 'é', '日', '😀', '$', '{', '}', '\'', '=', '#'];
    const random = rng(42);
    for (let i = 0; i < 3000; i++) {
      const args = Array.from({ length: 1 + Math.floor(random() * 4) }, () =>
        Array.from({ length: Math.floor(random() * 12) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(''),
      );
      const line = encodeCommand('SET VARIABLE', args, 8191);
      assert.ok(line.endsWith('\n') && line.indexOf('\n') === line.length - 1, 'exactly one LF, at the end');
      assert.deepEqual(parseAgiArgs(line.slice(0, -1)), ['SET', 'VARIABLE', ...args]);
    }
  });

  it('refuses LF, CR and NUL anywhere, so no second command can be injected', () => {
    for (const bad of ['a\nANSWER', 'a\r', '\0', 'x\r\nHANGUP']) {
      assert.throws(() => encodeCommand('SET VARIABLE', ['X', bad], 8191), AgiArgumentError);
    }
  });

  it('drops trailing undefined optionals and refuses a gap before a given one', () => {
    assert.equal(encodeCommand('STREAM FILE', ['x', '', undefined], 8191), 'STREAM FILE "x" ""\n');
    assert.throws(() => encodeCommand('GET DATA', ['x', undefined, 4], 8191), AgiArgumentError);
    assert.equal(encodeCommand('WAIT FOR DIGIT', [-1], 8191), 'WAIT FOR DIGIT "-1"\n');
    assert.throws(() => encodeCommand('WAIT FOR DIGIT', [Number.NaN], 8191), AgiArgumentError);
  });

  it('enforces the line limit in bytes, LF included', () => {
    const words = 'SET VARIABLE';
    const overhead = Buffer.byteLength(`${words} "X" ""\n`);
    const fits = 'v'.repeat(MAX_LINE_BYTES_8K - overhead);
    assert.equal(Buffer.byteLength(encodeCommand(words, ['X', fits], MAX_LINE_BYTES_8K)), 8191);
    assert.throws(() => encodeCommand(words, ['X', `${fits}v`], MAX_LINE_BYTES_8K), /8192 bytes exceeds/);
    // Multi-byte characters count as their UTF-8 length.
    const euro = '€'.repeat(Math.floor((MAX_LINE_BYTES_2K - overhead) / 3) + 1);
    assert.throws(() => encodeCommand(words, ['X', euro], MAX_LINE_BYTES_2K), AgiArgumentError);
  });

  it('chooses the limit from agi_version: 8K from 22.6.0, 2K before or when unknown', () => {
    assert.equal(maxLineBytesFor('22.6.0'), 8191);
    assert.equal(maxLineBytesFor('22.10.1'), 8191);
    assert.equal(maxLineBytesFor('23.0.0'), 8191);
    assert.equal(maxLineBytesFor('22.5.2'), 2047);
    assert.equal(maxLineBytesFor('20.11.0'), 2047);
    assert.equal(maxLineBytesFor('GIT-master-abc'), 2047);
    assert.equal(maxLineBytesFor(''), 2047);
  });

  it('checks raw command lines: one line, not empty, never "failure…"', () => {
    assert.equal(encodeRawCommand('STREAM FILE beep ""', 8191), 'STREAM FILE beep ""\n');
    assert.throws(() => encodeRawCommand('ANSWER\nHANGUP', 8191), AgiArgumentError);
    assert.throws(() => encodeRawCommand('   ', 8191), AgiArgumentError);
    assert.throws(() => encodeRawCommand('FAILURE now', 8191), /failure/);
    assert.throws(() => encodeRawCommand('x'.repeat(3000), 2047), AgiArgumentError);
  });

  it('accepts escape digits as a string or an array, and refuses non-DTMF', () => {
    assert.equal(escapeDigitsArg(undefined), '');
    assert.equal(escapeDigitsArg('#'), '#');
    assert.equal(escapeDigitsArg(['1', '#', '*']), '1#*');
    assert.equal(escapeDigitsArg([1, 2, 3]), '123');
    assert.equal(escapeDigitsArg('abcd'), 'ABCD');
    assert.throws(() => escapeDigitsArg('1x'), AgiArgumentError);
    assert.throws(() => escapeDigitsArg(' '), AgiArgumentError);
  });
});
