/**
 * Live: call control and the remaining commands against a real Asterisk 22: answer, hangup,
 * channelStatus, setAutoHangup, setCallerId, setContext/setExtension/setPriority (where the
 * dialplan really continues), exit(), exec, gosub, verbose, noop, asyncAgiBreak, text, image and
 * TDD on Local channels, and the speech commands with res_speech loaded but no engine.
 *
 * This file's Asterisk also loads app_sendtext (SendText/ReceiveText for the far leg) and has a
 * context with labels, [agikit-live-ctl], added to the default dialplan.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ChannelState } from '../../src/agi/results.js';
import { AgiCommandError, AgiHangupError, AgiUsageError } from '../../src/errors.js';
import { defaultAsteriskConfigDir, far } from '../../src/testing/asterisk.js';
import { settle } from '../support/settle.js';
import { LiveRig, live, signal, skip, waitSignal } from './rig.js';

const CONTEXT = 'agikit-live-ctl';

/** Dialplan added to the default extensions.conf for this file. */
const EXTRA_DIALPLAN = `
[${CONTEXT}]
exten => lab,1,Hangup()
 same => n,Hangup()
 same => n(target),Hangup()
 same => n,Hangup()
exten => sub,1,Set(SUB_SKIPPED=yes)
 same => n(entry),Set(SUB_ARGS=\${ARG1}|\${ARG2})
 same => n,Return(done-\${ARG1})
exten => fall,1,Set(FELL=yes)
; Gosub(${CONTEXT},sendtext,1(<call>,<variable>,<signal>)): send the text held in <variable> every
; 50 ms until the signal agikit-sync/<call>/<signal> is raised (a text frame that reaches the app
; between two commands is dropped, so one copy alone could be lost).
exten => sendtext,1,Set(LOCAL(n)=0)
 same => n(again),SendText(\${\${ARG2}})
 same => n,GotoIf(\${DB_EXISTS(agikit-sync/\${ARG1}/\${ARG3})}?done)
 same => n,Set(LOCAL(n)=$[\${LOCAL(n)} + 1])
 same => n,GotoIf($[\${LOCAL(n)} >= 200]?done)
 same => n,Wait(0.05)
 same => n,Goto(again)
 same => n(done),Return()
`;

function defaultConf(name: string): string {
  return readFileSync(path.join(defaultAsteriskConfigDir(), name), 'utf8');
}

/** The far half (;2) of the Local pair whose ;1 half runs the AGI. */
function farHalf(channel: string): string {
  return channel.replace(/;1$/, ';2');
}

