/**
 * Starting Asterisk: {@link startAsterisk} checks that Docker and the image are there, assembles the
 * container (configuration, files, mounts, environment), starts it with testcontainers and waits
 * until Asterisk is fully booted (and, when asked for, its manager answers: live-ami.ts; its PJSIP
 * loopback is bound: live-pjsip.ts). Stopping is {@link LiveAsterisk.stop}.
 *
 * @module
 */

import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { StartedTestContainer } from 'testcontainers';
import { defaultAsteriskConfigDir, liveAsteriskAvailable } from './availability.js';
import { ConsoleLog } from './console-log.js';
import { LiveAsteriskUnavailableError } from './errors.js';
import { amiUser, awaitManager, freeLocalPort, managerConf } from './live-ami.js';
import { awaitPjsip, freeUdpPort, pjsipConf, pjsipPlan, withPjsipModules } from './live-pjsip.js';
import type { LiveAsterisk, StartAsteriskOptions } from './live-types.js';
import { RunningAsterisk } from './running-asterisk.js';

/**
 * PID 1 of the container: `sh -c LAUNCHER <lifetime seconds> <asterisk args...>`. With
 * `AGIKIT_NAMESERVER` set it first points the container's resolv.conf at that server, but only
 * when that file is the engine's per-container copy (mounted from a `.../containers/<id>/`
 * directory), never the host's own.
 */
const LAUNCHER = [
  'if [ -n "$AGIKIT_NAMESERVER" ] && grep -q "/containers/[^ ]*/resolv.conf /etc/resolv.conf " /proc/self/mountinfo; then',
  '  printf "nameserver %s\\n" "$AGIKIT_NAMESERVER" > /etc/resolv.conf',
  'fi',
  'timeout "$0" /usr/sbin/asterisk "$@" &',
  'pid=$!',
  "trap 'kill -TERM $pid 2>/dev/null' TERM INT",
  'wait $pid',
  'status=$?',
  'wait $pid 2>/dev/null',
  'exit $status',
].join('\n');

/**
 * Start Asterisk in a container with host networking and wait until it is
 * fully booted.
 *
 * @param options - image, configuration, files to copy or mount, AMI, PJSIP loopback
 * @returns the running Asterisk
 * @throws LiveAsteriskUnavailableError if Docker or the image is unavailable
 */
