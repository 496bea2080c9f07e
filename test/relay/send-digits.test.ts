/**
 * sendDigits: parsing (every refusal names the character, nothing is sent), the timing of tones and
 * pauses, and the component over a fake AMI and a fake AGI session: digits in order, `W` timed in
 * Node, stop() between digits, the events.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Agi } from '../../src/agi/agi.js';
import type { AmiClient } from '../../src/ami/client.js';
import { Call } from '../../src/relay/call.js';
import { CallBusyError, RelayArgumentError } from '../../src/relay/errors.js';
import { RelayRuntime } from '../../src/relay/runtime.js';
import { GAP_MS, parseDigits, sendingMs, TONE_MS } from '../../src/relay/send-digits.js';

/** A call whose digits go to `sent` (with the ms since the start), over a fake AMI or a fake AGI session. */
function fakeCall(over: 'ami' | 'agi'): { call: Call; sent: Array<[string, number]> } {
  const sent: Array<[string, number]> = [];
  const start = Date.now();
  const ami = {
    playDtmf: async (channel: string, digit: string, options: { durationMs?: number; receive?: boolean }) => {
      assert.equal(channel, 'Local/x;1');
      assert.equal(options.receive, undefined);
      sent.push([digit, Date.now() - start]);
      await new Promise((resolve) => setTimeout(resolve, options.durationMs));
    },
    channel: (id: string) => ({ id, active: true, unsubscribe: () => undefined }),
  } as unknown as AmiClient;
  const runtime = new RelayRuntime(over === 'ami' ? { ami } : {});
  const call = new Call(runtime, { id: 'u1', context: 'c', fromNumber: '', toNumber: '', channel: 'Local/x;1' });
  const agi = {
    env: { channel: 'Local/x;1' },
    closed: false,
    onHangup: () => undefined,
    exec: async (application: string, digit: string, between: number, duration: number) => {
      assert.deepEqual([application, between, duration], ['SendDTMF', 1, TONE_MS]);
      sent.push([digit, Date.now() - start]);
      await new Promise((resolve) => setTimeout(resolve, duration));
      return 0;
    },
  } as unknown as Agi;
  call.attach(agi);
  call.advance('answered');
  return { call, sent };
}

describe('sendDigits', () => {
  it('parses digits and the pauses w (0.5 s) and W (1 s)', () => {
    assert.deepEqual(parseDigits('1*#DwW'), [
      { kind: 'digit', digit: '1' },
      { kind: 'digit', digit: '*' },
      { kind: 'digit', digit: '#' },
      { kind: 'digit', digit: 'D' },
      { kind: 'pause', ms: 500 },
      { kind: 'pause', ms: 1000 },
    ]);
    assert.equal(sendingMs(parseDigits('12W')), 2 * (TONE_MS + GAP_MS) + 1000);
  });

  for (const [digits, message] of [
    ['12x3', /invalid character "x" at position 3 of "12x3"/],
    ['a', /invalid character "a" at position 1/],
    ['1 2', /invalid character " " at position 2/],
    ['', /non-empty string/],
    ['1'.repeat(1025), /at most 1024 characters/],
  ] as const) {
    it(`refuses ${JSON.stringify(digits.slice(0, 10))}`, () => {
      assert.throws(() => parseDigits(digits), (error: unknown) => error instanceof RelayArgumentError && message.test(error.message));
    });
  }

  for (const over of ['ami', 'agi'] as const) {
    it(`over ${over.toUpperCase()}: digits in order, W waits 1 s, sendDigits.finished with the action`, async () => {
      const { call, sent } = fakeCall(over);
      const finished: unknown[] = [];
      call.on('sendDigits.finished', (action) => finished.push(action.state));
      const result = await call.sendDigits('1W2');
      assert.equal(result.successful, true);
      assert.deepEqual(
        sent.map(([d]) => d),
        ['1', '2'],
      );
      const gap = (sent[1]?.[1] ?? 0) - (sent[0]?.[1] ?? 0);
      assert.ok(gap >= TONE_MS + GAP_MS + 1000 && gap < TONE_MS + GAP_MS + 1000 + 300, `gap ${gap} ms`);
      assert.deepEqual(finished, ['finished']);
    });

    it(`over ${over.toUpperCase()}: stop() after the first digit: nothing more is sent, unsuccessful`, async () => {
      const { call, sent } = fakeCall(over);
      const action = await call.sendDigitsAsync('1W2W3');
      assert.equal(action.state, 'sending');
      assert.deepEqual(action.payload, { digits: '1W2W3' });
      await new Promise((resolve) => setTimeout(resolve, TONE_MS + GAP_MS + 200));
      const stopped = Date.now();
      assert.deepEqual(await action.stop(), { successful: true });
      assert.ok(Date.now() - stopped < 200, 'stop() wakes the pause');
      const result = await action.done;
      assert.equal(result.successful, false);
      assert.deepEqual(result.event?.payload['sent'], '1W');
      assert.deepEqual(
        sent.map(([d]) => d),
        ['1'],
      );
      assert.equal(action.completed, true);
    });
  }

  it('queue: false while something holds the lane: over AGI CallBusyError, nothing sent; over AMI the lane is not needed', async () => {
    for (const over of ['agi', 'ami'] as const) {
      const { call, sent } = fakeCall(over);
      const release = await call.lane.acquire({ name: 'play x', stop: async () => undefined });
      const sending = call.sendDigits('1', { queue: false });
      if (over === 'agi') {
        await assert.rejects(sending, (e: unknown) => e instanceof CallBusyError && /sendDigits: the call is busy with play x/.test(e.message));
        assert.deepEqual(sent, []);
      } else {
        assert.equal((await sending).successful, true);
        assert.deepEqual(
          sent.map(([d]) => d),
          ['1'],
        );
      }
      release();
    }
  });

  it('an invalid digit is refused before anything is sent; an aborted signal stops it', async () => {
    const { call, sent } = fakeCall('ami');
    await assert.rejects(call.sendDigits('12?'), RelayArgumentError);
    const controller = new AbortController();
    controller.abort();
    const result = await call.sendDigits('123', { signal: controller.signal });
    assert.equal(result.successful, false);
    assert.deepEqual(sent, []);
  });
});
