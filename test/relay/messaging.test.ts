/**
 * Relay messaging without Asterisk: `messaging.send` over a real AmiClient talking to a fake AMI
 * server (states, the MessageSend it writes, refusals, failures); the inbound inbox against an
 * in-memory astdb that answers DBDelTree as Asterisk does (exactly one claim wins); and the
 * Consumer's message hooks.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AmiClient } from '../../src/ami/client.js';
import { AmiActionError } from '../../src/ami/errors.js';
import { AmiMessage } from '../../src/ami/message.js';
import { Client } from '../../src/relay/client.js';
import { Consumer } from '../../src/relay/consumer.js';
import { RelayCapabilityError } from '../../src/relay/errors.js';
import type { Message } from '../../src/relay/message.js';
import { INBOX_FAMILY, MessageInbox, type InboxAmi } from '../../src/relay/message-inbox.js';
import type { MessagingOptions } from '../../src/relay/messaging.js';
import { FakeAmi, amiBlocks, loginResponder, type Fields } from '../support/fake-ami.js';
import { quiet } from '../support/fake-server.js';
import { until, within, WAIT_MS } from '../support/settle.js';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const NOW = 1_800_000_000;
/** An inbox value as `[relay-messages]` writes it. */
const entry = (context: string, body: string, receivedAt = NOW): string =>
  ['1', context, String(receivedAt), b64('pjsip:+15550001@127.0.0.1'), b64('<sip:+15557654@127.0.0.1>'), b64(body)].join('|');
const idOf = (n: number): string => n.toString(16).padStart(40, '0');

/** Answers MessageSend (Success, or Error for the endpoint `nope`) and an empty DBGetTree. */
function messagingResponder(action: Fields): string | undefined {
  const id = action['ActionID'] ?? '';
  if (action['Action'] === 'MessageSend') {
    return action['Destination']?.endsWith('@nope')
      ? amiBlocks(['Response: Error', `ActionID: ${id}`, 'Message: Message failed to send.'])
      : action['Destination']?.endsWith('@silent')
        ? ''
        : amiBlocks(['Response: Success', `ActionID: ${id}`, 'Message: Message successfully sent']);
  }
  if (action['Action'] === 'DBGetTree') {
    return amiBlocks(
      ['Response: Success', `ActionID: ${id}`, 'EventList: start', 'Message: Result will follow'],
      ['Event: DBGetTreeComplete', `ActionID: ${id}`, 'EventList: Complete', 'ListItems: 0'],
    );
  }
  return loginResponder(action);
}

describe('messaging.send (fake AMI)', () => {
  let fake: FakeAmi;
  let ami: AmiClient;
  beforeEach(async () => {
    fake = new FakeAmi();
    fake.responder = messagingResponder;
    ami = await AmiClient.connect({ port: await fake.listen(), username: 'u', secret: 'good', logger: quiet });
  });
  afterEach(async () => {
    await ami.close();
    await fake.close();
  });

  async function client(messaging: MessagingOptions = { endpoint: 'trunk' }): Promise<Client> {
    const relay = new Client({ project: 'p', token: 't', ami, log: quiet, messaging });
    await relay.connect();
    return relay;
  }

  it('reports queued, initiated, sent and writes one MessageSend with the body in base64', async () => {
    const relay = await client({ endpoint: 'trunk', fromDomain: 'sms.example.test' });
    const states: Message[] = [];
    relay.messaging.on('state', (m) => states.push(m));
    const result = await relay.messaging.send({ context: 'office', fromNumber: '+15557654', toNumber: '+15550001', body: 'Hello\nhéllo 😀', tags: ['t1'] });
    assert.equal(result.successful, true);
    assert.match(result.messageId, /^[0-9a-f-]{36}$/);
    assert.deepEqual(states.map((m) => m.state), ['queued', 'initiated', 'sent']);
    assert.ok(states.every((m) => m.id === result.messageId && m.direction === 'outbound' && m.tags[0] === 't1' && m.segments === 1));
    assert.equal(result.message, states[2]);
    const [send] = fake.received('MessageSend');
    assert.deepEqual({ ...send, ActionID: '' }, {
      Action: 'MessageSend',
      ActionID: '',
      Destination: 'pjsip:PJSIP/+15550001@trunk',
      From: 'sip:+15557654@sms.example.test',
      Base64Body: b64('Hello\nhéllo 😀'),
      Variable: `X-Agikit-Message-Id=${result.messageId}`,
    });
  });

  it('reports failed with Asterisk\'s reason when MessageSend is refused', async () => {
    const relay = await client({ endpoint: (m) => (m.toNumber === '+15550666' ? 'nope' : 'trunk') });
    const states: Message[] = [];
    relay.messaging.on('state', (m) => states.push(m));
    const result = await relay.messaging.send({ context: 'office', fromNumber: '+15557654', toNumber: '+15550666', body: 'x' });
    assert.equal(result.successful, false);
    assert.deepEqual(states.map((m) => m.state), ['queued', 'initiated', 'failed']);
    assert.match(result.message.reason ?? '', /^Asterisk refused the message: Message failed to send\./);
  });

  it('reports failed, maybe sent, when Asterisk does not answer in time', async () => {
    const relay = await client({ endpoint: 'silent', timeoutMs: 50 });
    const result = await relay.messaging.send({ context: 'office', fromNumber: '1', toNumber: '2', body: 'x' });
    assert.equal(result.message.state, 'failed');
    assert.match(result.message.reason ?? '', /no response within 50 ms \(the message may have been sent\)/);
  });

  it('refuses without an endpoint or without AMI, before any state change', async () => {
    const relay = await client({});
    const states: Message[] = [];
    relay.messaging.on('state', (m) => states.push(m));
    const params = { context: 'office', fromNumber: '1', toNumber: '2', body: 'x' };
    await assert.rejects(relay.messaging.send(params), (e: unknown) => e instanceof RelayCapabilityError && e.capability === 'messaging-endpoint');
    const noAmi = new Client({ project: 'p', token: 't', log: quiet, messaging: { endpoint: 'trunk' } });
    await noAmi.connect();
    await assert.rejects(noAmi.messaging.send(params), (e: unknown) => e instanceof RelayCapabilityError && e.capability === 'ami');
    assert.deepEqual(states, []);
    assert.deepEqual(fake.received('MessageSend'), []);
  });

  it('keeps sending when a state listener throws', async () => {
    const relay = await client();
    relay.messaging.on('state', () => {
      throw new Error('listener bug');
    });
    assert.equal((await relay.messaging.send({ context: 'office', fromNumber: '1', toNumber: '2', body: 'x' })).successful, true);
  });
});

