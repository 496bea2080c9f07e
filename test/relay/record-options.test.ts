/**
 * record()'s options: the seed's defaults, every refusal (named), the mechanism chosen, and what
 * RECORD FILE and MixMonitor are given.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RelayArgumentError } from '../../src/relay/errors.js';
import {
  checkRecordOptions,
  hasEndConditions,
  mixMonitorArgs,
  RECORD_DEFAULTS,
  recordFileTimings,
  recordMechanism,
  type RecordOptions,
} from '../../src/relay/record-options.js';

describe('record options', () => {
  it('defaults: the seed\'s (wav instead of mp3), lane options and undefined values do not hide them', () => {
    const s = checkRecordOptions({ signal: new AbortController().signal, queue: false, beep: undefined });
    assert.deepEqual(s, { beep: false, stereo: false, format: 'wav', direction: 'speak', initialTimeout: 5, endSilenceTimeout: 1, terminators: '#*' });
    assert.deepEqual(s, RECORD_DEFAULTS);
  });

  it('keeps what was given; repeated terminators are sent once', () => {
    const s = checkRecordOptions({ beep: true, stereo: true, format: 'mp3', direction: 'both', initialTimeout: 0, endSilenceTimeout: 2.5, terminators: '##1D' });
    assert.deepEqual(s, { beep: true, stereo: true, format: 'mp3', direction: 'both', initialTimeout: 0, endSilenceTimeout: 2.5, terminators: '#1D' });
  });

  const refused: Array<[RecordOptions, RegExp]> = [
    [{ beep: 'yes' as unknown as boolean }, /beep must be true or false/],
    [{ stereo: 1 as unknown as boolean }, /stereo must be true or false/],
    [{ format: 'ogg' as 'wav' }, /format must be wav or mp3, not "ogg"/],
    [{ direction: 'in' as 'speak' }, /direction must be speak, listen, both, not "in"/],
    [{ initialTimeout: -1 }, /initialTimeout must be a number of seconds from 0 to 3600, not -1/],
    [{ endSilenceTimeout: Number.NaN }, /endSilenceTimeout must be/],
    [{ endSilenceTimeout: 3601 }, /endSilenceTimeout must be/],
    [{ terminators: '#x' }, /terminators may hold 0123456789\*#ABCD only, not "x"/],
    [{ terminators: 5 as unknown as string }, /terminators must be a string/],
  ];
  for (const [options, message] of refused) {
    it(`refuses ${JSON.stringify(options)} with a RelayArgumentError`, () => {
      assert.throws(() => checkRecordOptions(options), (error: unknown) => error instanceof RelayArgumentError && message.test(error.message));
    });
  }

  it('mechanism: RECORD FILE for a mono recording of the caller, MixMonitor for listen, both, stereo', () => {
    const mechanism = (o: RecordOptions): string => recordMechanism(checkRecordOptions(o));
    assert.equal(mechanism({}), 'record-file');
    assert.equal(mechanism({ direction: 'listen' }), 'mixmonitor');
    assert.equal(mechanism({ direction: 'both' }), 'mixmonitor');
    assert.equal(mechanism({ stereo: true }), 'mixmonitor');
  });

  it('end conditions: any of initialTimeout, endSilenceTimeout, terminators', () => {
    const none = { initialTimeout: 0, endSilenceTimeout: 0, terminators: '' };
    assert.equal(hasEndConditions(checkRecordOptions(none)), false);
    assert.equal(hasEndConditions(checkRecordOptions({ ...none, terminators: '#' })), true);
    assert.equal(hasEndConditions(checkRecordOptions({ ...none, initialTimeout: 1 })), true);
    assert.equal(hasEndConditions(checkRecordOptions({ ...none, endSilenceTimeout: 0.5 })), true);
  });

  it('RECORD FILE timings: silence rounded up to whole seconds, initial wait rounded up plus one second, 0 disables', () => {
    assert.deepEqual(recordFileTimings(checkRecordOptions({})), { silenceSeconds: 1, initialWaitSeconds: 6 });
    assert.deepEqual(recordFileTimings(checkRecordOptions({ endSilenceTimeout: 1.2, initialTimeout: 0.5 })), { silenceSeconds: 2, initialWaitSeconds: 2 });
    assert.deepEqual(recordFileTimings(checkRecordOptions({ endSilenceTimeout: 0, initialTimeout: 0 })), { silenceSeconds: undefined, initialWaitSeconds: undefined });
  });

  it('MixMonitor arguments: D into .raw for stereo, the mixed file for both, t() for listen; i() always, p for the beep', () => {
    const args = (o: RecordOptions, beep = false): unknown => mixMonitorArgs(checkRecordOptions(o), '/m/recordings/x', 'ID', beep);
    assert.deepEqual(args({ stereo: true }), { file: '/m/recordings/x.raw', options: 'Di(ID)', written: '/m/recordings/x.raw', kind: 'raw' });
    assert.deepEqual(args({ stereo: true, direction: 'listen' }, true), { file: '/m/recordings/x.raw', options: 'Di(ID)p', written: '/m/recordings/x.raw', kind: 'raw' });
    assert.deepEqual(args({ direction: 'both' }), { file: '/m/recordings/x.wav', options: 'i(ID)', written: '/m/recordings/x.wav', kind: 'wav' });
    assert.deepEqual(args({ direction: 'listen' }), { file: '', options: 't(/m/recordings/x.wav)i(ID)', written: '/m/recordings/x.wav', kind: 'wav' });
  });
});
