/**
 * Live: Relay messaging through a real Asterisk with a PJSIP loopback (`startAsterisk({
 * pjsipLoopback })`) and the `[relay-messages]` dialplan of asterisk-conf/extensions.conf. A message
 * a consumer's client sends leaves as a SIP MESSAGE over UDP on 127.0.0.1 and comes back into the
 * same Asterisk, which maps its number to a Relay context (astdb `relay-msg-context/<number>`)
 * and announces it; the tests check what the consumers' hooks got: the body byte for byte, the
 * numbers, the states, the segments; that a message reaches exactly one of two consumers serving
 * its context and none of those that do not; that a refused send fails with a reason; and that a
 * message waits in the inbox for a consumer that starts later.
 *
 * Skipped, with the reason, when Docker or the image cannot be had.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { Client } from '../../src/relay/client.js';
import { Consumer, type RelayConnection } from '../../src/relay/consumer.js';
import { segmentCount, type Message } from '../../src/relay/message.js';
import { INBOX_FAMILY } from '../../src/relay/message-inbox.js';
import { startAsterisk, type LiveAsterisk } from '../../src/testing/asterisk.js';
import { until, within } from '../support/settle.js';
import { RELAY_AMI_CLASSES, skip, live } from './relay-rig.js';

const quiet = pino({ level: process.env['AGIKIT_LIVE_LOG'] ?? 'silent' });
/** How long a message may take through the loop (it takes milliseconds). */
const ARRIVAL_MS = 10_000;
const FROM = '+15557654';
/** Numbers and the Relay contexts `[relay-messages]` maps them to (astdb relay-msg-context/<number>). */
const NUMBERS = { live: '+15550001', other: '+15550002', late: '+15550003' } as const;
/** A number whose messages the consumers' endpoint function sends through an endpoint Asterisk does not have. */
const NOWHERE = '+15550666';
const BODY = 'Hello Relay\nline 2: héllo ✓ 😀';

/** A consumer that records what its message hooks get. */
class MessageConsumer extends Consumer {
  readonly inbound: Message[] = [];
  readonly states: Message[] = [];
  private readyNow: (() => void) | undefined;
  readonly isReady = new Promise<void>((resolve) => (this.readyNow = resolve));
  private running: Promise<void> | undefined;

  constructor(
    private readonly served: string[],
    connection: RelayConnection,
  ) {
    super(connection);
  }

  override setup(): void {
    this.contexts = this.served;
  }

  override ready(): void {
    this.readyNow?.();
  }

  override onIncomingMessage(message: Message): void {
    this.inbound.push(message);
  }

  override onMessageStateChange(message: Message): void {
    this.states.push(message);
  }

  async start(): Promise<this> {
    this.running = this.run({ handleSignals: false });
    await within(Promise.race([this.isReady, this.running.then(() => Promise.reject(new Error('stopped before ready')))]), 20_000, `consumer of ${this.served.join(',')} ready`);
    return this;
  }

  async close(): Promise<void> {
    this.stop();
    await this.running;
  }

  /** The inbound messages whose body contains `marker`. */
  with(marker: string): Message[] {
    return this.inbound.filter((m) => m.body.includes(marker));
  }
}

let serial = 0;
/** A marker no other message of the run has. */
const mark = (): string => `#${++serial}-${Date.now().toString(36)}`;

