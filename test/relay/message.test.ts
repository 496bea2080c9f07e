/**
 * The pure parts of Relay messaging: SMS segment counts (GSM-7 and UCS-2 with the concatenation
 * rules), the numbers in the SIP addresses Asterisk gives, what `send` refuses, the MessageSend
 * fields, and the inbox entries `[relay-messages]` writes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RelayArgumentError } from '../../src/relay/errors.js';
import {
  addressNumber,
  checkSendParams,
  inboundMessage,
  MAX_BODY_BYTES,
  messageSendFields,
  outboundMessage,
  parseInboxEntry,
  segmentCount,
  withState,
  type MessageSendParams,
} from '../../src/relay/message.js';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const params = (extra: Partial<MessageSendParams> = {}): MessageSendParams => ({ context: 'office', fromNumber: '+15557654', toNumber: '+15550001', body: 'hi', ...extra });

describe('segmentCount', () => {
  it('GSM-7: 160 septets in one segment, then 153 per segment', () => {
    assert.equal(segmentCount(''), 1);
    assert.equal(segmentCount('a'.repeat(160)), 1);
    assert.equal(segmentCount('a'.repeat(161)), 2);
    assert.equal(segmentCount('a'.repeat(306)), 2);
    assert.equal(segmentCount('a'.repeat(307)), 3);
    // Every character of the default alphabet is GSM-7, accents and Greek capitals included.
    assert.equal(segmentCount('@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!"#¤%&\'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà'.repeat(2)), 1);
  });

  it('GSM-7 extension characters take two septets and are never split across segments', () => {
    assert.equal(segmentCount('€'.repeat(80)), 1, '160 septets');
    assert.equal(segmentCount('€'.repeat(81)), 2, '162 septets');
    assert.equal(segmentCount('^{}\\[~]|\f€'.repeat(8)), 1, '160 septets of extension characters');
    // 152 plain septets, then '€' (2) would straddle the 153 boundary: it opens segment two.
    assert.equal(segmentCount(`${'a'.repeat(152)}€${'a'.repeat(152)}`), 3);
    assert.equal(segmentCount(`${'a'.repeat(151)}€${'a'.repeat(153)}`), 2);
  });

  it('UCS-2 for anything else: 70 units in one segment, then 67; an emoji is two units never split', () => {
    assert.equal(segmentCount('ç'), 1, 'lower-case c cedilla is not in the GSM alphabet');
    assert.equal(segmentCount('ж'.repeat(70)), 1);
    assert.equal(segmentCount('ж'.repeat(71)), 2);
    assert.equal(segmentCount('ж'.repeat(134)), 2);
    assert.equal(segmentCount('ж'.repeat(135)), 3);
    assert.equal(segmentCount('😀'.repeat(35)), 1, '70 units');
    assert.equal(segmentCount('😀'.repeat(36)), 2, '72 units');
    // 66 units, then an emoji (2) would straddle 67: it opens segment two.
    assert.equal(segmentCount(`${'ж'.repeat(66)}😀${'ж'.repeat(66)}`), 3);
    assert.equal(segmentCount(`${'ж'.repeat(65)}😀${'ж'.repeat(67)}`), 2);
    assert.equal(segmentCount(`${'a'.repeat(100)}✓`), 2, 'one non-GSM character makes the whole body UCS-2');
  });
});

describe('addressNumber', () => {
  it('reads the number out of MESSAGE(to) and MESSAGE(from) as Asterisk gives them', () => {
    assert.equal(addressNumber('pjsip:+15550001@127.0.0.1'), '+15550001');
    assert.equal(addressNumber('<sip:+15557654@example.test>'), '+15557654');
    assert.equal(addressNumber('"Alice, Inc." <sip:alice@example.test>'), 'alice');
    assert.equal(addressNumber('sips:+4930123;isub=1@host;user=phone'), '+4930123');
    assert.equal(addressNumber('tel:+15550001;phone-context=example.test'), '+15550001');
    assert.equal(addressNumber('sip:%2B15550001@host'), '+15550001');
    assert.equal(addressNumber('+15550001'), '+15550001');
  });

  it('returns what it cannot read as it is', () => {
    assert.equal(addressNumber(''), '');
    assert.equal(addressNumber('<>'), '<>');
    assert.equal(addressNumber('sip:%zz@host'), '%zz');
  });
});

describe('checkSendParams', () => {
  it('takes a text message', () => {
    checkSendParams(params({ media: [], tags: ['a'] }));
    checkSendParams(params({ body: 'é'.repeat(MAX_BODY_BYTES / 2) }));
  });

  it('refuses what Asterisk cannot send, saying why', () => {
    const refuses = (extra: Partial<MessageSendParams>, pattern: RegExp): void => {
      assert.throws(() => checkSendParams(params(extra)), (error: unknown) => error instanceof RelayArgumentError && pattern.test(error.message));
    };
    refuses({ media: ['https://example.test/cat.jpg'] }, /media is not supported/);
    refuses({ body: '' }, /a body is required/);
    refuses({ body: undefined }, /a body is required/);
    refuses({ body: 'a\0b' }, /NUL/);
    refuses({ body: `${'é'.repeat(MAX_BODY_BYTES / 2)}a` }, /757 bytes of UTF-8; .* at most 756/);
    refuses({ context: 'bad context' }, /bad context/);
    refuses({ toNumber: '+1555@evil' }, /bad toNumber/);
    refuses({ fromNumber: '' }, /bad fromNumber/);
    refuses({ tags: [1 as unknown as string] }, /tags/);
  });
});

describe('outbound messages', () => {
  it('start queued with the seed fields, change state as new frozen snapshots, carry a reason only when failed', () => {
    const queued = outboundMessage('id-1', params({ body: 'a'.repeat(161), tags: ['t'] }));
    assert.deepEqual(queued, {
      id: 'id-1',
      context: 'office',
      fromNumber: '+15557654',
      toNumber: '+15550001',
      direction: 'outbound',
      state: 'queued',
      body: 'a'.repeat(161),
      media: [],
      tags: ['t'],
      segments: 2,
    });
    assert.ok(Object.isFrozen(queued));
    const failed = withState(queued, 'failed', 'nope');
    assert.equal(failed.reason, 'nope');
    assert.equal(queued.state, 'queued', 'the earlier snapshot is unchanged');
    assert.equal('reason' in withState(failed, 'sent'), false);
  });

  it('become a MessageSend to pjsip:PJSIP/<to>@<endpoint> with the body in base64 and the id as a header', () => {
    const message = outboundMessage('id-2', params({ body: 'line 1\nline 2 ✓' }));
    assert.deepEqual(messageSendFields(message, 'trunk'), {
      Destination: 'pjsip:PJSIP/+15550001@trunk',
      From: '+15557654',
      Base64Body: b64('line 1\nline 2 ✓'),
      Variable: 'X-Agikit-Message-Id=id-2',
    });
    assert.equal(messageSendFields(message, 'trunk', 'sms.example.test').From, 'sip:+15557654@sms.example.test');
  });
});

describe('inbox entries', () => {
  const id = '0afb90676e7c402910953e39dc1723e36bb7e42c';
  const value = ['1', 'office', '1796356855', b64('pjsip:+15550001@127.0.0.1'), b64('<sip:+15557654@127.0.0.1>'), b64('Hello\nhéllo ✓ 😀')].join('|');

  it('read into an inbound message in state received, numbers normalised, body decoded', () => {
    const entry = parseInboxEntry(id, value);
    assert.ok(entry);
    assert.equal(entry.receivedAt, 1796356855);
    assert.deepEqual(inboundMessage(entry), {
      id,
      context: 'office',
      fromNumber: '+15557654',
      toNumber: '+15550001',
      direction: 'inbound',
      state: 'received',
      body: 'Hello\nhéllo ✓ 😀',
      media: [],
      tags: [],
      segments: 1,
    });
  });

  it('take an empty body', () => {
    assert.equal(parseInboxEntry(id, `${value.slice(0, value.lastIndexOf('|'))}|`)?.body, '');
  });

  it('are refused when they are not agikit\'s format', () => {
    assert.equal(parseInboxEntry('ABC', value), undefined, 'upper case matches other ids in a LIKE pattern');
    assert.equal(parseInboxEntry('a%', value), undefined);
    assert.equal(parseInboxEntry(id, value.replace(/^1\|/, '2|')), undefined, 'another version');
    assert.equal(parseInboxEntry(id, `${value}|extra`), undefined);
    assert.equal(parseInboxEntry(id, value.replace('|office|', '||')), undefined, 'no context');
    assert.equal(parseInboxEntry(id, value.replace('1796356855', 'soon')), undefined);
    assert.equal(parseInboxEntry(id, value.replace(b64('pjsip:+15550001@127.0.0.1'), 'not base64!')), undefined);
  });
});
