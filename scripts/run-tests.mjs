#!/usr/bin/env node
// Runs the whole suite the way CI does (`npm test` calls this after building):
// 1. once, up front, makes sure a Docker engine answers and the Asterisk 22 image exists, using the
//    project's own scripts (they install and start what is missing);
// 2. runs every test file with node's test runner.
// When Docker truly cannot run, the live tests are reported as skipped with the reason, never passed.
import { spawnSync, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = { ...process.env };
const lastLine = (text) => (text ?? '').trim().split('\n').filter(Boolean).at(-1) ?? '';

if (!env.AGIKIT_SKIP_LIVE) {
  const docker = spawnSync('bash', ['scripts/ensure-docker.sh'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
  if (docker.status !== 0) {
    env.AGIKIT_SKIP_LIVE = `no Docker engine: ${lastLine(docker.stderr) || `ensure-docker.sh exited ${docker.status}`}`;
  } else {
    process.stderr.write('run-tests: making sure the Asterisk 22 image exists (the first build takes about a minute)\n');
    const image = spawnSync('bash', ['scripts/asterisk-image.sh'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (image.status !== 0 || !lastLine(image.stdout)) {
      env.AGIKIT_SKIP_LIVE = `Asterisk image could not be built (asterisk-image.sh exited ${image.status})`;
    } else {
      env.AGIKIT_ASTERISK_IMAGE = lastLine(image.stdout);
    }
  }
}
// Text to speech (espeak-ng) for the FilePlayer.say tests, the MP3 encoder (lame) for Relay
// record's mp3 format, and ghostscript (gs) for Relay faxSend's PDF documents; without them those
// tests skip with the reason.
spawnSync('bash', ['scripts/install-espeak.sh'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
spawnSync('bash', ['scripts/install-command.sh', 'lame'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
spawnSync('bash', ['scripts/install-command.sh', 'gs', 'ghostscript'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
// redis-server for the Redis task transport's tests (each test file starts its own on a free port);
// without it they skip with this reason.
const redis = spawnSync('bash', ['scripts/install-redis.sh'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
if (redis.status !== 0) env.AGIKIT_SKIP_REDIS = lastLine(redis.stderr) || `install-redis.sh exited ${redis.status}`;

process.stderr.write(
  env.AGIKIT_SKIP_LIVE
    ? `run-tests: live Asterisk tests will be SKIPPED: ${env.AGIKIT_SKIP_LIVE}\n`
    : `run-tests: live Asterisk tests use ${env.AGIKIT_ASTERISK_IMAGE}\n`,
);
if (env.AGIKIT_SKIP_REDIS) process.stderr.write(`run-tests: Redis task transport tests will be SKIPPED: ${env.AGIKIT_SKIP_REDIS}\n`);

// Test files are dist/test/**/*.test.js; fixtures and helpers beside them are not tests.
const testFiles = readdirSync(join(root, 'dist/test'), { recursive: true })
  .filter((f) => f.endsWith('.test.js'))
  .map((f) => join('dist/test', f))
  .sort();
const args = ['--test', '--test-reporter=spec', '--test-timeout=180000'];
args.push(...(process.argv.length > 2 ? process.argv.slice(2) : testFiles));
const child = spawn(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
