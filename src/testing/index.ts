/**
 * agikit's testing kit:
 * - {@link FakeAsterisk}: a programmable Asterisk (simulated replies to every command, DTMF script,
 *   hangup at a chosen command, per-command overrides), over TCP or in-process;
 * - {@link FakeCall}: one scripted call, driven by hand (`expectCommand`, `reply`, `hangup`);
 * - {@link replayTranscript}: play a recorded call back to an app and find where it now differs;
 * - a real Asterisk 22 in Docker for live tests ({@link startAsterisk}; needs the `testcontainers`
 *   package, loaded only when a container starts).
 *
 * @module agikit/testing
 */
export * from './asterisk.js';
export { duplexPair } from './duplex-pair.js';
export {
  FakeCall,
  fakeHeaderLines,
  type Chunking,
  type FakeCallOptions,
  type FakeHeaderOptions,
  type FakeReply,
  type ReceivedCommand,
  type TranscriptLine,
} from './fake-asterisk.js';
export { parseAgiArgs } from './parse-args.js';
export {
  FakeAsterisk,
  replayTranscript,
  toRouter,
  type AgiApp,
  type FakeAsteriskOptions,
  type ReplayMismatch,
  type ReplayResult,
  type RunOptions,
  type SimulationResult,
} from './simulate.js';
export { matchCommand, parseDtmfScript, SimulatedChannel, type SimulatorOptions } from './simulator.js';
export { wavStats, type WavStats } from './wav.js';