/** An AMI client over an in-memory astdb: DBDelTree deletes and says whether it did, as Asterisk's does. */
class FakeAstdb extends EventEmitter {
  readonly rows = new Map<string, string>();
  readonly actions: Array<{ name: string; fields: Readonly<Record<string, unknown>> }> = [];

  put(id: string, value: string): void {
    this.rows.set(`/${INBOX_FAMILY}/${id}`, value);
  }

  /** Stores a message and raises its UserEvent, as `[relay-messages]` does. */
  announce(id: string, value: string): void {
    this.put(id, value);
    this.emit('event', new AmiMessage([['Event', 'UserEvent'], ['UserEvent', 'RelayMessage'], ['Id', id], ['Message', value]]));
  }

  async action(name: string, fields: Readonly<Record<string, unknown>> = {}): Promise<AmiMessage> {
    this.actions.push({ name, fields });
    await new Promise((resolve) => setImmediate(resolve));
    const key = `/${String(fields['Family'])}/${String(fields['Key'])}`;
    if ((name === 'DBDelTree' || name === 'DBDel') && this.rows.delete(key)) return new AmiMessage([['Response', 'Success']]);
    throw new AmiActionError(name, new AmiMessage([['Response', 'Error'], ['Message', 'Database entry not found']]));
  }

  async actionList(name: string, fields: Readonly<Record<string, unknown>> = {}): Promise<{ response: AmiMessage; events: AmiMessage[]; complete: AmiMessage }> {
    this.actions.push({ name, fields });
    await new Promise((resolve) => setImmediate(resolve));
    const prefix = `/${String(fields['Family'])}/`;
    const events = [...this.rows].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => new AmiMessage([['Event', 'DBGetTreeResponse'], ['Key', k], ['Val', v]]));
    return { response: new AmiMessage([['Response', 'Success']]), events, complete: new AmiMessage([['Event', 'DBGetTreeComplete']]) };
  }

  named(name: string): Array<Readonly<Record<string, unknown>>> {
    return this.actions.filter((a) => a.name === name).map((a) => a.fields);
  }
}

