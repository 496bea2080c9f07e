/**
 * record()'s refusals, before anything reaches Asterisk: bad options, no media directory, mp3
 * without lame, a signal nothing could honour without AMI, a call with no AGI session.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import type { AmiClient } from '../../src/ami/client.js';
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
