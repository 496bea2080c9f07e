/**
 * Live: every typed error and the hangup lifecycle against a real Asterisk 22: 510 (unknown
 * command, command whose module is not loaded), 520 (bad syntax), a real failure with the channel
 * up (AgiCommandError) versus a hangup (AgiHangupError, decided by agikit's CHANNEL STATUS probe),
 * the far leg hanging up mid-command and between commands, onHangup cleanup with dead-capable
 * commands, a command timeout, and the AGIKIT_STATUS the dialplan reads back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { HangupReason } from '../../src/errors.js';
import {
  AgiArgumentError,
  AgiCommandError,
  AgiHangupError,
  AgiInvalidCommandError,
  AgiSessionClosedError,
  AgiTimeoutError,
  AgiUsageError,
} from '../../src/errors.js';
import { far } from '../../src/testing/asterisk.js';
import { settle } from '../support/settle.js';
import { LiveRig, live, signal, skip } from './rig.js';

const HANGUP_REASONS: readonly HangupReason[] = ['hangup-line', 'dead-channel'];

describe('live: errors and hangups', () => {
  let rig: LiveRig | undefined;
  before(async () => {
    if (live.ok) rig = await LiveRig.start();
  });
  after(async () => {
    await rig?.stop();
  });

  it('510: an unknown command (raw send) and a typed command whose module is not loaded (AgiInvalidCommandError)', { skip }, async () => {
    assert.ok(rig);
    const asterisk = rig.asterisk;
    const got: Record<string, unknown> = {};
    await rig.run(async (agi) => {
      got['raw'] = (await agi.send('FOO BAR')).lines;
      got['empty'] = (await settle(agi.send(''))).error;
      const unloaded = await asterisk.cli('module unload app_stack.so');
      try {
        assert.match(unloaded, /Unloaded app_stack\.so/);
        got['typed'] = (await settle(agi.gosub('agikit-sub', 'echo', 1, ['x']))).error;
      } finally {
        // The harness's hangup handler needs app_stack again before this call ends.
        assert.match(await asterisk.cli('module load app_stack.so'), /Loaded app_stack\.so/);
      }
      got['again'] = await agi.gosub('agikit-sub', 'echo', 1, ['x']);
    });
    assert.deepEqual(got['raw'], ['510 Invalid or unknown command']);
    // An empty line would get 510 too; agikit refuses it before sending.
    assert.ok(got['empty'] instanceof AgiArgumentError);
    const typed = got['typed'];
    assert.ok(typed instanceof AgiInvalidCommandError, String(typed));
    assert.equal(typed.command, 'GOSUB');
    assert.deepEqual(got['again'], { abnormalExit: false });
  });

  it('520: bad syntax gives the usage block (raw send and AgiUsageError); the session stays in step', { skip }, async () => {
    assert.ok(rig);
    const got: Record<string, unknown> = {};
    await rig.run(async (agi) => {
      got['raw'] = await agi.send('WAIT FOR DIGIT notanumber');
      got['sayDigits'] = (await settle(agi.sayDigits('*12'))).error;
      got['setPriority'] = (await settle(agi.setPriority('no-such-label'))).error;
      got['next'] = await agi.getVariable('AGIKIT_CALL');
      got['local'] = (await settle(agi.waitForDigit(1.5))).error;
    });
    const raw = got['raw'] as { code: number; usage: string; lines: string[] };
    assert.equal(raw.code, 520);
    assert.equal(raw.lines[0], '520-Invalid command syntax.  Proper usage follows:');
    assert.equal(raw.lines.at(-1), '520 End of proper usage.');
    assert.match(raw.usage, /timeout/);
    for (const name of ['sayDigits', 'setPriority']) {
      const error = got[name];
      assert.ok(error instanceof AgiUsageError, `${name}: ${String(error)}`);
      assert.ok(error.usage.length > 20, `${name} carries Asterisk's usage text`);
    }
    assert.match((got['sayDigits'] as AgiUsageError).usage, /digit string/);
    assert.match(String(got['next']), /^lt/, 'the reply after two usage blocks is the right one');
    // Checked before anything is sent.
    assert.ok(got['local'] instanceof AgiArgumentError);
  });

  it('a real failure with the channel up is AgiCommandError (and makes AGISTATUS FAILURE); the session goes on', { skip }, async () => {
    assert.ok(rig);
    const got: Record<string, unknown> = {};
    const { result, end } = await rig.run(
      async (agi) => {
        got['missing'] = (await settle(agi.streamFile('no-such-sound'))).error;
        got['hungUp'] = agi.hangupReason;
        got['status'] = await agi.channelStatus();
      },
      { record: ['AGIKIT_STATUS'] },
    );
    const missing = got['missing'];
    assert.ok(missing instanceof AgiCommandError, String(missing));
    assert.deepEqual(missing.reply.lines, ['200 result=-1 endpos=0']);
    assert.equal(got['hungUp'], null);
    assert.equal(got['status'], 6);
    assert.equal(end.status, 'SUCCESS');
    assert.equal(result.variables['AGIKIT_STATUS'], 'SUCCESS');
    // Asterisk itself remembers the failed command: AGISTATUS is FAILURE although the app recovered.
    assert.equal(result.agiStatus, 'FAILURE');
  });

  it('the far leg hangs up mid-streamFile: AgiHangupError, hungUp resolves, onHangup runs dead-capable commands, AGIKIT_STATUS=HANGUP', { skip }, async () => {
    assert.ok(rig);
    const got: Record<string, unknown> = {};
    const { result, end } = await rig.run(
      async (agi) => {
        agi.onHangup(async (reason) => {
          await agi.setVariable('CLEANUP', `cleaned after ${reason}`);
          await agi.databasePut(`agikit-live-cleanup/${agi.env.extension}`, 'reason', reason);
          got['cleanupDb'] = await agi.databaseGet(`agikit-live-cleanup/${agi.env.extension}`, 'reason');
          got['cleanupExec'] = await agi.exec('Set', 'CLEANUP_EXEC=ran');
          await agi.verbose(`agikit-live cleanup ${agi.env.extension}`);
        });
        await signal(agi, 'playing');
        const played = await settle(agi.streamFile('tt-monkeys'));
        got['error'] = played.error;
        got['reason'] = await agi.hungUp;
        got['aborted'] = agi.signal.aborted;
        got['answer'] = (await settle(agi.answer())).error;
        throw played.error;
      },
      { far: [far.waitFor('playing'), far.hangup()], record: ['CLEANUP', 'CLEANUP_EXEC', 'AGIKIT_STATUS'], status: 'HANGUP' },
    );
    const error = got['error'];
    assert.ok(error instanceof AgiHangupError, String(error));
    assert.equal(error.command, 'STREAM FILE');
    assert.ok(HANGUP_REASONS.includes(error.reason), error.reason);
    assert.ok(HANGUP_REASONS.includes(got['reason'] as HangupReason));
    assert.equal(got['aborted'], true);
    // A non-dead command after the hangup fails fast, typed.
    assert.ok(got['answer'] instanceof AgiHangupError);
    assert.equal(end.error, error);
    assert.equal(result.agiStatus, 'HANGUP');
    assert.equal(result.variables['AGIKIT_STATUS'], 'HANGUP');
    assert.equal(result.variables['CLEANUP'], `cleaned after ${String(got['reason'])}`);
    assert.equal(result.variables['CLEANUP_EXEC'], 'ran');
    assert.equal(got['cleanupDb'], got['reason']);
    assert.equal(got['cleanupExec'], 0);
  });

  it('the far leg hangs up while the app is idle: the HANGUP line alone resolves hungUp', { skip }, async () => {
    assert.ok(rig);
    const got: Record<string, unknown> = {};
    const { result } = await rig.run(
      async (agi) => {
        await signal(agi, 'idle');
        got['reason'] = await agi.hungUp;
        got['status'] = (await settle(agi.channelStatus())).error;
        // What Asterisk itself answers a non-dead command now.
        got['raw'] = (await agi.send('CHANNEL STATUS')).lines;
        await agi.setVariable('AFTER', 'set on a dead channel');
      },
      { far: [far.waitFor('idle'), far.hangup()], record: ['AFTER', 'AGIKIT_STATUS'] },
    );
    assert.equal(got['reason'], 'hangup-line');
    const status = got['status'];
    assert.ok(status instanceof AgiHangupError);
    assert.equal(status.reason, 'hangup-line');
    assert.deepEqual(got['raw'], ['511 Command Not Permitted on a dead channel or intercept routine']);
    assert.equal(result.agiStatus, 'HANGUP');
    assert.equal(result.variables['AFTER'], 'set on a dead channel');
    assert.equal(result.variables['AGIKIT_STATUS'], 'SUCCESS');
  });

  it('with AGISIGHUP=no there is no HANGUP line: the probe after -1, or the next command\'s 511, tells the hangup (dead-channel)', { skip }, async () => {
    assert.ok(rig);
    const got: Record<string, unknown> = {};
    const { result } = await rig.run(
      async (agi) => {
        agi.onHangup((reason) => agi.setVariable('CLEANUP', reason));
        await signal(agi, 'playing');
        got['stream'] = (await settle(agi.streamFile('tt-monkeys'))).error;
        got['reason'] = await agi.hungUp;
      },
      { variables: { AGISIGHUP: 'no' }, far: [far.waitFor('playing'), far.hangup()], record: ['CLEANUP', 'AGIKIT_STATUS'], status: 'SUCCESS' },
    );
    const stream = got['stream'];
    assert.ok(stream instanceof AgiHangupError, String(stream));
    assert.equal(stream.reason, 'dead-channel');
    assert.equal(got['reason'], 'dead-channel');
    assert.equal(result.variables['CLEANUP'], 'dead-channel');
    assert.equal(result.variables['AGIKIT_STATUS'], 'SUCCESS');

    // Hung up between commands: nothing tells the app until it sends a non-dead command.
    let polls = 0;
    let idle: unknown;
    await rig.run(
      async (agi) => {
        await signal(agi, 'idle');
        const deadline = Date.now() + 10_000;
        for (;;) {
          const r = await settle(agi.channelStatus());
          polls += 1;
          if (r.error !== undefined || Date.now() > deadline) {
            idle = r.error;
            break;
          }
          await delay(20);
        }
        got['idleReason'] = agi.hangupReason;
      },
      { variables: { AGISIGHUP: 'no' }, far: [far.waitFor('idle'), far.hangup()] },
    );
    assert.ok(idle instanceof AgiHangupError, `after ${polls} polls: ${String(idle)}`);
    assert.equal(idle.reason, 'dead-channel');
    assert.equal(got['idleReason'], 'dead-channel');
  });

  it('with AGIEXITONHANGUP=yes Asterisk closes the connection at the hangup: later commands, even dead-capable ones, get socket-closed', { skip }, async () => {
    assert.ok(rig);
    const got: Record<string, unknown> = {};
    const { result } = await rig.run(
      async (agi) => {
        agi.onHangup(async () => {
          got['cleanup'] = (await settle(agi.setVariable('CLEANUP', 'ran'))).error;
        });
        await signal(agi, 'playing');
        got['stream'] = (await settle(agi.streamFile('tt-monkeys'))).error;
        got['reason'] = await agi.hungUp;
        got['after'] = (await settle(agi.getVariable('AGIKIT_CALL'))).error;
      },
      { variables: { AGIEXITONHANGUP: 'yes' }, far: [far.waitFor('playing'), far.hangup()], record: ['CLEANUP', 'AGIKIT_STATUS'] },
    );
    assert.ok(got['stream'] instanceof AgiHangupError);
    assert.equal(got['reason'], 'hangup-line');
    for (const name of ['cleanup', 'after']) {
      const error = got[name];
      assert.ok(error instanceof AgiHangupError, `${name}: ${String(error)}`);
      assert.equal(error.reason, 'socket-closed', name);
    }
    assert.deepEqual(result.variables, { CLEANUP: '', AGIKIT_STATUS: '' });
    assert.equal(result.agiStatus, 'HANGUP');
  });

  it('exec of an application that hangs up: its -1 is a hangup (AgiHangupError), not a failure', { skip }, async () => {
    assert.ok(rig);
    let error: unknown;
    const { result } = await rig.run(
      async (agi) => {
        error = (await settle(agi.exec('Hangup'))).error;
      },
      { record: ['AGIKIT_STATUS'] },
    );
    assert.ok(error instanceof AgiHangupError, String(error));
    assert.ok(HANGUP_REASONS.includes(error.reason));
    assert.equal(result.agiStatus, 'HANGUP');
  });

  it('a subroutine that hangs up: gosub resolves with abnormalExit (no -1), then hungUp resolves', { skip }, async () => {
    assert.ok(rig);
    const got: Record<string, unknown> = {};
    const { result } = await rig.run(async (agi) => {
      // Every priority of agikit-continue hangs up.
      got['gosub'] = await agi.gosub('agikit-continue', 's', 1);
      got['reason'] = await agi.hungUp;
      got['next'] = (await settle(agi.channelStatus())).error;
    });
    assert.deepEqual(got['gosub'], { abnormalExit: true });
    assert.equal(got['reason'], 'hangup-line');
    assert.ok(got['next'] instanceof AgiHangupError);
    assert.equal(result.agiStatus, 'HANGUP');
  });

  it('AGIKIT_STATUS=FAILURE when the handler throws; AGI() still returns normally and the dialplan continues', { skip }, async () => {
    assert.ok(rig);
    let priority = 0;
    const { result, end } = await rig.run(
      async (agi) => {
        priority = agi.env.priority;
        throw new Error('handler bug');
      },
      { record: ['AGIKIT_STATUS'], status: 'FAILURE' },
    );
    assert.match(String(end.error), /handler bug/);
    assert.equal(result.variables['AGIKIT_STATUS'], 'FAILURE');
    assert.equal(result.agiStatus, 'SUCCESS');
    assert.equal(result.location?.priority, priority + 1);
  });

  it('AGIKIT_STATUS=SUCCESS when the handler returns', { skip }, async () => {
    assert.ok(rig);
    const { result } = await rig.run(async (agi) => void (await agi.noop()), { record: ['AGIKIT_STATUS'] });
    assert.equal(result.variables['AGIKIT_STATUS'], 'SUCCESS');
    assert.equal(result.agiStatus, 'SUCCESS');
  });

  it('AGIKIT_STATUS=NOTFOUND for an unknown route; the dialplan continues', { skip }, async () => {
    assert.ok(rig);
    const { result, end } = await rig.run(
      () => {
        throw new Error('no handler may run for an unknown route');
      },
      { route: 'no/such/route', status: 'NOTFOUND', record: ['AGIKIT_STATUS'] },
    );
    assert.equal(end.error, undefined);
    assert.equal(result.variables['AGIKIT_STATUS'], 'NOTFOUND');
    assert.equal(result.agiStatus, 'SUCCESS');
    assert.equal(result.location?.priority, end.agi.env.priority + 1);
  });

  it('after exit(), commands throw AgiSessionClosedError and the call is back in the dialplan', { skip }, async () => {
    assert.ok(rig);
    let after: unknown;
    const { result } = await rig.run(
      async (agi) => {
        await agi.setVariable('BEFORE_EXIT', 'yes');
        await agi.exit();
        after = (await settle(agi.setVariable('AFTER_EXIT', 'yes'))).error;
      },
      { record: ['BEFORE_EXIT', 'AFTER_EXIT', 'AGIKIT_STATUS'] },
    );
    assert.ok(after instanceof AgiSessionClosedError, String(after));
    assert.deepEqual(result.variables, { BEFORE_EXIT: 'yes', AFTER_EXIT: '', AGIKIT_STATUS: 'SUCCESS' });
    assert.equal(result.agiStatus, 'SUCCESS');
  });

  it('a command that exceeds its timeoutMs throws AgiTimeoutError; the session is closed and the call goes back to the dialplan', { skip }, async () => {
    assert.ok(rig);
    let error: unknown;
    let closed: unknown;
    let priority = 0;
    const { result } = await rig.run(
      async (agi) => {
        priority = agi.env.priority;
        error = (await settle(agi.waitForDigit(20_000, { timeoutMs: 300 }))).error;
        closed = agi.closed;
      },
      { record: ['AGIKIT_STATUS'], timeoutMs: 15_000, status: 'TIMEOUT' },
    );
    assert.ok(error instanceof AgiTimeoutError, String(error));
    assert.equal(closed, true);
    // agikit half-closed the connection: Asterisk's WAIT FOR DIGIT was interrupted by the socket
    // becoming readable, the session ended normally and the dialplan continued.
    assert.equal(result.agiStatus, 'SUCCESS');
    assert.equal(result.location?.priority, priority + 1);
    // The session was out of step, so agikit did not wait for replies: it sent the status line and
    // its EOF together; Asterisk ran the line (which also stopped WAIT FOR DIGIT), then read the EOF.
    assert.equal(result.variables['AGIKIT_STATUS'], 'TIMEOUT');
  });

  it('a timeout while a command Asterisk cannot interrupt runs: its late reply is ignored, and the dialplan still reads AGIKIT_STATUS=TIMEOUT', { skip }, async () => {
    assert.ok(rig);
    let error: unknown;
    let timedOutAt = 0;
    const { result, end } = await rig.run(
      async (agi) => {
        const started = Date.now();
        // EXEC runs the application to its end whatever arrives on the socket (as Dial does).
        error = (await settle(agi.exec('Wait', '2', { timeoutMs: 300 }))).error;
        timedOutAt = Date.now() - started;
      },
      { record: ['AGIKIT_STATUS'], status: 'TIMEOUT', timeoutMs: 15_000 },
    );
    assert.ok(error instanceof AgiTimeoutError, String(error));
    assert.ok(timedOutAt < 1500, `the command timed out after ${timedOutAt} ms, before Wait(2) ended`);
    assert.equal(result.agiStatus, 'SUCCESS');
    assert.equal(result.variables['AGIKIT_STATUS'], 'TIMEOUT');
    assert.equal(end.agi.closeStatus, 'TIMEOUT');
  });
});
