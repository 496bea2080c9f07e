/**
 * record()'s refusals, before anything reaches Asterisk: bad options, no media directory, mp3
 * without lame, a signal nothing could honour without AMI, a call with no AGI session; and how a
 * MixMonitor over a fake AMI reads TALK_DETECT's events.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import type { AmiClient } from '../../src/ami/client.js';
import { AmiMessage } from '../../src/ami/message.js';
import { within, WAIT_MS } from '../support/settle.js';
import { Call } from '../../src/relay/call.js';
import { CallNotControllableError, RelayArgumentError, RelayCapabilityError } from '../../src/relay/errors.js';
import { RelayRuntime, type RelayOptions } from '../../src/relay/runtime.js';

const dir = mkdtempSync('/tmp/agikit-record-unit-');
after(() => rmSync(dir, { recursive: true, force: true }));

/** A call known through AMI only (no AGI session attached). */
function call(options: RelayOptions): Call {
  return new Call(new RelayRuntime(options), { id: 'u1', context: 'c', fromNumber: '', toNumber: '', channel: 'Local/x;1' });
}

const capability = (name: string, method: RegExp) => (error: unknown) => error instanceof RelayCapabilityError && error.capability === name && method.test(error.message);

describe('record refusals', () => {
  const media = { directory: { local: dir } };

  it('a bad option: RelayArgumentError', async () => {
    await assert.rejects(call({ media }).record({ direction: 'sideways' as 'speak' }), RelayArgumentError);
  });

  it('no media directory: RelayCapabilityError media-directory', async () => {
    await assert.rejects(call({}).record(), capability('media-directory', /^record needs a media directory/));
  });

  it('without AMI, a signal on a RECORD FILE (or on the RECORD FILE watching a MixMonitor): RelayCapabilityError ami', async () => {
    const signal = new AbortController().signal;
    await assert.rejects(call({ media }).record({ signal }), capability('ami', /^record\(\{ signal \}\) needs an AMI connection/));
    await assert.rejects(call({ media }).recordAsync({ signal, direction: 'both' }), capability('ami', /record\(\{ signal \}\)/));
  });

  it('a call with no AGI session: CallNotControllableError for what needs it; a MixMonitor over AMI does not', async () => {
    const ami = { action: async () => Promise.reject(new Error('no Asterisk here')), on: () => undefined, off: () => undefined } as unknown as AmiClient;
    await assert.rejects(call({ media, ami }).record(), CallNotControllableError);
    await assert.rejects(call({ media }).record({ direction: 'both' }), CallNotControllableError);
    // Over AMI a MixMonitor needs no AGI; this one fails at Asterisk's door and ends unsuccessful.
    const result = await call({ media, ami }).record({ direction: 'both' });
    assert.equal(result.successful, false);
  });

  it('a MixMonitor ended by TALK_DETECT counts a ChannelTalkingStop only after its own ChannelTalkingStart (a late one of an earlier TALK_DETECT does not end it)', async () => {
    const listeners = new Set<(event: AmiMessage) => void>();
    const actions: string[] = [];
    const emit = (name: string) => {
      for (const listener of [...listeners]) listener(new AmiMessage([['Event', name], ['Uniqueid', 'u1']]));
    };
    let talkDetectSet!: () => void;
    const armed = new Promise<void>((resolve) => (talkDetectSet = resolve));
    const ami = {
      connected: true,
      channel: (_id: string, listener: (event: AmiMessage) => void) => {
        listeners.add(listener);
        return { active: true, unsubscribe: () => listeners.delete(listener) };
      },
      action: async (name: string, fields: Record<string, unknown>) => {
        actions.push(`${name}${fields['Variable'] ? `:${String(fields['Variable'])}` : ''}`);
        if (name === 'Setvar' && fields['Variable'] === 'TALK_DETECT(set)') setImmediate(talkDetectSet);
        return new AmiMessage([['Response', 'Success'], ['MixMonitorID', 'm1']]);
      },
    } as unknown as AmiClient;
    const answered = call({ media, ami });
    answered.advance('answered');
    const recording = await answered.recordAsync({ direction: 'both', endSilenceTimeout: 1 });
    await armed;
    emit('ChannelTalkingStop');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(recording.completed, false, `a Stop before any Start does not end it (${JSON.stringify(recording.result)} ${actions.join(' ')})`);
    emit('ChannelTalkingStart');
    emit('ChannelTalkingStop');
    const result = await within(recording.done, WAIT_MS, 'the recording to end');
    assert.equal(result.event?.name, 'ami.ChannelTalkingStop');
    assert.deepEqual(actions, ['MixMonitor', 'Setvar:TALK_DETECT(set)', 'Setvar:TALK_DETECT(remove)', 'StopMixMonitor']);
  });

  it('mp3 where no lame is on the PATH: RelayCapabilityError mp3-encoder, nothing recorded', () => {
    const module = new URL('../../src/relay/call.js', import.meta.url).href;
    const runtime = new URL('../../src/relay/runtime.js', import.meta.url).href;
    const script = `
      const { Call } = await import(${JSON.stringify(module)});
      const { RelayRuntime } = await import(${JSON.stringify(runtime)});
      const call = new Call(new RelayRuntime({ media: { directory: { local: ${JSON.stringify(dir)} } } }), { id: 'u', context: 'c', fromNumber: '', toNumber: '' });
      await call.record({ format: 'mp3' }).then(() => console.log('recorded'), (e) => console.log(e.name, e.capability, e.message));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, PATH: '/nonexistent' } });
    assert.match(r.stdout, /^RelayCapabilityError mp3-encoder record needs the LAME MP3 encoder/, r.stderr);
  });
});
