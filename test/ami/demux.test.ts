/**
 * Per-channel event demultiplexing: through a fake AMI server, 1,000 interleaved channels each get
 * exactly their own events (by Uniqueid, and Dial* events as DestUniqueid), a linked subscription
 * gets the whole call chain, a throwing listener harms no other; unsubscribing (also by an
 * AbortSignal) frees the tables, with no growth over thousands of calls.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AmiClient, AmiMessage, type AmiSubscription } from '../../src/ami/index.js';
import { EventDemux } from '../../src/ami/demux.js';
import { amiBlocks, FakeAmi } from '../support/fake-ami.js';
import { quiet } from '../support/fake-server.js';
import { WAIT_MS, within } from '../support/settle.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A channel event as Asterisk 22 writes it (abridged). */
function channelEvent(event: string, uniqueid: string, linkedid: string, extra: string[] = []): string[] {
  return [`Event: ${event}`, 'Privilege: call,all', `Channel: Local/s@far-${uniqueid}`, 'ChannelState: 6', 'ChannelStateDesc: Up', `Uniqueid: ${uniqueid}`, `Linkedid: ${linkedid}`, ...extra];
}

describe('AmiClient: per-channel events (fake AMI server)', () => {
  let fake: FakeAmi;
  let ami: AmiClient;
  before(async () => {
    fake = new FakeAmi();
    const port = await fake.listen();
    ami = await AmiClient.connect({ port, username: 'u', secret: 'good', events: 'call', logger: quiet });
  });
  after(async () => {
    await ami.close();
    await fake.close();
  });

  it('1,000 interleaved channels: each subscription gets exactly its events, in order; unsubscribing frees them', async () => {
    const channels = Array.from({ length: 1000 }, (_, i) => `1700000000.${i}`);
    const got = new Map<string, string[]>();
    const subs = channels.map((id) => ami.channel(id, (e) => got.set(id, [...(got.get(id) ?? []), `${e.get('Event')}:${e.get('Seq')}`])));
    assert.equal(ami.stats.channelSubscriptions, 1000);
    let all = 0;
    const countAll = (): void => void (all += 1);
    ami.on('event', countAll);
    const steps = ['Newchannel', 'Newstate', 'VarSet', 'DTMFEnd', 'Hangup'];
    const blocks: string[][] = [];
    for (const [seq, step] of steps.entries()) {
      for (const id of channels) blocks.push(channelEvent(step, id, id, [`Seq: ${seq}`]));
      blocks.push(['Event: PeerStatus', 'Privilege: system,all', 'Peer: PJSIP/x']); // no channel: global only
    }
    const done = new Promise<void>((resolve) => {
      const sub = ami.channel(channels.at(-1) as string, (e) => e.get('Event') === 'Hangup' && (sub.unsubscribe(), resolve()));
    });
    fake.socket?.write(amiBlocks(...blocks));
    await within(done, WAIT_MS, 'the last channel\'s Hangup never reached its subscription');
    ami.off('event', countAll);
    assert.equal(all, blocks.length);
    for (const id of channels) assert.deepEqual(got.get(id), steps.map((s, i) => `${s}:${i}`), id);
    for (const sub of subs) sub.unsubscribe();
    assert.equal(ami.stats.channelSubscriptions, 0);
  });

  it('Dial events reach the callee as DestUniqueid; linked subscriptions get the call chain; a throwing listener harms no other', async () => {
    const caller: string[] = [];
    const callee: string[] = [];
    const chain: string[] = [];
    const subs: AmiSubscription[] = [
      ami.channel('caller-1', () => {
        throw new Error('listener bug');
      }),
      ami.channel('caller-1', (e) => caller.push(e.get('Event') ?? '')),
      ami.channel('callee-1', (e) => callee.push(e.get('Event') ?? '')),
      ami.linked('caller-1', (e) => chain.push(`${e.get('Event')}@${e.get('Uniqueid')}`)),
    ];
    const last = new Promise<void>((resolve) => subs.push(ami.channel('callee-1', (e) => e.get('Event') === 'Hangup' && resolve())));
    fake.send(
      channelEvent('Newchannel', 'callee-1', 'caller-1'),
      [...channelEvent('DialBegin', 'caller-1', 'caller-1'), 'DestUniqueid: callee-1', 'DestLinkedid: caller-1'],
      [...channelEvent('DialEnd', 'caller-1', 'caller-1'), 'DestUniqueid: callee-1', 'DialStatus: ANSWER'],
      channelEvent('Hangup', 'other-9', 'other-9'),
      channelEvent('Hangup', 'callee-1', 'caller-1'),
    );
    await within(last, WAIT_MS, 'the callee\'s Hangup never reached its subscription');
    assert.deepEqual(caller, ['DialBegin', 'DialEnd']);
    assert.deepEqual(callee, ['Newchannel', 'DialBegin', 'DialEnd', 'Hangup']);
    assert.deepEqual(chain, ['Newchannel@callee-1', 'DialBegin@caller-1', 'DialEnd@caller-1', 'Hangup@callee-1']);
    for (const sub of subs) sub.unsubscribe();
    assert.deepEqual([ami.stats.channelSubscriptions, ami.stats.linkedSubscriptions], [0, 0]);
  });
});

