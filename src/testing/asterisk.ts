/**
 * A real Asterisk for tests: start Asterisk 22 in a Docker container, place
 * calls whose one side runs your AGI application and whose other side (the
 * "far leg") follows a script you write per call, and read back what
 * happened.
 *
 * ```ts
 * import { after, before, describe, it } from 'node:test';
 * import { far, liveAsteriskAvailable, startAsterisk, type LiveAsterisk } from 'agikit/testing';
 *
 * const live = await liveAsteriskAvailable();
 * const skip = live.ok ? false : live.reason; // reported as skipped, with the reason
 *
 * describe('my IVR against Asterisk', () => {
 *   let asterisk: LiveAsterisk | undefined;
 *   before(async () => { if (live.ok) asterisk = await startAsterisk(); });
 *   after(async () => { await asterisk?.stop(); });
 *
 *   it('reads a digit', { skip }, async () => {
 *     assert.ok(asterisk);
 *     const call = await asterisk.originate({
 *       agi: { port: myServerPort, route: 'menu' },
 *       far: [far.waitFor('menu-ready'), far.dtmf('1')],
 *       record: ['CHOICE'],
 *     });
 *     // the app sends: DATABASE PUT agikit-sync/<agi_extension> menu-ready 1
 *     const result = await call.result();
 *     assert.equal(result.variables.CHOICE, '1');
 *   });
 * });
 * ```
 *
 * Requirements: Node.js 20 or later, the `testcontainers` package (11.x;
 * a dev dependency, loaded only when a container is started), a Docker
 * engine, and the image built by `scripts/asterisk-image.sh` (done
 * automatically; the first build takes about a minute). Containers use host
 * networking, so an AGI server listening on 127.0.0.1 is reachable from
 * Asterisk as `agi://127.0.0.1:<port>/...`. By default nothing in the
 * container listens on a TCP/UDP port, and what the options below add
 * listens on 127.0.0.1 at a port chosen per run, so several containers can
 * run side by side.
 *
 * AMI, for tests that need it: `startAsterisk({ ami: true })` (or
 * `ami: { read, write }` classes) enables the manager on 127.0.0.1, on a
 * port chosen free for the run, with one user and a random secret, and
 * resolves once the manager answers; `AmiClient.connect(asterisk.ami)` logs
 * in (see {@link StartAsteriskOptions.ami}).
 *
 * SIP, for tests that need a peer: `startAsterisk({ pjsipLoopback: true })`
 * adds a PJSIP UDP transport on 127.0.0.1 at a port chosen free for the run
 * and an endpoint, `loop`, that sends to that transport, so a SIP MESSAGE
 * sent to `pjsip:PJSIP/<user>@loop` comes back into the same Asterisk (see
 * {@link StartAsteriskOptions.pjsipLoopback}).
 *
 * testcontainers' resource reaper (Ryuk) needs an image from a registry;
 * unless `TESTCONTAINERS_RYUK_DISABLED` is already set, {@link startAsterisk}
 * sets it to `true`. With a local engine it also defaults
 * `TESTCONTAINERS_HOST_OVERRIDE` to 127.0.0.1 (testcontainers otherwise
 * looks for the default bridge network, which an engine started with
 * `--bridge=none` does not have). Without Ryuk, a container whose test
 * process dies without calling {@link LiveAsterisk.stop} is still removed after
 * {@link StartAsteriskOptions.maxLifetimeSeconds} (Asterisk runs under
 * `timeout`, and the container is started with auto-remove).
 *
 * Start one Asterisk per test file (in `before`) or per run, not per test:
 * starting takes about a second, a call a few hundred milliseconds.
 *
 * Environment variables: `AGIKIT_ASTERISK_IMAGE` (image to use or build),
 * `AGIKIT_SKIP_LIVE=1` (report live Asterisk as unavailable), and those
 * of `scripts/asterisk-image.sh` and `scripts/ensure-docker.sh`.
 *
 * @module
 */

// The kit, by job: far-leg steps (far-steps.ts), a call's dialplan (call-dialplan.ts, with the
// quoting rules in dialplan-text.ts), Docker and the image (availability.ts), the container
// (container.ts, console-log.ts, live-ami.ts for AMI, live-pjsip.ts for the PJSIP loopback), the running Asterisk (running-asterisk.ts) and its calls
// (live-calls.ts); the public shapes are in live-types.ts, the errors in errors.ts.
export { agikitPackageRoot, defaultAsteriskConfigDir, liveAsteriskAvailable } from './availability.js';
export { AGIKIT_DIALPLAN, fastAgiUrl, signalCommand } from './call-dialplan.js';
export { startAsterisk } from './container.js';
export { asteriskSockets, loopbackHex, type DaemonSocket } from './daemon-sockets.js';
export { LiveAsteriskUnavailableError } from './errors.js';
export {
  far,
  type FarAppStep,
  type FarDtmfStep,
  type FarEchoStep,
  type FarHangupStep,
  type FarPlaybackStep,
  type FarReadStep,
  type FarRecordStep,
  type FarSignalStep,
  type FarSilenceStep,
  type FarStep,
  type FarWaitForStep,
  type FarWaitStep,
} from './far-steps.js';
export type {
  AmiAccess,
  BindMountSpec,
  CallResult,
  CopySpec,
  DialplanLocation,
  ExecOutput,
  FastAgiTarget,
  LiveAsterisk,
  LiveAmiOptions,
  LiveAsteriskAvailability,
  LiveCall,
  LivePjsipOptions,
  OriginateOptions,
  PjsipLoopbackAccess,
  StartAsteriskOptions,
} from './live-types.js';