export async function startAsterisk(options: StartAsteriskOptions = {}): Promise<LiveAsterisk> {
  const availability = await liveAsteriskAvailable(options.image === undefined ? {} : { image: options.image });
  if (!availability.ok) throw new LiveAsteriskUnavailableError(availability.reason);
  const image = availability.image;

  process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
  // testcontainers finds "the Docker host" through the gateway of the
  // default bridge network when it runs inside a container, and fails when
  // the engine has no bridge (dockerd --bridge=none). With host networking
  // and a local engine the host is this machine.
  const dockerHost = process.env['DOCKER_HOST'];
  if (dockerHost === undefined || dockerHost === '' || dockerHost.startsWith('unix:')) {
    process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= '127.0.0.1';
  }
  const { GenericContainer, Wait } = await import('testcontainers');

  const configDir = options.configDir ?? defaultAsteriskConfigDir();
  const configFiles = readdirSync(configDir)
    .filter((name) => name.endsWith('.conf'))
    .map((name) => ({ source: path.join(configDir, name), target: `/etc/asterisk/${name}` }));
  if (!configFiles.some((f) => f.target === '/etc/asterisk/asterisk.conf') && options.config?.['asterisk.conf'] === undefined) {
    throw new Error(`${configDir} has no asterisk.conf`);
  }

  const verbosity = Math.max(0, Math.floor(options.verbosity ?? 3));
  const lifetime = Math.max(60, Math.floor(options.maxLifetimeSeconds ?? 3600));
  // Asterisk in the foreground (-f), without colours (-n), with a timestamp
  // on every console line (-T), under `timeout`
  // so that a container nobody stops still goes away. `timeout` cannot be
  // PID 1 (it exits with status 125 there), so a small shell is, and passes
  // docker stop's SIGTERM on.
  const asteriskArgs = ['-f', '-n', '-T'];
  if (verbosity > 0) asteriskArgs.push(`-${'v'.repeat(verbosity)}`);
  const command = ['sh', '-c', LAUNCHER, String(lifetime), ...asteriskArgs];

  // AMI: the user and a first port now, so manager.conf is in place when Asterisk starts.
  const amiPlan = options.ami === undefined || options.ami === false ? undefined : { user: amiUser(options.ami), port: await freeLocalPort() };
  if (amiPlan && options.config?.['manager.conf'] !== undefined) {
    throw new Error('give either StartAsteriskOptions.ami or a manager.conf in config, not both');
  }
  // PJSIP loopback: pjsip.conf with a first port, and its modules appended to modules.conf.
  const pjsipLoop =
    options.pjsipLoopback === undefined || options.pjsipLoopback === false ? undefined : { ...pjsipPlan(options.pjsipLoopback), port: await freeUdpPort() };
  if (pjsipLoop && options.config?.['pjsip.conf'] !== undefined) {
    throw new Error('give either StartAsteriskOptions.pjsipLoopback or a pjsip.conf in config, not both');
  }
  const config = {
    ...options.config,
    ...(amiPlan ? { 'manager.conf': managerConf(amiPlan.user, amiPlan.port) } : {}),
    ...(pjsipLoop
      ? {
          'pjsip.conf': pjsipConf(pjsipLoop),
          'modules.conf': withPjsipModules(options.config?.['modules.conf'] ?? readFileSync(path.join(configDir, 'modules.conf'), 'utf8')),
          // res_pjproject reads it; without one it logs an error at start.
          'pjproject.conf': options.config?.['pjproject.conf'] ?? '; Written by the agikit test harness: pjproject defaults.\n',
        }
      : {}),
  };

  const consoleLog = new ConsoleLog();
  let container = new GenericContainer(image)
    .withNetworkMode('host')
    .withCommand(command)
    .withAutoRemove(true)
    .withLabels({ 'org.agikit.role': 'live-asterisk' })
    .withCopyFilesToContainer(configFiles)
    .withWaitStrategy(Wait.forSuccessfulCommand('asterisk -rx "core waitfullybooted"'))
    .withStartupTimeout(options.startupTimeoutMs ?? 60_000)
    .withLogConsumer((stream) => consoleLog.attach(stream));
  const extraConfig = Object.entries(config);
  if (extraConfig.length > 0) {
    container = container.withCopyContentToContainer(
      extraConfig.map(([name, content]) => ({ content, target: `/etc/asterisk/${name}` })),
    );
  }
  const files: { source: string; target: string; mode?: number }[] = [];
  const dirs: { source: string; target: string }[] = [];
  for (const spec of options.copy ?? []) {
    if (statSync(spec.source).isDirectory()) dirs.push({ source: spec.source, target: spec.target });
    else files.push(spec.mode === undefined ? { source: spec.source, target: spec.target } : { ...spec });
  }
  if (files.length > 0) container = container.withCopyFilesToContainer(files);
  if (dirs.length > 0) container = container.withCopyDirectoriesToContainer(dirs);
  if (options.bindMounts !== undefined && options.bindMounts.length > 0) {
    container = container.withBindMounts(
      options.bindMounts.map((m) => ({ source: m.source, target: m.target, mode: m.readOnly === false ? 'rw' : 'ro' })),
    );
  }
  // PJSIP makes a DNS resolver with the system's name servers (res_pjsip/config_system.c) even when
  // every address is an IP: name one on 127.0.0.1, so that no query can ever leave the machine.
  const env = { ...options.env, ...(pjsipLoop ? { AGIKIT_NAMESERVER: '127.0.0.1' } : {}) };
  if (Object.keys(env).length > 0) container = container.withEnvironment(env);

  let started: StartedTestContainer;
  try {
    started = await container.start();
  } catch (err) {
    const tail = consoleLog.text.split('\n').slice(-30).join('\n');
    throw new Error(`Asterisk container did not start: ${err instanceof Error ? err.message : String(err)}\n${tail}`, {
      cause: err,
    });
  }
  const live = new RunningAsterisk(started, image, consoleLog);
  try {
    await live.init();
    if (amiPlan) live.ami = await awaitManager(live, amiPlan.user, amiPlan.port);
    if (pjsipLoop) live.pjsip = await awaitPjsip(live, pjsipLoop);
  } catch (err) {
    await live.stop();
    throw err;
  }
  return live;
}