describe('MessageInbox (in-memory astdb)', () => {
  const inboxes: MessageInbox[] = [];
  afterEach(async () => {
    await Promise.all(inboxes.splice(0).map((inbox) => inbox.close()));
  });

  function inbox(db: FakeAstdb, contexts: string[], got: Message[], deliver?: (m: Message) => Promise<void> | void): MessageInbox {
    const made = new MessageInbox(db as unknown as InboxAmi, {
      contexts,
      deliver: deliver ?? ((m) => void got.push(m)),
      log: quiet,
      maxAgeSeconds: 3600,
      sweepIntervalSeconds: 0,
      now: () => NOW,
    });
    inboxes.push(made);
    made.start();
    return made;
  }

  it('hands each announced message to exactly one of the inboxes serving its context', async () => {
    const db = new FakeAstdb();
    const a: Message[] = [];
    const b: Message[] = [];
    inbox(db, ['office'], a);
    inbox(db, ['office', 'sales'], b);
    for (let i = 1; i <= 20; i++) db.announce(idOf(i), entry('office', `message ${i}`));
    await until(() => a.length + b.length >= 20, 'all 20 messages delivered');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const ids = [...a, ...b].map((m) => m.id).sort();
    assert.deepEqual(ids, Array.from({ length: 20 }, (_, i) => idOf(i + 1)).sort(), 'each once, none twice');
    assert.equal(db.rows.size, 0, 'every claim removed its entry');
    assert.equal(a[0]?.body.startsWith('message '), true);
    assert.equal(a[0]?.toNumber, '+15550001');
    assert.equal(a[0]?.fromNumber, '+15557654');
  });

  it('leaves the messages of other contexts alone', async () => {
    const db = new FakeAstdb();
    const got: Message[] = [];
    await inbox(db, ['office'], got).sweep();
    db.announce(idOf(1), entry('sales', 'not mine'));
    db.announce(idOf(2), entry('office', 'mine'));
    await until(() => got.length === 1, 'the office message delivered');
    assert.deepEqual(db.named('DBDelTree').map((f) => f['Key']), [idOf(2)]);
    assert.equal(db.rows.size, 1, 'the sales message waits for its consumer');
  });

  it('sweeps at start: claims what waits for its contexts, drops stale entries of any context and unreadable ones', async () => {
    const db = new FakeAstdb();
    db.put(idOf(1), entry('office', 'waited'));
    db.put(idOf(2), entry('sales', 'fresh, not mine', NOW - 60));
    db.put(idOf(3), entry('sales', 'stale, nobody took it', NOW - 3601));
    db.put(idOf(4), entry('office', 'stale too, though mine', NOW - 3601));
    db.put('Bad%Key', 'garbage');
    const got: Message[] = [];
    const box = inbox(db, ['office'], got);
    await box.sweep();
    await until(() => got.length === 1, 'the waiting message delivered');
    assert.equal(got[0]?.body, 'waited');
    assert.deepEqual([...db.rows.keys()], [`/${INBOX_FAMILY}/${idOf(2)}`]);
    // The unreadable key is removed by its exact key (DBDel), never as a LIKE pattern.
    assert.deepEqual(db.named('DBDel').map((f) => f['Key']).sort(), [idOf(3), idOf(4), 'Bad%Key'].sort());
  });

  it('sweeps again after an AMI reconnect (events sent while disconnected are lost)', async () => {
    const db = new FakeAstdb();
    const got: Message[] = [];
    inbox(db, ['office'], got);
    await until(() => db.named('DBGetTree').length === 1, 'the first sweep ran');
    db.put(idOf(7), entry('office', 'while disconnected'));
    db.emit('connected', { banner: 'x', reconnected: true });
    await until(() => got.length === 1, 'the message is claimed after the reconnect');
  });

  it('keeps going when onIncomingMessage throws, and close() waits for the messages being handled', async () => {
    const db = new FakeAstdb();
    const got: Message[] = [];
    let release: (() => void) | undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const box = inbox(db, ['office'], got, async (m) => {
      if (m.body === 'throws') throw new Error('handler bug');
      if (m.body === 'slow') await held;
      got.push(m);
    });
    db.announce(idOf(1), entry('office', 'throws'));
    db.announce(idOf(2), entry('office', 'slow'));
    db.announce(idOf(3), entry('office', 'fine'));
    await until(() => got.length === 1 && db.rows.size === 0, 'the fine message delivered, all claimed');
    let closed = false;
    const closing = box.close().then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(closed, false, 'close() waits for the slow handler');
    release?.();
    await within(closing, WAIT_MS, 'close() did not finish after the handler did');
    assert.deepEqual(got.map((m) => m.body), ['fine', 'slow']);
    db.announce(idOf(4), entry('office', 'after close'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(db.rows.size, 1, 'a closed inbox claims nothing');
  });
});

describe('Consumer message hooks', () => {
  it('refuse onIncomingMessage without AMI when run', async () => {
    class NoAmi extends Consumer {
      override setup(): void {
        this.contexts = ['office'];
      }
      override onIncomingMessage(): void {}
    }
    await assert.rejects(new NoAmi({ agi: { port: 0 }, log: quiet }).run({ handleSignals: false }), (e: unknown) => e instanceof RelayCapabilityError && e.capability === 'ami');
  });

  it('get the state changes of the messages their client sends in their contexts only', async () => {
    const fake = new FakeAmi();
    fake.responder = messagingResponder;
    const ami = await AmiClient.connect({ port: await fake.listen(), username: 'u', secret: 'good', logger: quiet });
    const seen: Message[] = [];
    const stop = new AbortController();
    class Office extends Consumer {
      override setup(): void {
        this.contexts = ['office'];
      }
      override async ready(): Promise<void> {
        await this.client.messaging.send({ context: 'sales', fromNumber: '1', toNumber: '2', body: 'not ours' });
        await this.client.messaging.send({ context: 'office', fromNumber: '1', toNumber: '2', body: 'ours' });
        stop.abort();
      }
      override onMessageStateChange(message: Message): void {
        seen.push(message);
      }
    }
    try {
      await within(new Office({ agi: { port: 0 }, ami, log: quiet, messaging: { endpoint: 'trunk' } }).run({ handleSignals: false, signal: stop.signal }), WAIT_MS, 'the consumer did not stop');
      assert.deepEqual(seen.map((m) => `${m.context}:${m.state}`), ['office:queued', 'office:initiated', 'office:sent']);
      assert.deepEqual(fake.received('DBGetTree'), [], 'no inbox without onIncomingMessage');
    } finally {
      await ami.close();
      await fake.close();
    }
  });
});
