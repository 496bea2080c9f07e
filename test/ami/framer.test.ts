/**
 * AMI input framing (AmiFramer, pure) and message parsing/encoding: the greeting, messages split
 * anywhere (byte by byte, inside a UTF-8 character), blank lines, `Key: Value` with colons in the
 * value; and the bounds: a line, a message's bytes and its field count, with the buffered bytes
 * never above the bound while a megabyte without a blank line arrives.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AmiFramer, AmiMessage, AmiProtocolError, encodeAction, type AmiInputLimits } from '../../src/ami/index.js';

const wire = 'Asterisk Call Manager/11.0.0\r\nResponse: Success\r\nActionID: a-1\r\nMessage: Authentication accepted\r\n\r\n\r\nEvent: VarSet\r\nUniqueid: 1700000000.1\r\nVariable: GREETING\r\nValue: héllo: wörld ✓\r\nOld style line\r\n\r\n';

function feed(framer: AmiFramer, bytes: Buffer, chunkSize: number): AmiMessage[] {
  const out: AmiMessage[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) out.push(...framer.push(bytes.subarray(i, i + chunkSize)));
  return out;
}

describe('AmiFramer', () => {
  it('gives the greeting and the messages whatever the chunking (byte by byte, inside UTF-8)', () => {
    const bytes = Buffer.from(wire, 'utf8');
    for (const size of [1, 2, 3, 7, 64, bytes.length]) {
      const framer = new AmiFramer();
      const messages = feed(framer, bytes, size);
      assert.equal(framer.banner, 'Asterisk Call Manager/11.0.0', `chunk ${size}`);
      assert.deepEqual(
        messages.map((m) => m.fields),
        [
          [
            ['Response', 'Success'],
            ['ActionID', 'a-1'],
            ['Message', 'Authentication accepted'],
          ],
          [
            ['Event', 'VarSet'],
            ['Uniqueid', '1700000000.1'],
            ['Variable', 'GREETING'],
            ['Value', 'héllo: wörld ✓'],
            ['', 'Old style line'],
          ],
        ],
        `chunk ${size}`,
      );
      assert.equal(framer.bufferedBytes, 0);
    }
  });

  it('AmiMessage: case-insensitive get, getAll, kind from the first line', () => {
    const m = new AmiMessage([
      ['Event', 'OriginateResponse'],
      ['Response', 'Failure'],
      ['Variable', 'A=1'],
      ['variable', 'B=2'],
    ]);
    assert.equal(m.kind, 'event', 'an OriginateResponse carries Response: yet is an event');
    assert.equal(m.get('RESPONSE'), 'Failure');
    assert.deepEqual(m.getAll('Variable'), ['A=1', 'B=2']);
    assert.equal(m.get('Missing'), undefined);
    assert.equal(new AmiMessage([['Response', 'Success']]).kind, 'response');
    assert.equal(new AmiMessage([['Message', 'x']]).kind, undefined);
  });

  it('encodeAction: ActionID second, arrays repeat, undefined left out, one blank line at the end', () => {
    assert.equal(
      encodeAction('Originate', 'id-1', { Channel: 'Local/1@x', Variable: ['A=1', 'B=2'], Timeout: 4000, Async: true, Skip: undefined }),
      'Action: Originate\r\nActionID: id-1\r\nChannel: Local/1@x\r\nVariable: A=1\r\nVariable: B=2\r\nTimeout: 4000\r\nAsync: true\r\n\r\n',
    );
  });

  const small: AmiInputLimits = { maxLineBytes: 1024, maxMessageBytes: 16 * 1024, maxMessageFields: 100 };

  it('a megabyte of lines without a blank line: AmiProtocolError at the byte bound, never buffering more', () => {
    const framer = new AmiFramer({ ...small, maxMessageFields: 1_000_000 });
    framer.push(Buffer.from('Asterisk Call Manager/11.0.0\r\n'));
    const junk = Buffer.from(`X-Junk: ${'a'.repeat(90)}\r\n`.repeat(10_500)); // ~1 MiB
    let peak = 0;
    let error: unknown;
    for (let i = 0; i < junk.length && !error; i += 4096) {
      try {
        framer.push(junk.subarray(i, i + 4096));
      } catch (e) {
        error = e;
      }
      peak = Math.max(peak, framer.bufferedBytes);
    }
    assert.ok(error instanceof AmiProtocolError && error.limit === 'message-bytes', String(error));
    assert.ok(peak <= small.maxMessageBytes + small.maxLineBytes, `peak ${peak}`);
    assert.equal(framer.bufferedBytes, 0, 'reset after the error');
  });

  it('too many fields, and one line over its bound, are AmiProtocolErrors too', () => {
    const fields = new AmiFramer(small);
    assert.throws(() => fields.push(Buffer.from(`banner\r\n${'A: b\r\n'.repeat(101)}`)), (e: unknown) => e instanceof AmiProtocolError && e.limit === 'message-fields');
    const line = new AmiFramer(small);
    line.push(Buffer.from('banner\r\n'));
    let peak = 0;
    assert.throws(() => {
      for (let i = 0; i < 1024; i++) {
        line.push(Buffer.alloc(1024, 0x61)); // a megabyte without LF
        peak = Math.max(peak, line.bufferedBytes);
      }
    }, (e: unknown) => e instanceof AmiProtocolError && e.limit === 'line-bytes');
    assert.ok(peak <= small.maxLineBytes, `peak ${peak}`);
  });
});
