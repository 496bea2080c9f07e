/**
 * Live: the Relay Call's core against a real Asterisk 22: properties of an inbound call, states and
 * their events, waitFor*, answer, hangup (with the reason Asterisk records), and a Consumer context
 * that is not served. Skipped, with the reason, when Docker or the image cannot be had.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Call } from '../../src/relay/call.js';
import type { CallState } from '../../src/relay/state.js';
import { far } from '../../src/testing/asterisk.js';
import { CONTEXT, RelayRig, live, skip } from './relay-rig.js';
import { newCallId } from './rig.js';
import { within } from '../support/settle.js';

/** hangup({ reason }) for three reasons: the result, the state after, and the cause Asterisk recorded. */
async function hangupReasons(rig: RelayRig): Promise<void> {
  for (const [reason, cause] of [
    ['hangup', 16],
    ['busy', 17],
    ['decline', 21],
  ] as const) {
    let result: unknown;
    let afterwards: unknown[] = [];
    const { result: recorded } = await rig.run(async (call) => {
      const hangup = await call.hangup({ reason });
      result = { successful: hangup.successful, reason: hangup.reason, state: call.state };
      afterwards = [await call.waitFor('ringing'), await call.waitForEnded(), (await call.answer()).successful];
    });
    assert.deepEqual(result, { successful: true, reason, state: 'ended' }, reason);
    assert.deepEqual(afterwards, [true, true, false], reason);
    assert.equal(recorded.hangupCause, cause, `Asterisk recorded the cause of hangup({ reason: '${reason}' })`);
  }
}

/** Records every state event of a call, in order. */
function watch(call: Call): string[] {
  const seen: string[] = [];
  call.on('stateChange', (state, previous) => seen.push(`${previous}->${state}`));
  for (const name of ['ringing', 'answered', 'ending', 'ended'] as const) call.on(name, () => seen.push(name));
  return seen;
}

describe('live: Relay Call core', { concurrency: true }, () => {
  let rig: RelayRig | undefined;
  before(async () => {
    if (live.ok) rig = await RelayRig.start();
  });
  after(async () => {
    await rig?.stop();
  });

  it('an inbound call: properties, answered state, answer(); the far leg hangs up busy (17): ending, ended, busy', { skip }, async () => {
    assert.ok(rig);
    let seen: string[] = [];
    let props: Record<string, unknown> = {};
    let final: Record<string, unknown> = {};
    const { call: placed } = await rig.run(
      async (call) => {
        props = {
          idMatches: call.id === call.agi?.env.uniqueid,
          callType: call.callType,
          fromNumber: call.fromNumber,
          context: call.context,
          state: call.state,
          prevState: call.prevState,
          active: call.active,
          answered: call.answered,
          ended: call.ended,
        };
        seen = watch(call);
        const answer = await call.answer();
        assert.equal(answer.successful, true);
        assert.equal(await call.waitForAnswered(), true, 'already answered');
        assert.equal(await call.waitForRinging(), true, 'ringing is behind it');
        await call.agi?.databasePut(`agikit-sync/${call.toNumber}`, 'hang-up-now', '1');
        assert.equal(await within(call.waitForEnded(), 10_000, 'the call to end'), true);
        final = { state: call.state, prevState: call.prevState, active: call.active, ended: call.ended, busy: call.busy, reason: call.hangupReason, answered: call.answered };
        assert.equal(await call.waitForAnswered(), true, 'a call that was answered stays answered');
      },
      { callerId: { number: '+15551230000', name: 'Relay Test' }, far: [far.waitFor('hang-up-now'), far.hangup(17)] },
    );
    assert.deepEqual(props, {
      idMatches: true,
      callType: 'phone',
      fromNumber: '+15551230000',
      context: CONTEXT,
      state: 'answered',
      prevState: 'created',
      active: true,
      answered: true,
      ended: false,
    });
    assert.ok(placed.id);
    assert.deepEqual(seen, ['answered->ending', 'ending', 'ending->ended', 'ended']);
    assert.deepEqual(final, { state: 'ended', prevState: 'ending', active: false, ended: true, busy: true, reason: 'busy', answered: true });
  });

  it('hangup() ends the call with cause 16 (reason hangup); hangup({ reason: "busy" }) with 17; waitFor after the end is false', { skip }, async () => {
    assert.ok(rig);
    await hangupReasons(rig);
  });

  it('a call that rings into the consumer: state ringing, then answer() moves it to answered', { skip }, async () => {
    assert.ok(rig);
    const id = newCallId();
    // The called side of a Local channel runs the AGI before anyone answers it.
    const commands = [
      `dialplan add extension ${id},1,AGI(agi://127.0.0.1:${rig.port}/relay/${CONTEXT}) into relay-live-in`,
      `dialplan add extension ${id},2,Hangup() into relay-live-in`,
      `dialplan add extension s,1,Wait(10) into relay-live-caller`,
    ];
    for (const command of commands) await rig.asterisk.cli(command);
    const states: CallState[] = [];
    let seen: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      rig?.addScript(id, async (call) => {
        try {
          states.push(call.state);
          seen = watch(call);
          const answered = call.waitForAnswered();
          assert.equal((await call.answer()).successful, true);
          assert.equal(await answered, true);
          states.push(call.state);
          await call.hangup();
          resolve();
        } catch (error) {
          reject(error);
        }
      });
    });
    await rig.asterisk.cli(`channel originate Local/${id}@relay-live-in extension s@relay-live-caller`);
    await within(done, 15_000, 'the ringing call to be answered and hung up');
    assert.deepEqual(states, ['ringing', 'answered']);
    assert.deepEqual(seen.slice(0, 2), ['ringing->answered', 'answered']);
  });

  it('a listener that throws is logged and does not break the call', { skip }, async () => {
    assert.ok(rig);
    let ended = false;
    await rig.run(async (call) => {
      call.on('ending', () => {
        throw new Error('listener bug');
      });
      call.on('ended', () => {
        ended = true;
      });
      assert.equal((await call.hangup()).successful, true);
    });
    assert.equal(ended, true);
  });

  it('a context the consumer does not serve: AGIKIT_STATUS=NOTFOUND and the dialplan continues', { skip }, async () => {
    assert.ok(rig);
    const placed = await rig.asterisk.originate({ agi: { port: rig.port, route: 'relay/elsewhere' }, record: ['AGIKIT_STATUS'] });
    const result = await placed.result();
    assert.equal(result.variables['AGIKIT_STATUS'], 'NOTFOUND');
  });
});

describe('live: Relay Call core without AMI (the AGI-only subset)', () => {
  let rig: RelayRig | undefined;
  before(async () => {
    if (live.ok) rig = await RelayRig.start({ ami: false });
  });
  after(async () => {
    await rig?.stop();
  });

  it('hangup({ reason }) goes through the Hangup application: the same causes reach Asterisk', { skip }, async () => {
    assert.ok(rig);
    await hangupReasons(rig);
  });
});