describe('live: Relay messaging over a PJSIP loopback', () => {
  let asterisk: LiveAsterisk | undefined;
  /** Two consumers of `live` (one message must reach exactly one of them), one of `other`. */
  let liveA: MessageConsumer | undefined;
  let liveB: MessageConsumer | undefined;
  let other: MessageConsumer | undefined;
  const consumers: MessageConsumer[] = [];

  function connection(): RelayConnection {
    assert.ok(asterisk?.ami && asterisk.pjsip);
    const endpoint = asterisk.pjsip.endpoint;
    return {
      agi: { port: 0 },
      ami: { ...asterisk.ami, logger: quiet },
      log: quiet,
      drainTimeoutMs: 1000,
      messaging: { endpoint: (message) => (message.toNumber === NOWHERE ? 'nowhere' : endpoint) },
    };
  }

  async function consumer(contexts: string[]): Promise<MessageConsumer> {
    const made = new MessageConsumer(contexts, connection());
    consumers.push(made);
    return made.start();
  }

  /** The inbox entries waiting in astdb. */
  async function inboxSize(): Promise<number> {
    assert.ok(asterisk);
    const out = await asterisk.cli(`database show ${INBOX_FAMILY}`);
    return Number(/(\d+) results? found/.exec(out)?.[1] ?? 'NaN');
  }

  before(async () => {
    if (!live.ok) return;
    asterisk = await startAsterisk({ ami: RELAY_AMI_CLASSES, pjsipLoopback: true });
    for (const [context, number] of Object.entries(NUMBERS)) await asterisk.dbPut('relay-msg-context', number, context);
    liveA = await consumer(['live']);
    liveB = await consumer(['live']);
    other = await consumer(['other']);
  });
  after(async () => {
    await Promise.all(consumers.map((c) => c.close()));
    await asterisk?.stop();
  });

  it('sends a message through the loop: sent, then back in onIncomingMessage with body and numbers intact', { skip }, async () => {
    assert.ok(liveA && liveB && other);
    const marker = mark();
    const body = `${BODY} ${marker}`;
    const result = await liveA.client.messaging.send({ context: 'live', fromNumber: FROM, toNumber: NUMBERS.live, body, tags: ['welcome'] });
    assert.equal(result.successful, true, result.message.reason);
    assert.deepEqual(
      liveA.states.filter((m) => m.id === result.messageId).map((m) => m.state),
      ['queued', 'initiated', 'sent'],
      'onMessageStateChange of the sending consumer saw every state',
    );
    assert.deepEqual([...liveB.states, ...other.states], [], 'state changes go to the consumer whose client sent the message');
    await until(() => liveA!.with(marker).length + liveB!.with(marker).length > 0, 'the message came back to a consumer of live', ARRIVAL_MS);
    const [inbound] = [...liveA.with(marker), ...liveB.with(marker)];
    assert.ok(inbound);
    assert.equal(inbound.body, body, 'newline, Latin-1 and a 4-byte emoji intact');
    assert.deepEqual(
      { context: inbound.context, fromNumber: inbound.fromNumber, toNumber: inbound.toNumber, direction: inbound.direction, state: inbound.state, media: inbound.media, tags: inbound.tags },
      { context: 'live', fromNumber: FROM, toNumber: NUMBERS.live, direction: 'inbound', state: 'received', media: [], tags: [] },
    );
    assert.match(inbound.id, /^[0-9a-f]{40}$/);
    assert.equal(inbound.segments, 1);
    assert.deepEqual(result.message.tags, ['welcome']);
  });

  it('fails a send through an endpoint Asterisk does not have, with a reason, and nothing arrives', { skip }, async () => {
    assert.ok(liveA && liveB);
    const marker = mark();
    const result = await liveA.client.messaging.send({ context: 'live', fromNumber: FROM, toNumber: NOWHERE, body: `lost ${marker}` });
    assert.equal(result.successful, false);
    assert.equal(result.message.state, 'failed');
    assert.match(result.message.reason ?? '', /^Asterisk refused the message: Message failed to send\./);
    assert.deepEqual(liveA.states.filter((m) => m.id === result.messageId).map((m) => m.state), ['queued', 'initiated', 'failed']);
    assert.equal(liveA.states.at(-1)?.reason, result.message.reason);
    // Asterisk routes inbound messages one at a time, in order: once a later one is here, the
    // failed one would have been too.
    const later = mark();
    assert.equal((await liveA.client.messaging.send({ context: 'live', fromNumber: FROM, toNumber: NUMBERS.live, body: later })).successful, true);
    await until(() => liveA!.with(later).length + liveB!.with(later).length === 1, 'the later message arrived', ARRIVAL_MS);
    assert.deepEqual([...liveA.with(marker), ...liveB.with(marker)], []);
    assert.match(asterisk?.logs() ?? '', /Could not find endpoint 'PJSIP\/\+15550666@nowhere'/);
  });

  it('hands each message to exactly one of two consumers serving its context, and none to others', { skip }, async () => {
    assert.ok(liveA && liveB && other && asterisk?.ami);
    const client = new Client({ project: 'p', token: 't', ami: { ...asterisk.ami, logger: quiet }, log: quiet, messaging: connection().messaging });
    await client.connect();
    try {
      const marker = mark();
      const sends = [
        ...Array.from({ length: 8 }, (_, i) => ({ context: 'live', toNumber: NUMBERS.live, body: `live ${i} ${marker}` })),
        ...Array.from({ length: 3 }, (_, i) => ({ context: 'other', toNumber: NUMBERS.other, body: `other ${i} ${marker}` })),
      ];
      const results = await Promise.all(sends.map((s) => client.messaging.send({ ...s, fromNumber: FROM })));
      assert.ok(results.every((r) => r.successful));
      const liveGot = (): Message[] => [...liveA!.with(marker), ...liveB!.with(marker)];
      await until(() => liveGot().length >= 8 && other!.with(marker).length >= 3, 'all 11 messages arrived', ARRIVAL_MS);
      // Every inbox entry is claimed (deleted) now: no consumer can get any of them a second time.
      assert.equal(await inboxSize(), 0, 'the inbox is empty');
      assert.deepEqual(liveGot().map((m) => m.body).sort(), sends.slice(0, 8).map((s) => s.body).sort(), 'each live message exactly once');
      assert.deepEqual(other.with(marker).map((m) => m.body).sort(), sends.slice(8).map((s) => s.body).sort(), 'each other message exactly once, to its consumer');
      assert.ok(liveGot().every((m) => m.context === 'live') && other.with(marker).every((m) => m.context === 'other'));
      assert.deepEqual([...liveA.states, ...liveB.states, ...other.states].filter((m) => m.body.includes(marker)), [], 'a plain Client\'s messages reach no consumer\'s onMessageStateChange');
    } finally {
      await client.disconnect();
    }
  });

  it('keeps a message in the inbox while no consumer serves its context, and hands it to the first that starts', { skip }, async () => {
    assert.ok(liveA);
    const marker = mark();
    const before = await inboxSize();
    for (const n of [1, 2]) {
      assert.equal((await liveA.client.messaging.send({ context: 'late', fromNumber: FROM, toNumber: NUMBERS.late, body: `waiting ${n} ${marker}` })).successful, true);
    }
    const deadline = Date.now() + ARRIVAL_MS;
    while ((await inboxSize()) < before + 2) {
      if (Date.now() > deadline) throw new Error('the two messages for late did not reach the inbox');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const late = await consumer(['late']);
    await until(() => late.with(marker).length === 2, 'the late consumer got both waiting messages at start', ARRIVAL_MS);
    assert.deepEqual(late.with(marker).map((m) => m.body).sort(), [`waiting 1 ${marker}`, `waiting 2 ${marker}`]);
    assert.equal(await inboxSize(), before);
  });

  it('counts segments the same on both sides, carries the longest body AMI takes, and loses trailing newlines inbound', { skip }, async () => {
    assert.ok(liveA && liveB);
    const marker = mark();
    const rest = 756 - Buffer.byteLength(` ${marker}`);
    const bodies = {
      gsm161: `${'a'.repeat(161 - marker.length - 1)} ${marker}`, // GSM-7: 2 segments
      ucs71: `${'ж'.repeat(71 - marker.length - 1)} ${marker}`, // UCS-2: 2 segments
      longest: `${'é'.repeat(Math.floor(rest / 2))}${rest % 2 ? 'a' : ''} ${marker}`, // 756 bytes of UTF-8, GSM-7
      trailing: `ends with newlines ${marker}\n\n`,
    };
    assert.equal(Buffer.byteLength(bodies.longest), 756);
    for (const body of Object.values(bodies)) {
      const result = await liveA.client.messaging.send({ context: 'live', fromNumber: FROM, toNumber: NUMBERS.live, body });
      assert.equal(result.successful, true, result.message.reason);
      assert.equal(result.message.segments, segmentCount(body));
    }
    const got = (): Message[] => [...liveA!.with(marker), ...liveB!.with(marker)];
    await until(() => got().length === 4, 'all four messages arrived', ARRIVAL_MS);
    const byStart = (start: string): Message | undefined => got().find((m) => m.body.startsWith(start));
    assert.equal(byStart('aaa')?.segments, 2);
    assert.equal(byStart('жжж')?.body, bodies.ucs71);
    assert.equal(byStart('жжж')?.segments, 2);
    assert.equal(byStart('ééé')?.body, bodies.longest, 'the 756-byte body intact');
    assert.equal(byStart('ééé')?.segments, segmentCount(bodies.longest));
    assert.ok(segmentCount(bodies.longest) >= 3);
    // res_pjsip_messaging strips trailing CR/LF from an inbound body (print_body).
    assert.equal(byStart('ends')?.body, `ends with newlines ${marker}`);
  });
});
