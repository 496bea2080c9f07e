import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AgiProtocolError } from '../../src/errors.js';
import { LineSplitter } from '../../src/protocol/lines.js';

describe('LineSplitter', () => {
  const text = 'agi_channel: SIP/a\nagi_arg_1: héllo wörld\n\n200 result=1 (x)\nHANGUP\n';
  const expected = ['agi_channel: SIP/a', 'agi_arg_1: héllo wörld', '', '200 result=1 (x)', 'HANGUP'];

  it('gives the same lines for every way of splitting the bytes into chunks', () => {
    const bytes = Buffer.from(text);
    // Every single cut point, and every pair of cut points, including cuts inside UTF-8 sequences.
    for (let a = 0; a <= bytes.length; a++) {
      for (let b = a; b <= bytes.length; b += 7) {
        const s = new LineSplitter();
        const lines = [...s.push(bytes.subarray(0, a)), ...s.push(bytes.subarray(a, b)), ...s.push(bytes.subarray(b))];
        assert.deepEqual(lines, expected, `cuts at ${a},${b}`);
        assert.equal(s.bufferedBytes, 0);
      }
    }
  });

  it('handles one byte at a time', () => {
    const s = new LineSplitter();
    const lines: string[] = [];
    for (const byte of Buffer.from(text)) lines.push(...s.push(Buffer.from([byte])));
    assert.deepEqual(lines, expected);
  });

  it('keeps CR as part of the line (only LF ends a line)', () => {
    assert.deepEqual(new LineSplitter().push(Buffer.from('a\r\nb\n')), ['a\r', 'b']);
  });

  it('holds an unfinished line until its LF arrives', () => {
    const s = new LineSplitter();
    assert.deepEqual(s.push(Buffer.from('200 resu')), []);
    assert.equal(s.bufferedBytes, 8);
    assert.deepEqual(s.push(Buffer.from('lt=0\n')), ['200 result=0']);
  });

  it('refuses a line longer than the limit, whether it arrives whole or in pieces', () => {
    assert.throws(() => new LineSplitter(10).push(Buffer.from('x'.repeat(11) + '\n')), AgiProtocolError);
    const s = new LineSplitter(10);
    s.push(Buffer.from('x'.repeat(6)));
    assert.throws(() => s.push(Buffer.from('x'.repeat(6))), AgiProtocolError);
    assert.deepEqual(new LineSplitter(10).push(Buffer.from('x'.repeat(10) + '\n')), ['x'.repeat(10)]);
  });

  it('bounds a 10 MB line without a newline to the limit', () => {
    const s = new LineSplitter(64 * 1024);
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    s.push(chunk);
    assert.throws(() => s.push(chunk), /exceeds the 65536-byte limit/);
  });
});