describe('live: call control and the other commands', { concurrency: true }, () => {
  let rig: LiveRig | undefined;
  before(async () => {
    if (!live.ok) return;
    rig = await LiveRig.start({
      config: {
        'modules.conf': `${defaultConf('modules.conf')}\nload => app_sendtext.so\n`,
        'extensions.conf': `${defaultConf('extensions.conf')}\n${EXTRA_DIALPLAN}`,
      },
    });
  });
  after(async () => {
    await rig?.stop();
  });

  it('answer on an answered channel is fine; channelStatus of this channel, of a named one, of a missing one', { skip }, async () => {
    assert.ok(rig);
    const got: Record<string, unknown> = {};
    await rig.run(async (agi) => {
      got['before'] = await agi.channelStatus();
      got['answer'] = await agi.answer();
      got['after'] = await agi.channelStatus();
      got['far'] = await agi.channelStatus(farHalf(agi.env.channel));
      got['missing'] = await settle(agi.channelStatus('Local/nobody@nowhere-00000000;1'));
    });
    assert.equal(got['before'], ChannelState.Up);
    assert.equal(got['answer'], undefined);
    assert.equal(got['after'], ChannelState.Up);
    assert.equal(got['far'], ChannelState.Up);
    assert.ok((got['missing'] as { error?: unknown }).error instanceof AgiCommandError);
  });

  it('hangup() hangs up this channel: hungUp resolves, non-dead commands throw AgiHangupError, setVariable still works', { skip }, async () => {
    assert.ok(rig);
    const got: Record<string, unknown> = {};
    let priority = 0;
    const { result } = await rig.run(
      async (agi) => {
        priority = agi.env.priority;
        got['missing'] = (await settle(agi.hangup('Local/nobody@nowhere-00000000;1'))).error;
        got['hangup'] = await agi.hangup();
        got['reason'] = await agi.hungUp;
        got['aborted'] = agi.signal.aborted;
        got['status'] = (await settle(agi.channelStatus())).error;
        await agi.setVariable('AFTER_HANGUP', 'still works');
      },
      { record: ['AFTER_HANGUP', 'AGIKIT_STATUS'] },
    );
    assert.ok(got['missing'] instanceof AgiCommandError);
    assert.equal(got['hangup'], undefined);
    assert.equal(got['reason'], 'hangup-line');
    assert.equal(got['aborted'], true);
    assert.ok(got['status'] instanceof AgiHangupError);
    assert.equal(result.agiStatus, 'HANGUP');
    assert.equal(result.variables['AFTER_HANGUP'], 'still works');
    // The handler returned normally, so the session's status is SUCCESS even though the call is gone.
    assert.equal(result.variables['AGIKIT_STATUS'], 'SUCCESS');
    // AGI() returned -1: the dialplan did not continue past it.
    assert.equal(result.location?.priority, priority);
  });

  it('hangup(far half) hangs up the other leg, and this side with it', { skip }, async () => {
    assert.ok(rig);
    let reason: unknown;
    const { result } = await rig.run(async (agi) => {
      await agi.hangup(farHalf(agi.env.channel));
      reason = await agi.hungUp;
    });
    assert.equal(reason, 'hangup-line');
    assert.equal(result.agiStatus, 'HANGUP');
  });

  it('setAutoHangup: 0 cancels it; otherwise the channel hangs up after that many seconds', { skip }, async () => {
    assert.ok(rig);
    const got: Record<string, unknown> = {};
    const { result } = await rig.run(async (agi) => {
      await agi.setAutoHangup(0.2);
      await agi.setAutoHangup(0);
      got['cancelled'] = await agi.waitForDigit(600);
      await agi.setAutoHangup(0.2);
      got['cut'] = (await settle(agi.waitForDigit(10_000))).error;
      got['reason'] = await agi.hungUp;
    });
    assert.equal(got['cancelled'], null);
    assert.ok(got['cut'] instanceof AgiHangupError, String(got['cut']));
    assert.ok(['hangup-line', 'dead-channel'].includes(got['reason'] as string));
    assert.equal(result.agiStatus, 'HANGUP');
  });

  it('setCallerId replaces name and number (the number shrunk); a bare number clears the name', { skip }, async () => {
    assert.ok(rig);
    const got: Record<string, unknown> = {};
    const { result } = await rig.run(
      async (agi) => {
        await agi.setCallerId({ name: 'Zoë Quote', number: '+1 (555) 010-0200' });
        got['first'] = await agi.getFullVariable('${CALLERID(name)}|${CALLERID(num)}');
        await agi.setCallerId('"Text Form" <555.0300>');
        got['text'] = await agi.getFullVariable('${CALLERID(name)}|${CALLERID(num)}');
        await agi.setCallerId('5551000');
      },
      { callerId: { number: '100', name: 'Original' }, record: ['CALLERID(name)', 'CALLERID(num)'] },
    );
    assert.equal(got['first'], 'Zoë Quote|+15550100200');
    assert.equal(got['text'], 'Text Form|5550300');
    assert.deepEqual(result.variables, { 'CALLERID(name)': '', 'CALLERID(num)': '5551000' });
  });

  it('setContext + setExtension + setPriority, then exit(): the dialplan continues exactly there, without hanging up', { skip }, async () => {
    assert.ok(rig);
    let closedAfterExit: unknown;
    const { result } = await rig.run(
      async (agi) => {
        await agi.setContext('agikit-continue');
        await agi.setExtension('200');
        await agi.setPriority(3);
        await agi.exit();
        closedAfterExit = agi.closed;
      },
      { record: ['AGIKIT_STATUS'] },
    );
    assert.equal(closedAfterExit, true);
    assert.equal(result.agiStatus, 'SUCCESS');
    assert.equal(result.variables['AGIKIT_STATUS'], 'SUCCESS');
    assert.deepEqual(result.location, { context: 'agikit-continue', extension: '200', priority: 3 });
  });

  it('setPriority(label) is looked up in the context and extension set before it; exit() then continues there', { skip }, async () => {
    assert.ok(rig);
    let unknown: unknown;
    const { result } = await rig.run(async (agi) => {
      await agi.setContext(CONTEXT);
      await agi.setExtension('lab');
      unknown = (await settle(agi.setPriority('no-such-label'))).error;
      await agi.setPriority('target');
      await agi.exit();
    });
    assert.ok(unknown instanceof AgiUsageError, String(unknown));
    assert.match(unknown.usage, /priority/i);
    assert.deepEqual(result.location, { context: CONTEXT, extension: 'lab', priority: 3 });
  });

  it('setContext + setExtension without setPriority: the dialplan continues at the old priority + 1', { skip }, async () => {
    assert.ok(rig);
    let priority = 0;
    const { result } = await rig.run(async (agi) => {
      priority = agi.env.priority;
      await agi.setContext('agikit-continue');
      await agi.setExtension('s');
    });
    assert.deepEqual(result.location, { context: 'agikit-continue', extension: 's', priority: priority + 1 });
  });

  it('exit() with nothing changed continues at the next priority of the calling dialplan', { skip }, async () => {
    assert.ok(rig);
    let env: { context: string; extension: string; priority: number } | undefined;
    const { result } = await rig.run(async (agi) => {
      env = { context: agi.env.context, extension: agi.env.extension, priority: agi.env.priority };
      await agi.exit();
    });
    assert.ok(env);
    assert.equal(result.agiStatus, 'SUCCESS');
    assert.deepEqual(result.location, { ...env, priority: env.priority + 1 });
  });

  it('exec runs applications with their own argument syntax; AGIEXECFULL turns on substitution; an unknown app throws', { skip }, async () => {
    assert.ok(rig);
    const got: Record<string, unknown> = {};
    const { result, call } = await rig.run(
      async (agi) => {
        got['playback'] = await agi.exec('Playback', 'beep');
        got['playbackStatus'] = await agi.getVariable('PLAYBACKSTATUS');
        got['missingFile'] = await agi.exec('Playback', 'no-such-sound');
        got['missingStatus'] = await agi.getVariable('PLAYBACKSTATUS');
        got['set'] = await agi.exec('Set', 'EXEC_V=a "quoted" value, with comma');
        got['literal'] = await agi.exec('Set', 'EXEC_RAW=${AGIKIT_CALL}');
        await agi.setVariable('AGIEXECFULL', 'yes');
        got['full'] = await agi.exec('Set', 'EXEC_FULL=${AGIKIT_CALL}');
        got['unknown'] = (await settle(agi.exec('NoSuchApplication', 'x'))).error;
        await waitSignal(agi, 'reading');
        got['dtmf'] = await agi.exec('SendDTMF', '1', '2', '3');
      },
      {
        record: ['EXEC_V', 'EXEC_RAW', 'EXEC_FULL'],
        // Raised right before Read() starts, so no digit is sent too early.
        far: [far.signal('reading'), far.read('got', { maxDigits: 1, timeoutSeconds: 10 })],
      },
    );
    assert.equal(got['playback'], 0);
    assert.equal(got['playbackStatus'], 'SUCCESS');
    assert.equal(got['missingFile'], 0);
    assert.equal(got['missingStatus'], 'FAILED');
    assert.equal(got['set'], 0);
    assert.equal(got['literal'], 0);
    assert.equal(got['full'], 0);
    assert.ok(got['unknown'] instanceof AgiCommandError);
    assert.deepEqual(got['unknown'].reply.lines, ['200 result=-2']);
    assert.equal(got['dtmf'], 0);
    assert.equal(result.variables['EXEC_V'], 'a "quoted" value, with comma');
    assert.equal(result.variables['EXEC_RAW'], '${AGIKIT_CALL}');
    assert.equal(result.variables['EXEC_FULL'], call.id);
    // SendDTMF(1,2,3): digits "1", 2 ms between, 3 ms long; the far leg's Read() got the digit.
    assert.equal(result.farDigits['got'], '1');
  });

  it('gosub: arguments, a label, GOSUB_RETVAL, location restored; the 100 Trying line; abnormal exit; unknown label', { skip }, async () => {
    assert.ok(rig);
    const got: Record<string, unknown> = {};
    let env: { context: string; extension: string; priority: string } | undefined;
    await rig.run(async (agi) => {
      env = { context: agi.env.context, extension: agi.env.extension, priority: String(agi.env.priority) };
      got['echo'] = await agi.gosub('agikit-sub', 'echo', 1, ['a b', 'c']);
      got['echoVars'] = await agi.getFullVariable('${GOSUB_RETVAL}|${AGIKIT_SUB_ARGS}');
      got['label'] = await agi.gosub(CONTEXT, 'sub', 'entry', ['x', 42]);
      got['labelVars'] = await agi.getFullVariable('${GOSUB_RETVAL}|${SUB_ARGS}|${SUB_SKIPPED}');
      got['where'] = await agi.getFullVariable('${CONTEXT}|${EXTEN}|${PRIORITY}');
      got['raw'] = (await agi.send('GOSUB agikit-sub echo 1 raw')).lines;
      got['fall'] = await agi.gosub(CONTEXT, 'fall', 1);
      got['fell'] = await agi.getVariable('FELL');
      got['status'] = await agi.channelStatus();
      got['missing'] = (await settle(agi.gosub(CONTEXT, 'no-such-extension', 1))).error;
    });
    assert.ok(env);
    assert.deepEqual(got['echo'], { abnormalExit: false });
    assert.equal(got['echoVars'], 'a b|a b|c');
    assert.deepEqual(got['label'], { abnormalExit: false });
    assert.equal(got['labelVars'], 'done-x|x|42|');
    assert.equal(got['where'], `${env.context}|${env.extension}|${env.priority}`);
    assert.deepEqual(got['raw'], ['100 result=0 Trying...', '200 result=0 Gosub complete']);
    // A subroutine that ends without Return(): the channel stays up.
    assert.deepEqual(got['fall'], { abnormalExit: true });
    assert.equal(got['fell'], 'yes');
    assert.equal(got['status'], ChannelState.Up);
    assert.ok(got['missing'] instanceof AgiCommandError);
    assert.deepEqual(got['missing'].reply.lines, ['200 result=-1 Gosub label not found']);
  });

  it('verbose logs at its level; noop and asyncAgiBreak do nothing and the session goes on', { skip }, async () => {
    assert.ok(rig);
    const marker = `agikit-live-${randomBytes(4).toString('hex')}`;
    const got: unknown[] = [];
    const { call } = await rig.run(async (agi) => {
      got.push(await agi.verbose(`${marker} level 1 "quoted" ✓`, 1));
      got.push(await agi.verbose(`${marker} level 4`, 4));
      got.push(await agi.noop(`${marker} noop`));
      got.push(await agi.asyncAgiBreak());
      got.push(await agi.channelStatus());
    });
    assert.deepEqual(got, [undefined, undefined, undefined, undefined, ChannelState.Up]);
    const lines = await rig.logShows([`${marker} level 1 "quoted" ✓`, `AGIKIT-DONE ${call.id}`]);
    // The console runs at verbosity 3: the level 4 message is not printed.
    assert.equal(lines.filter((l) => l.includes(`${marker} level 4`)).length, 0);
  });

  it('sendText reaches the far leg; receiveText/receiveChar get its text, or null on timeout; sendImage and tddMode', { skip }, async () => {
    assert.ok(rig);
    const key = randomBytes(4).toString('hex');
    const got: Record<string, unknown> = {};
    await rig.run(
      async (agi) => {
        got['noText'] = await agi.receiveText(100);
        got['noChar'] = await agi.receiveChar(100);
        await waitSignal(agi, 'far-receiving');
        got['sent'] = await agi.sendText('héllo (wörld) "1"');
        await signal(agi, 'app-receiving');
        got['text'] = await agi.receiveText(10_000);
        got['char'] = await agi.receiveChar(10_000);
        await signal(agi, 'app-received');
        got['image'] = await agi.sendImage('no-such-image');
        got['tddOn'] = await agi.tddMode('on');
        got['tddOff'] = await agi.tddMode('off');
        got['status'] = await agi.channelStatus();
      },
      {
        far: [
          far.signal('far-receiving'),
          far.app('ReceiveText', '10'),
          far.app('Set', `DB(agikit-live-text/${key})=\${RECEIVETEXTMESSAGE}`),
          far.app('Set', 'TEXT=Zed (reply) ✓'),
          far.waitFor('app-receiving'),
          far.app('Gosub', `${CONTEXT},sendtext,1(\${EXTEN},TEXT,app-received)`),
        ],
      },
    );
    assert.deepEqual(got, {
      noText: null,
      noChar: null,
      sent: undefined,
      text: 'Zed (reply) ✓',
      // The first character of the (repeated) text.
      char: 'Z',
      image: undefined,
      // Local channels are not TDD-capable.
      tddOn: false,
      tddOff: false,
      status: ChannelState.Up,
    });
    assert.equal(await rig.asterisk.dbGet('agikit-live-text', key), 'héllo (wörld) "1"');
  });

  it('speech commands with res_speech but no engine: each throws AgiCommandError, the channel stays up', { skip }, async () => {
    assert.ok(rig);
    assert.match(await rig.asterisk.cli('module show like res_speech.so'), /res_speech\.so\s.*Running/);
    const errors: Record<string, unknown> = {};
    let status: unknown;
    await rig.run(async (agi) => {
      const attempts: Record<string, () => Promise<unknown>> = {
        create: () => agi.speechCreate(),
        createNamed: () => agi.speechCreate('no-such-engine'),
        set: () => agi.speechSet('name', 'value'),
        load: () => agi.speechLoadGrammar('g', '/tmp/no-grammar'),
        activate: () => agi.speechActivateGrammar('g'),
        deactivate: () => agi.speechDeactivateGrammar('g'),
        recognize: () => agi.speechRecognize('beep', 1),
        unload: () => agi.speechUnloadGrammar('g'),
        destroy: () => agi.speechDestroy(),
      };
      for (const [name, attempt] of Object.entries(attempts)) errors[name] = (await settle(attempt())).error;
      status = await agi.channelStatus();
    });
    for (const [name, error] of Object.entries(errors)) {
      assert.ok(error instanceof AgiCommandError, `${name}: ${String(error)}`);
      assert.deepEqual(error.reply.lines, ['200 result=0'], name);
    }
    assert.equal(status, ChannelState.Up);
  });
});
