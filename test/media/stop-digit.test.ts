/**
 * {@link StopDigit}: the digit that ends a `RECORD FILE` over AMI is sent once per command, and read
 * away after a command that ended by itself while it was on its way.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Agi } from '../../src/agi/agi.js';
import { AgiHangupError } from '../../src/errors.js';
import { STOP_DIGIT_DRAIN_MS, StopDigit } from '../../src/media/stop-digit.js';

/** An Agi whose WAIT FOR DIGIT answers `digits` in turn (then `null`), recording each wait. */
function waitingAgi(digits: Array<string | null | Error>): { agi: Agi; waits: number[] } {
  const waits: number[] = [];
  const agi = {
    waitForDigit: async (timeoutMs: number) => {
      waits.push(timeoutMs);
      const next = digits.shift() ?? null;
      if (next instanceof Error) throw next;
      return next;
    },
  } as unknown as Agi;
  return { agi, waits };
}

describe('StopDigit', () => {
  it('nothing sent, or the command ended on the stop digit: nothing to drain', async () => {
    const key = new StopDigit('D');
    const idle = waitingAgi([]);
    await key.drain(idle.agi, null);
    await key.send(async () => undefined);
    await key.drain(idle.agi, 'D');
    assert.deepEqual(idle.waits, []);
  });

  it('the command ended otherwise: reads until the stop digit (a caller key first is read too), then is ready for the next command', async () => {
    const key = new StopDigit('D');
    await key.send(async () => undefined);
    const first = waitingAgi(['5', 'D', '7']);
    await key.drain(first.agi, null);
    assert.deepEqual(first.waits, [STOP_DIGIT_DRAIN_MS, STOP_DIGIT_DRAIN_MS]);
    const later = waitingAgi([]);
    await key.drain(later.agi, null);
    assert.deepEqual(later.waits, [], 'drained once per send');
  });

  it('a digit that never comes: one short wait; at most three reads', async () => {
    const key = new StopDigit('#');
    await key.send(async () => undefined);
    const none = waitingAgi([]);
    await key.drain(none.agi, '1');
    assert.deepEqual(none.waits, [STOP_DIGIT_DRAIN_MS]);
    await key.send(async () => undefined);
    const keys = waitingAgi(['1', '2', '3', '4']);
    await key.drain(keys.agi, null);
    assert.equal(keys.waits.length, 3);
  });

  it('sent once per command (a second send waits for the first); a failed send is thrown, drains nothing and is tried again', async () => {
    const key = new StopDigit('D');
    let sends = 0;
    let release!: () => void;
    const first = key.send(() => {
      sends += 1;
      return new Promise<void>((resolve) => (release = resolve));
    });
    const second = key.send(async () => {
      sends += 1;
    });
    release();
    await Promise.all([first, second]);
    assert.equal(sends, 1);
    await key.drain(waitingAgi(['D']).agi, null);
    await assert.rejects(
      key.send(async () => Promise.reject(new Error('No such channel'))),
      /No such channel/,
    );
    const after = waitingAgi([]);
    await key.drain(after.agi, null);
    assert.deepEqual(after.waits, []);
    // A failed send is tried again by the next (FileRecorder's stop retries every second).
    await assert.rejects(key.send(async () => Promise.reject(new Error('timeout'))), /timeout/);
    await key.send(async () => {
      sends += 1;
    });
    assert.equal(sends, 2);
  });

  it('a hangup while draining is no error; other failures are thrown', async () => {
    const key = new StopDigit('D');
    await key.send(async () => undefined);
    await key.drain(waitingAgi([new AgiHangupError('hangup-line', 'WAIT FOR DIGIT')]).agi, null);
    await key.send(async () => undefined);
    await assert.rejects(key.drain(waitingAgi([new Error('socket closed')]).agi, null), /socket closed/);
  });
});
