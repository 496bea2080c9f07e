/**
 * Live: a stdio AGI script built on `runStdio` (test/live/fixtures/stdio-app.ts), started by
 * Asterisk itself with `AGI(/path/script)` inside the container (Node.js is in the image; the
 * built package is mounted read-only at /opt/agikit). Checks the header, a variable round trip and
 * a digit, and that a far-leg hangup reaches the script as SIGHUP and it ends cleanly.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { agikitPackageRoot, far, type LiveCall, type OriginateOptions } from '../../src/testing/asterisk.js';
import { LiveRig, live, skip } from './rig.js';

const MOUNT = '/opt/agikit';
const WRAPPER = '/tmp/agikit-live-stdio.sh';

/** Container processes running the fixture script (pid and command line). */
async function fixtureProcesses(rig: LiveRig): Promise<string[]> {
  const r = await rig.asterisk.exec(['sh', '-c', 'for p in /proc/[0-9]*; do printf "%s " "${p#/proc/}"; tr "\\0" " " < $p/cmdline 2>/dev/null; echo; done']);
  return r.stdout.split('\n').filter((line) => /^\d+ node \S*stdio-app\.js/.test(line));
}

describe('live: stdio AGI scripts (runStdio) run by Asterisk', () => {
  let rig: LiveRig | undefined;
  before(async () => {
    if (!live.ok) return;
    const root = agikitPackageRoot();
    assert.ok(root, 'agikit package root');
    const fixture = fileURLToPath(new URL('./fixtures/stdio-app.js', import.meta.url));
    const inContainer = path.posix.join(MOUNT, path.relative(root, fixture).split(path.sep).join('/'));
    rig = await LiveRig.start({ bindMounts: [{ source: root, target: MOUNT }] });
    const check = await rig.asterisk.exec(['test', '-f', inContainer]);
    assert.equal(check.exitCode, 0, `${inContainer} is not visible in the container: the Docker engine cannot mount ${root}`);
    await rig.asterisk.writeFile(WRAPPER, `#!/bin/sh\nexec node ${inContainer} --agikit-live-stdio "$@"\n`, 0o755);
  });
  after(async () => {
    await rig?.stop();
  });

  /** The script exited with 0, no copy of it is left running, and it logged no warning or error. */
  async function assertEndedCleanly(call: LiveCall): Promise<void> {
    assert.ok(rig);
    const exit = await rig.asterisk.readFile(`/tmp/agikit-live-stdio-exit-${call.id}`);
    assert.equal(exit.toString(), '0', 'exit code');
    assert.deepEqual(await fixtureProcesses(rig), [], 'script processes left running');
    // pino writes the script's warnings and errors (level 40+) as JSON lines to stderr: Asterisk's console.
    const complaints = rig.asterisk
      .logs()
      .split('\n')
      .filter((line) => line.includes(`agikit-far`) && line.includes(`/${call.id}@`) && /"level":(4|5|6)0/.test(line));
    assert.deepEqual(complaints, []);
  }

  function originate(options: Omit<OriginateOptions, 'agi'>): Promise<LiveCall> {
    assert.ok(rig);
    return rig.asterisk.originate({ agi: WRAPPER, timeoutMs: 20_000, ...options });
  }

  it('reads the header, round-trips a variable and reads a digit', { skip }, async () => {
    assert.ok(rig);
    const value = 'stdio "quoted" \\ Zoë ✓ (x)';
    const call = await originate({
      args: ['core', value],
      callerId: { number: '5550001' },
      far: [far.waitFor('ready'), far.dtmf('7')],
      record: ['STDIO_ENV', 'STDIO_V', 'STDIO_READ', 'STDIO_DIGIT', 'AGIKIT_STATUS'],
    });
    const result = await call.result();
    const env = JSON.parse(result.variables['STDIO_ENV'] ?? '{}') as Record<string, unknown>;
    assert.equal(env['request'], WRAPPER);
    assert.equal(env['network'], false);
    assert.equal(env['networkScript'], '');
    assert.equal(env['path'], '/');
    assert.equal(env['type'], 'Local');
    assert.equal(env['context'], call.appContext);
    assert.equal(env['extension'], call.id);
    assert.equal(env['callerid'], '5550001');
    assert.equal(env['enhanced'], false);
    assert.deepEqual(env['args'], ['core', value]);
    assert.equal(result.variables['STDIO_V'], value);
    assert.equal(result.variables['STDIO_READ'], value);
    assert.equal(result.variables['STDIO_DIGIT'], '7');
    assert.equal(result.variables['AGIKIT_STATUS'], 'SUCCESS');
    assert.equal(result.agiStatus, 'SUCCESS');
    await assertEndedCleanly(call);
  });

  it('runs under EAGI too, where agi_enhanced is 1.0 (env.enhanced true)', { skip }, async () => {
    assert.ok(rig);
    const call = await originate({
      application: 'EAGI',
      args: ['core', 'eagi'],
      far: [far.waitFor('ready'), far.dtmf('#')],
      record: ['STDIO_ENV', 'STDIO_READ', 'STDIO_DIGIT', 'AGIKIT_STATUS'],
    });
    const result = await call.result();
    const env = JSON.parse(result.variables['STDIO_ENV'] ?? '{}') as Record<string, unknown>;
    assert.equal(env['enhanced'], true);
    assert.equal(result.variables['STDIO_READ'], 'eagi');
    assert.equal(result.variables['STDIO_DIGIT'], '#');
    assert.equal(result.variables['AGIKIT_STATUS'], 'SUCCESS');
    assert.equal(result.agiStatus, 'SUCCESS');
    await assertEndedCleanly(call);
  });

  it('a far-leg hangup while the script is idle arrives as SIGHUP; the script cleans up and exits 0', { skip }, async () => {
    assert.ok(rig);
    const call = await originate({
      args: ['hangup-idle'],
      far: [far.waitFor('idle'), far.hangup()],
      record: ['STDIO_HANGUP', 'AGIKIT_STATUS'],
    });
    const result = await call.result();
    // No command was in flight: only the signal can have told the script.
    assert.equal(result.variables['STDIO_HANGUP'], 'hangup-line');
    assert.equal(await rig.asterisk.dbGet(`agikit-live-stdio/${call.id}`, 'hangup'), 'hangup-line');
    assert.equal(result.variables['AGIKIT_STATUS'], 'SUCCESS');
    assert.equal(result.agiStatus, 'HANGUP');
    await assertEndedCleanly(call);
  });

  it('a far-leg hangup mid-streamFile ends the handler with HANGUP; no script process is left', { skip }, async () => {
    assert.ok(rig);
    const call = await originate({
      args: ['hangup-playing'],
      far: [far.waitFor('playing'), far.hangup()],
      record: ['STDIO_HANGUP', 'AGIKIT_STATUS'],
    });
    const result = await call.result();
    assert.ok(['hangup-line', 'dead-channel'].includes(result.variables['STDIO_HANGUP'] ?? ''), result.variables['STDIO_HANGUP']);
    assert.equal(result.variables['AGIKIT_STATUS'], 'HANGUP');
    assert.equal(result.agiStatus, 'HANGUP');
    await assertEndedCleanly(call);
  });
});
