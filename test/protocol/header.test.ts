import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AgiProtocolError } from '../../src/errors.js';
import { HeaderReader, parseHeader, splitHeaderLine, splitScript } from '../../src/protocol/header.js';

/** The reference's example of what a FastAGI server receives. */
const REAL = [
  'agi_network: yes',
  'agi_network_script: ivr/main?lang=en',
  'agi_request: agi://10.0.0.5/ivr/main?lang=en',
  'agi_channel: PJSIP/alice-00000001',
  'agi_language: en',
  'agi_type: PJSIP',
  'agi_uniqueid: 1723456789.12',
  'agi_version: 22.6.0',
  'agi_callerid: 1001',
  'agi_calleridname: Alice',
  'agi_callingpres: 0',
  'agi_callingani2: 0',
  'agi_callington: 0',
  'agi_callingtns: 0',
  'agi_dnid: 600',
  'agi_rdnis: unknown',
  'agi_context: default',
  'agi_extension: 600',
  'agi_priority: 2',
  'agi_enhanced: 0.0',
  'agi_accountcode: ',
  'agi_threadid: 140123456789504',
  'agi_arg_1: hello world',
  'agi_arg_2: ',
  '',
];

describe('header', () => {
  it('types every agi_* field of a real Asterisk 22 header', () => {
    const h = parseHeader(REAL);
    assert.deepEqual(h.env, {
      request: 'agi://10.0.0.5/ivr/main?lang=en',
      channel: 'PJSIP/alice-00000001',
      language: 'en',
      type: 'PJSIP',
      uniqueid: '1723456789.12',
      version: '22.6.0',
      callerid: '1001',
      calleridname: 'Alice',
      callingpres: 0,
      callingani2: 0,
      callington: 0,
      callingtns: 0,
      dnid: '600',
      rdnis: null,
      context: 'default',
      extension: '600',
      priority: 2,
      enhanced: false,
      accountcode: '',
      threadid: '140123456789504',
      network: true,
      networkScript: 'ivr/main?lang=en',
    });
    assert.deepEqual(h.args, ['hello world', '']);
    assert.equal(h.path, '/ivr/main');
    assert.equal(h.query.get('lang'), 'en');
    assert.equal(h.raw.agi_accountcode, '');
  });

  it('keeps values containing colons (URLs) whole', () => {
    const h = parseHeader(['agi_arg_1: http://host:8443/x?a=b:c', 'agi_request: agi://h:4573/x']);
    assert.deepEqual(h.args, ['http://host:8443/x?a=b:c']);
    assert.equal(h.env.request, 'agi://h:4573/x');
  });

  it('drops exactly one separator space and never trims the value further', () => {
    assert.deepEqual(splitHeaderLine('agi_arg_1:   two spaces before, one after '), ['agi_arg_1', '  two spaces before, one after ']);
    assert.deepEqual(splitHeaderLine('agi_arg_1:x'), ['agi_arg_1', 'x']);
    assert.deepEqual(splitHeaderLine('agi_arg_1:\tx'), ['agi_arg_1', 'x']);
    assert.deepEqual(splitHeaderLine('agi_accountcode: '), ['agi_accountcode', '']);
    assert.deepEqual(splitHeaderLine('agi_accountcode:'), ['agi_accountcode', '']);
  });

  it('keeps unknown agi_ keys verbatim', () => {
    const h = parseHeader(['agi_channel: X', 'agi_future_field: 1: 2']);
    assert.equal(h.raw.agi_future_field, '1: 2');
  });

  it('orders agi_arg_N numerically (10 after 9) and fills gaps', () => {
    const lines = Array.from({ length: 11 }, (_, i) => `agi_arg_${11 - i}: v${11 - i}`);
    assert.deepEqual(parseHeader(lines).args, ['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9', 'v10', 'v11']);
    assert.deepEqual(parseHeader(['agi_arg_3: c', 'agi_arg_1: a']).args, ['a', '', 'c']);
  });

  it('maps the "unknown" placeholder to null and keeps real values', () => {
    const h = parseHeader(['agi_callerid: unknown', 'agi_calleridname: unknown', 'agi_dnid: unknown', 'agi_rdnis: 555']);
    assert.equal(h.env.callerid, null);
    assert.equal(h.env.calleridname, null);
    assert.equal(h.env.dnid, null);
    assert.equal(h.env.rdnis, '555');
  });

  it('reads a stdio header (no agi_network lines) with path /', () => {
    const h = parseHeader(['agi_request: /usr/share/asterisk/agi-bin/x.js', 'agi_channel: Local/1@a;1', 'agi_enhanced: 1.0']);
    assert.equal(h.env.network, false);
    assert.equal(h.env.networkScript, '');
    assert.equal(h.path, '/');
    assert.equal(h.env.enhanced, true);
  });

  it('tolerates CRLF, and empty lines before the first key', () => {
    const reader = new HeaderReader();
    assert.equal(reader.push(''), undefined);
    assert.equal(reader.push('agi_channel: A\r'), undefined);
    const h = reader.push('\r');
    assert.equal(h?.env.channel, 'A');
  });

  it('refuses garbage that is not AGI', () => {
    assert.throws(() => parseHeader(['GET / HTTP/1.1']), AgiProtocolError);
    assert.throws(() => parseHeader(['agi_channel: A', 'Host: example.com']), AgiProtocolError);
    assert.throws(() => parseHeader(['no colon here']), AgiProtocolError);
    assert.throws(() => parseHeader(['']), /empty AGI header/);
  });

  it('refuses a header over 256 lines or 64 KiB', () => {
    const many = Array.from({ length: 257 }, (_, i) => `agi_x${i}: v`);
    assert.throws(() => parseHeader(many), /256 lines/);
    assert.doesNotThrow(() => parseHeader(many.slice(0, 256)));
    const big = Array.from({ length: 20 }, (_, i) => `agi_x${i}: ${'v'.repeat(4000)}`);
    assert.throws(() => parseHeader(big), /65536 bytes/);
  });

  it('splits the FastAGI script into path and query', () => {
    assert.equal(splitScript('').path, '/');
    assert.equal(splitScript('a/b').path, '/a/b');
    const s = splitScript('a/b?x=1&y=two%20words&x=2');
    assert.equal(s.path, '/a/b');
    assert.deepEqual(s.query.getAll('x'), ['1', '2']);
    assert.equal(s.query.get('y'), 'two words');
    assert.equal(splitScript('?only=query').path, '/');
  });
});