describe('EventDemux', () => {
  const event = (uniqueid: string): AmiMessage =>
    new AmiMessage([
      ['Event', 'Newstate'],
      ['Uniqueid', uniqueid],
      ['Linkedid', uniqueid],
    ]);

  it('one AbortSignal shared by thousands of subscriptions: one abort listener, all unsubscribed on abort', () => {
    const demux = new EventDemux(() => assert.fail('no listener throws'));
    const shutdown = new AbortController();
    let delivered = 0;
    const subs = Array.from({ length: 2000 }, (_, i) => demux.channel(`c${i}`, () => void (delivered += 1), { signal: shutdown.signal }));
    assert.equal(getEventListeners(shutdown.signal, 'abort').length, 1);
    subs[0]?.unsubscribe();
    demux.dispatch(event('c0'));
    demux.dispatch(event('c1'));
    assert.equal(delivered, 1);
    shutdown.abort();
    assert.ok(subs.every((s) => !s.active));
    assert.deepEqual(demux.stats, { channels: 0, linked: 0 });
    const call = new AbortController();
    demux.channel('x', () => undefined, { signal: call.signal }).unsubscribe();
    assert.equal(getEventListeners(call.signal, 'abort').length, 0, 'the last unsubscribe removes the listener');
  });

  it('an AbortSignal unsubscribes; unsubscribing twice or during delivery is safe', () => {
    const demux = new EventDemux(() => assert.fail('no listener throws'));
    const controller = new AbortController();
    const seen: string[] = [];
    demux.channel('a', () => seen.push('a'), { signal: controller.signal });
    const second: AmiSubscription = demux.channel('a', () => {
      seen.push('a2');
      second.unsubscribe();
    });
    demux.dispatch(event('a'));
    demux.dispatch(event('a'));
    controller.abort();
    demux.dispatch(event('a'));
    second.unsubscribe();
    assert.deepEqual(seen, ['a', 'a2', 'a']);
    assert.deepEqual(demux.stats, { channels: 0, linked: 0 });
    const aborted = AbortSignal.abort();
    assert.equal(demux.channel('b', () => seen.push('b'), { signal: aborted }).active, false);
    assert.deepEqual(demux.stats, { channels: 0, linked: 0 });
  });

  it('thousands of calls subscribed and unsubscribed leave nothing behind', () => {
    const demux = new EventDemux(() => undefined);
    const round = (base: number): void => {
      const calls = [];
      for (let i = 0; i < 5000; i++) {
        const id = `${base}.${i}`;
        const ended = new AbortController();
        calls.push({ ended, sub: demux.channel(id, () => undefined) });
        demux.linked(id, () => undefined, { signal: ended.signal });
        demux.dispatch(event(id));
      }
      for (const { ended, sub } of calls) {
        sub.unsubscribe();
        ended.abort();
      }
    };
    // Warm up first (optimised code, table capacity), then 200,000 calls: a leak of even one small
    // object per call would be megabytes; V8's own noise is a few hundred KB.
    for (let r = 0; r < 10; r++) round(r);
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let r = 10; r < 50; r++) round(r);
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    assert.deepEqual(demux.stats, { channels: 0, linked: 0 });
    assert.ok(grown < 2 * 1024 * 1024, `heap grew by ${grown} bytes over 200,000 calls (${(grown / 200_000).toFixed(1)} B per call)`);
  });
});
