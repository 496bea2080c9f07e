import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AgiProtocolError } from '../../src/errors.js';
import { parseAttrs, parseFinal, ReplyReader, type DataMode, type ReplyEvent } from '../../src/protocol/reply.js';

function feed(lines: string[], mode: DataMode = 'keyword'): ReplyEvent[] {
  const reader = new ReplyReader();
  return lines.map((line) => reader.push(line, mode)).filter((e) => e.kind !== 'partial');
}

function only(lines: string[], mode: DataMode = 'keyword') {
  const events = feed(lines, mode);
  const replies = events.filter((e) => e.kind === 'reply');
  assert.equal(replies.length, 1, `one reply from ${JSON.stringify(lines)}`);
  return (replies[0] as { kind: 'reply'; reply: ReturnType<typeof parseFinal> }).reply;
}

describe('reply parsing', () => {
  it('200 result=N', () => {
    const r = only(['200 result=0']);
    assert.equal(r.code, 200);
    assert.equal(r.result, '0');
    assert.equal(r.data, undefined);
    assert.deepEqual(r.attrs, {});
  });

  it('200 result= with an empty result (get data, # first)', () => {
    const r = only(['200 result=']);
    assert.equal(r.result, '');
    const t = only(['200 result= (timeout)']);
    assert.equal(t.result, '');
    assert.equal(t.data, 'timeout');
  });

  it('digit strings as results (get data)', () => {
    assert.equal(only(['200 result=12*3']).result, '12*3');
    assert.equal(only(['200 result=-1']).result, '-1');
  });

  it('(data) with nested parentheses, free text to the last )', () => {
    const r = only(['200 result=1 (a (b) c) d)'], 'freeText');
    assert.equal(r.data, 'a (b) c) d');
    assert.equal(only(['200 result=1 ()'], 'freeText').data, '');
    assert.equal(only(['200 result=1 (  spaced  )'], 'freeText').data, '  spaced  ');
  });

  it('a free-text value containing LF spans lines until one ends with )', () => {
    const events = feed(['200 result=1 (line one', '', 'HANGUP', 'last (x))', 'HANGUP'], 'freeText');
    assert.equal(events.length, 2);
    const first = events[0];
    assert.ok(first?.kind === 'reply');
    assert.equal(first.reply.data, 'line one\n\nHANGUP\nlast (x)');
    assert.equal(first.reply.lines.length, 4);
    assert.equal(events[1]?.kind, 'hangup');
  });

  it('keyword data then key=value attributes', () => {
    const r = only(['200 result=35 (dtmf) endpos=12345']);
    assert.equal(r.result, '35');
    assert.equal(r.data, 'dtmf');
    assert.deepEqual(r.attrs, { endpos: '12345' });
    const t = only(['200 result=0 endpos=-1']);
    assert.equal(t.data, undefined);
    assert.equal(t.attrs.endpos, '-1');
  });

  it('speech recognize results, with quoted unescaped text', () => {
    const r = only(['200 result=1 (speech) endpos=800 results=2 score0=950 text0="say "hi" now" grammar0=g1 score1=300 text1="" grammar1=g2']);
    assert.equal(r.data, 'speech');
    assert.deepEqual(r.attrs, {
      endpos: '800',
      results: '2',
      score0: '950',
      text0: 'say "hi" now',
      grammar0: 'g1',
      score1: '300',
      text1: '',
      grammar1: 'g2',
    });
    const zero = only(['200 result=1 (speech) endpos=0 results=0 ']);
    assert.equal(zero.attrs.results, '0');
    const digit = only(['200 result=1 (digit) digit=5 endpos=160']);
    assert.deepEqual(digit.attrs, { digit: '5', endpos: '160' });
  });

  it('gosub: 100 Trying is provisional, the 200 free text is final', () => {
    const events = feed(['100 result=0 Trying...', '200 result=0 Gosub complete (abnormal exit)']);
    assert.deepEqual(events[0], { kind: 'provisional', line: '100 result=0 Trying...' });
    const final = events[1];
    assert.ok(final?.kind === 'reply');
    assert.equal(final.reply.result, '0');
    assert.equal(final.reply.text, 'Gosub complete (abnormal exit)');
    assert.deepEqual(final.reply.lines, ['100 result=0 Trying...', '200 result=0 Gosub complete (abnormal exit)']);
    assert.equal(only(['200 result=-1 Gosub label not found']).text, 'Gosub label not found');
  });

  it('503, 510 and 511', () => {
    const m = only(['503 result=-2 Memory allocation failure']);
    assert.equal(m.code, 503);
    assert.equal(m.result, '-2');
    const i = only(['510 Invalid or unknown command']);
    assert.equal(i.code, 510);
    assert.equal(i.result, '');
    assert.equal(i.text, 'Invalid or unknown command');
    const d = only(['511 Command Not Permitted on a dead channel or intercept routine']);
    assert.equal(d.code, 511);
  });

  it('520 single-line, with its two spaces', () => {
    const r = only(['520 Invalid command syntax.  Proper usage not available.']);
    assert.equal(r.code, 520);
    assert.equal(r.usage, undefined);
    assert.equal(r.text, 'Invalid command syntax.  Proper usage not available.');
  });

  it('520- multi-line usage block up to "520 End of proper usage."', () => {
    const lines = ['520-Invalid command syntax.  Proper usage follows:', ' Usage: WAIT FOR DIGIT <timeout>', '', '200 result=0 is not the end', '520 End of proper usage.'];
    const events = feed(lines);
    assert.equal(events.length, 1);
    const e = events[0];
    assert.ok(e?.kind === 'reply');
    assert.equal(e.reply.code, 520);
    assert.equal(e.reply.usage, ' Usage: WAIT FOR DIGIT <timeout>\n\n200 result=0 is not the end');
    assert.deepEqual(e.reply.lines, lines);
  });

  it('HANGUP before, between and after replies is its own event', () => {
    const events = feed(['HANGUP', '200 result=-1 endpos=100', 'HANGUP', '511 Command Not Permitted on a dead channel or intercept routine', 'HANGUP']);
    assert.deepEqual(
      events.map((e) => e.kind),
      ['hangup', 'reply', 'hangup', 'reply', 'hangup'],
    );
  });

  it('reports lines that are not AGI as unexpected', () => {
    assert.deepEqual(feed(['hello']), [{ kind: 'unexpected', line: 'hello' }]);
    assert.deepEqual(feed(['']), [{ kind: 'unexpected', line: '' }]);
    assert.deepEqual(feed(['20 result=0']), [{ kind: 'unexpected', line: '20 result=0' }]);
  });

  it('bounds a usage block that never ends', () => {
    const reader = new ReplyReader();
    reader.push('520-Invalid command syntax.  Proper usage follows:');
    assert.throws(() => {
      for (let i = 0; i < 5000; i++) reader.push('more usage');
    }, /more than 4096 lines/);
  });

  it('bounds the bytes of a multi-line reply: a value that never closes, a usage block, 100 lines', () => {
    const long = 'x'.repeat(10_000);
    const value = new ReplyReader(64 * 1024);
    value.push('200 result=1 (start', 'freeText');
    assert.throws(() => {
      for (let i = 0; i < 10; i++) value.push(long, 'freeText');
    }, (error: Error) => error instanceof AgiProtocolError && /exceeds the 65536-byte limit/.test(error.message));
    // After the error the reader starts afresh.
    assert.deepEqual(value.push('200 result=0').kind, 'reply');

    const usage = new ReplyReader(1000);
    usage.push('520-Invalid command syntax.  Proper usage follows:');
    assert.throws(() => usage.push('é'.repeat(500)), /exceeds the 1000-byte limit/, 'bytes, not characters, are counted');

    const trying = new ReplyReader(1000);
    assert.throws(() => {
      for (let i = 0; i < 100; i++) trying.push(`100 result=0 Trying... ${'y'.repeat(50)}`);
    }, /exceeds the 1000-byte limit/);

    // A reply that ends within the bound is read whole.
    const ok = new ReplyReader(1000);
    ok.push('200 result=1 (a', 'freeText');
    const event = ok.push('b)', 'freeText');
    assert.equal(event.kind === 'reply' && event.reply.data, 'a\nb');
  });

  it('parses attributes robustly', () => {
    assert.deepEqual(parseAttrs('endpos=1 junk k="v w" z='), { endpos: '1', k: 'v w', z: '' });
    assert.deepEqual(parseAttrs('x="unterminated value'), { x: 'unterminated value' });
  });
});
