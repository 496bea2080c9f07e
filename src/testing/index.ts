/**
 * agikit's testing kit: a fake Asterisk for unit tests, and a real Asterisk 22 in Docker for live
 * tests (the live harness needs the `testcontainers` package, loaded only when a container starts).
 *
 * @module agikit/testing
 */
export * from './asterisk.js';
export { FakeCall, fakeHeaderLines, type FakeHeaderOptions, type FakeReply, type ReceivedCommand, type TranscriptLine } from './fake-asterisk.js';
export { parseAgiArgs } from './parse-args.js';
export { wavStats, type WavStats } from './wav.js';
