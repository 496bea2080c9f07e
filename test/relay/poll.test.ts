import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pollEvery } from '../../src/relay/poll.js';
import { until, within } from '../support/settle.js';

describe('pollEvery', () => {
  it('ticks until a tick answers true, and not after', async () => {
    let ticks = 0;
    pollEvery(5, async () => ++ticks === 3);
    await until(() => ticks === 3, 'three ticks');
    await sleep(50);
    assert.equal(ticks, 3);
  });

  it('stops when told; a tick already waiting sees active() false and is not followed by another', async () => {
    let ticks = 0;
    let release!: () => void;
    const waiting = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const tickStarted = new Promise<void>((resolve) => (started = resolve));
    let seen: boolean | undefined;
    const stop = pollEvery(5, async (active) => {
      ticks += 1;
      started();
      await waiting;
      seen = active();
    });
    await within(tickStarted, 5000, 'the first tick');
    stop();
    release();
    await until(() => seen !== undefined, 'the waiting tick to finish');
    assert.equal(seen, false);
    await sleep(50);
    assert.equal(ticks, 1);
  });
});
