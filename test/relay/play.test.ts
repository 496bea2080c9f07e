/**
 * The Relay play family without Asterisk: the pure parts (dB to `VOLUME(TX)`, rotating a tone list,
 * the events of each state, argument checks) and, on a scripted fake Asterisk (and a fake AMI), the
 * commands a play sends: volume set and reset around the items, `STREAM FILE` or
 * `CONTROL STREAM FILE`, `PlayTones` + `WAIT FOR DIGIT` + `StopPlayTones`, stop by interrupt, pause
 * by `ControlPlayback stop` and resume at the reported offset, errors, and the lane rules.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Agi } from '../../src/agi/agi.js';
import type { AmiClient } from '../../src/ami/client.js';
import type { AmiFields } from '../../src/ami/message.js';
import { Call } from '../../src/relay/call.js';
import { CallBusyError, RelayArgumentError, RelayCapabilityError } from '../../src/relay/errors.js';
import { playEvents, type PlayAction } from '../../src/relay/play.js';
import { cadenceMs, RINGTONES, tonesFrom } from '../../src/relay/ringtones.js';
import { RelayRuntime, type RelayOptions } from '../../src/relay/runtime.js';
import { checkVolume, volumeValue } from '../../src/relay/volume.js';
import type { FakeCall } from '../../src/testing/fake-asterisk.js';
import { isStatusWrite, startTestServer, type TestServer } from '../support/fake-server.js';

/** A Relay call on an AGI session, answered, as the runtime would make it. */
function relayCall(agi: Agi, options: RelayOptions = {}): Call {
  const call = new Call(new RelayRuntime(options), { id: agi.env.uniqueid, context: 'unit', fromNumber: '', toNumber: '100', channel: agi.env.channel });
  call.attach(agi);
  call.advance('answered');
  return call;
}

/** An AMI client that records its actions and answers Success; `onAction` sees each one. */
class FakeAmi {
  readonly actions: Array<{ name: string; fields: AmiFields }> = [];
  connected = true;
  onAction: ((name: string, fields: AmiFields) => void) | undefined;

  /** The call's event subscription (this fake sends no events). */
  channel(id: string): { id: string; active: boolean; unsubscribe(): void } {
    return { id, active: true, unsubscribe: () => undefined };
  }

  async action(name: string, fields: AmiFields = {}): Promise<Map<string, string>> {
    this.actions.push({ name, fields });
    this.onAction?.(name, fields);
    return new Map([['Response', 'Success']]);
  }

  get client(): AmiClient {
    return this as unknown as AmiClient;
  }
}

/** The play events of a call, in order. */
function watchPlays(call: Call): string[] {
  const seen: string[] = [];
  call.on('play.stateChange', (action) => seen.push(`stateChange:${action.state}`));
  for (const name of ['play.playing', 'play.paused', 'play.error', 'play.finished'] as const) call.on(name, () => seen.push(name));
  return seen;
}

/** Answers the end-of-call status write (and anything after it). */
function finish(fake: FakeCall): void {
  fake.respond((command) => (isStatusWrite(command.words) ? '200 result=1' : undefined));
}

/** Answers `WAIT FOR DIGIT <ms>` commands after their timeout, until another command comes; returns it. */
async function waitOutDigits(fake: FakeCall): Promise<string[]> {
  for (;;) {
    const command = await fake.nextCommand();
    if (command.words.slice(0, 3).join(' ') !== 'WAIT FOR DIGIT') return command.words;
    await sleep(Number(command.words[3]));
    fake.reply('200 result=0');
  }
}

describe('Relay play: pure parts', () => {
  it('volume: dB to the VOLUME(TX) factor 10^(dB/20); 0 switches it off; the range is -40..+40', () => {
    assert.equal(volumeValue(0), '0');
    assert.equal(volumeValue(6), '1.9953');
    assert.equal(volumeValue(-6), '0.5012');
    assert.equal(volumeValue(40), '100.0000');
    assert.equal(volumeValue(-40), '0.0100');
    assert.equal(checkVolume(-40), -40);
    for (const bad of [41, -40.5, Number.NaN, '6', null]) assert.throws(() => checkVolume(bad), RelayArgumentError, String(bad));
  });

  it('tonesFrom: a tone list rotated to start part way into its cadence, the split item in two', () => {
    const us = RINGTONES.us;
    assert.equal(tonesFrom(us, 0), us);
    assert.equal(tonesFrom(us, 500), '440+480/1500,0/4000,440+480/500');
    assert.equal(tonesFrom(us, 2000), '0/4000,440+480/2000');
    assert.equal(tonesFrom(us, 2500), '0/3500,440+480/2000,0/500');
    assert.equal(tonesFrom(us, 6000 + 500), tonesFrom(us, 500), 'whole cadences are skipped');
    assert.equal(cadenceMs(tonesFrom(RINGTONES.uk, 777)), cadenceMs(RINGTONES.uk));
    assert.equal(tonesFrom('!350+440/100,0/100', 50), '!350+440/100,0/100', 'a play-once item is left alone');
    assert.equal(tonesFrom('425', 50), '425', 'an endless tone is left alone');
  });

  it('events: play.stateChange then play.<state>; none for the initial state', () => {
    assert.deepEqual(playEvents('none'), []);
    assert.deepEqual(playEvents('playing'), ['play.stateChange', 'play.playing']);
    assert.deepEqual(playEvents('paused'), ['play.stateChange', 'play.paused']);
    assert.deepEqual(playEvents('error'), ['play.stateChange', 'play.error']);
    assert.deepEqual(playEvents('finished'), ['play.stateChange', 'play.finished']);
  });
});

describe('Relay play (fake Asterisk)', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => {
    await t.close();
  });

  it('bad arguments and missing capabilities are refused before anything is sent', async () => {
    const refusals: string[] = [];
    const placed = await t.call(async (agi) => {
      const call = relayCall(agi);
      const attempts: Array<() => Promise<unknown>> = [
        () => call.play([]),
        () => call.play([{ type: 'video', url: 'x' } as never]),
        () => call.playAudio('hello', { volume: 41 }),
        () => call.playSilence(0),
        () => call.playRingtone({ name: 'xx' as never }),
        () => call.playTTS({ text: 'hi' }),
        () => call.playSilence(1),
        () => call.playAudio('https://example.test/a.wav'),
      ];
      for (const attempt of attempts) {
        await attempt().then(
          () => refusals.push('accepted'),
          (error: unknown) => refusals.push(error instanceof RelayCapabilityError ? `capability ${error.capability}` : (error as Error).name),
        );
      }
    });
    finish(placed.fake);
    await placed.ended;
    assert.deepEqual(refusals, [
      'RelayArgumentError',
      'RelayArgumentError',
      'RelayArgumentError',
      'RelayArgumentError',
      'RelayArgumentError',
      'capability tts',
      'capability media-directory',
      'capability media-directory',
    ]);
    assert.deepEqual(
      placed.fake.commands.map((c) => c.words[0]),
      ['SET'],
      'only the end-of-call status write',
    );
  });

  it('without AMI: volume set first and reset last, STREAM FILE, then PlayTones, WAIT FOR DIGIT until the duration, StopPlayTones', async () => {
    let seen: string[] = [];
    let result: unknown;
    const placed = await t.call(async (agi) => {
      const call = relayCall(agi);
      seen = watchPlays(call);
      result = await call.play([{ type: 'audio', url: 'hello-world' }, { type: 'ringtone', name: 'us', duration: 0.3 }], { volume: 6 });
    });
    const fake = placed.fake;
    await fake.expectCommand('SET VARIABLE', 'VOLUME(TX)', '1.9953');
    fake.reply('200 result=1');
    await fake.expectCommand('STREAM FILE', 'hello-world', '');
    fake.reply('200 result=0 endpos=8000');
    await fake.expectCommand('EXEC', 'PlayTones', RINGTONES.us);
    fake.reply('200 result=0');
    assert.deepEqual(await waitOutDigits(fake), ['EXEC', 'StopPlayTones']);
    fake.reply('200 result=0');
    await fake.expectCommand('SET VARIABLE', 'VOLUME(TX)', '0');
    fake.reply('200 result=1');
    finish(fake);
    await placed.ended;
    assert.deepEqual(result, { successful: true, event: { name: 'agi.reply', payload: { command: 'EXEC', application: 'StopPlayTones', playedMs: 300 } } });
    assert.deepEqual(seen, ['stateChange:playing', 'play.playing', 'stateChange:finished', 'play.finished']);
  });

  it('without AMI: stop() interrupts STREAM FILE (unsuccessful, finished); pause, resume and volume() need AMI', async () => {
    const seen: unknown[] = [];
    let action: PlayAction | undefined;
    const placed = await t.call(async (agi) => {
      action = await relayCall(agi).playAudioAsync('long-file');
      for (const control of [() => action!.pause(), () => action!.resume(), () => action!.volume(3)]) {
        await control().catch((error: unknown) => seen.push(error instanceof RelayCapabilityError ? error.method : error));
      }
      seen.push(await action.stop(), await action.done, action.state);
    });
    const fake = placed.fake;
    await fake.expectCommand('STREAM FILE', 'long-file', '');
    const marker = await fake.expectCommand('GET FULL VARIABLE', 'agikit-interrupt-1');
    fake.reply(`200 result=1 (${marker.words[3] ?? ''})`);
    finish(fake);
    await placed.ended;
    assert.deepEqual(seen, [
      'PlayAction.pause',
      'PlayAction.resume',
      'PlayAction.volume',
      { successful: true },
      { successful: false, event: null },
      'finished',
    ]);
  });

  it('with AMI: CONTROL STREAM FILE; pause() = ControlPlayback stop, then silence; resume() plays on from the reply\'s endpos', async () => {
    const ami = new FakeAmi();
    let seen: string[] = [];
    const controls: unknown[] = [];
    let action: PlayAction | undefined;
    let markStarted = (): void => undefined;
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    const placed = await t.call(async (agi) => {
      const call = relayCall(agi, { ami: ami.client });
      seen = watchPlays(call);
      action = await call.playAudioAsync('chirp');
      markStarted();
      controls.push(await action.done);
    });
    const fake = placed.fake;
    await fake.expectCommand('CONTROL STREAM FILE', 'chirp', '', '0');
    await started;
    ami.onAction = (name, fields) => {
      if (name === 'ControlPlayback' && fields['Control'] === 'stop') fake.reply('200 result=0 endpos=1500');
    };
    const paused = action!.pause();
    await fake.expectCommand('STREAM FILE', 'silence/10', '');
    controls.push(await paused, action!.state, await action!.pause());
    const resumed = action!.resume();
    const marker = await fake.expectCommand('GET FULL VARIABLE', 'agikit-interrupt-1');
    fake.reply(`200 result=1 (${marker.words[3] ?? ''})`);
    await fake.expectCommand('CONTROL STREAM FILE', 'chirp', '', '0', '#', '*', '', '1500');
    controls.push(await resumed, action!.state);
    fake.reply('200 result=0 endpos=-1');
    finish(fake);
    await placed.ended;
    assert.deepEqual(ami.actions.map((a) => [a.name, a.fields['Control']]), [['ControlPlayback', 'stop']]);
    assert.match(String(ami.actions[0]?.fields['Channel']), /^Local\//, 'the channel, by name');
    assert.deepEqual(controls, [
      { successful: true },
      'paused',
      { successful: true },
      { successful: true },
      'playing',
      { successful: true, event: { name: 'agi.reply', payload: { command: 'CONTROL STREAM FILE', endposMs: null } } },
    ]);
    assert.deepEqual(seen, [
      'stateChange:playing', 'play.playing',
      'stateChange:paused', 'play.paused',
      'stateChange:playing', 'play.playing',
      'stateChange:finished', 'play.finished',
    ]);
  });

  it('with AMI: volume() while playing is AMI Setvar VOLUME(TX), and the play resets it over AGI at the end', async () => {
    const ami = new FakeAmi();
    let control: unknown;
    const placed = await t.call(async (agi) => {
      const action = await relayCall(agi, { ami: ami.client }).playAudioAsync('music');
      await sleep(20);
      control = await action.volume(-6);
      await action.done;
    });
    const fake = placed.fake;
    await fake.expectCommand('CONTROL STREAM FILE', 'music', '', '0');
    await sleep(100);
    fake.reply('200 result=0 endpos=-1');
    await fake.expectCommand('SET VARIABLE', 'VOLUME(TX)', '0');
    fake.reply('200 result=1');
    finish(fake);
    await placed.ended;
    assert.deepEqual(control, { successful: true });
    assert.deepEqual(ami.actions.map((a) => [a.name, a.fields['Variable'], a.fields['Value']]), [['Setvar', 'VOLUME(TX)', '0.5012']]);
  });

  it('with AMI: a stop that arrives after the file ended is swallowed by a short WAIT FOR DIGIT, so it cannot cut the next file', async () => {
    const ami = new FakeAmi();
    const seen: unknown[] = [];
    const placed = await t.call(async (agi) => {
      const call = relayCall(agi, { ami: ami.client });
      const action = await call.playAudioAsync('short');
      await sleep(20);
      seen.push(await action.stop(), await action.done);
    });
    const fake = placed.fake;
    await fake.expectCommand('CONTROL STREAM FILE', 'short', '', '0');
    ami.onAction = () => fake.reply('200 result=0 endpos=-1');
    await fake.expectCommand('WAIT FOR DIGIT', '100');
    fake.reply('200 result=1000');
    finish(fake);
    await placed.ended;
    assert.deepEqual(seen, [{ successful: true }, { successful: true, event: { name: 'agi.reply', payload: { command: 'CONTROL STREAM FILE', endposMs: null } } }]);
  });

  it('a file Asterisk cannot play: state error, play.error, unsuccessful with the reason in the event', async () => {
    let seen: string[] = [];
    let result: unknown;
    let state: unknown;
    const placed = await t.call(async (agi) => {
      const call = relayCall(agi);
      seen = watchPlays(call);
      const action = await call.playAudioAsync('missing');
      result = await action.done;
      state = action.state;
    });
    const fake = placed.fake;
    await fake.expectCommand('STREAM FILE', 'missing', '');
    fake.reply('200 result=-1 endpos=0');
    await fake.expectCommand('CHANNEL STATUS');
    fake.reply('200 result=6');
    finish(fake);
    await placed.ended;
    assert.equal(state, 'error');
    assert.deepEqual(seen, ['stateChange:playing', 'play.playing', 'stateChange:error', 'play.error']);
    const r = result as { successful: boolean; event: { name: string; payload: { error: string } } };
    assert.equal(r.successful, false);
    assert.equal(r.event.name, 'play.error');
    assert.match(r.event.payload.error, /STREAM FILE/);
  });

  it('the lane: queue:false refuses with CallBusyError while a play runs; preempt:true stops it first; a queued play plays after', async () => {
    const seen: unknown[] = [];
    const placed = await t.call(async (agi) => {
      const call = relayCall(agi);
      const first = await call.playAudioAsync('first');
      await call.playAudioAsync('refused', { queue: false }).catch((error: unknown) => seen.push(error instanceof CallBusyError ? error.holder.split(' ')[0] : error));
      const queued = await call.playAudioAsync('queued');
      seen.push(queued.state);
      const preempting = await call.playAudioAsync('preempting', { preempt: true });
      seen.push((await first.done).successful, (await queued.done).successful, (await preempting.done).successful);
    });
    const fake = placed.fake;
    await fake.expectCommand('STREAM FILE', 'first', '');
    const marker = await fake.expectCommand('GET FULL VARIABLE', 'agikit-interrupt-1');
    fake.reply(`200 result=1 (${marker.words[3] ?? ''})`);
    await fake.expectCommand('STREAM FILE', 'preempting', '');
    fake.reply('200 result=0 endpos=800');
    finish(fake);
    await placed.ended;
    assert.deepEqual(seen, ['play', 'none', false, false, true]);
  });

  it('an aborted signal stops a queued play before it sends anything', async () => {
    const seen: unknown[] = [];
    const placed = await t.call(async (agi) => {
      const call = relayCall(agi);
      const first = await call.playAudioAsync('first');
      const controller = new AbortController();
      const queued = await call.playAudioAsync('never', { signal: controller.signal });
      controller.abort();
      seen.push(await queued.done, queued.state);
      await first.done;
    });
    const fake = placed.fake;
    await fake.expectCommand('STREAM FILE', 'first', '');
    await sleep(50);
    fake.reply('200 result=0 endpos=800');
    finish(fake);
    await placed.ended;
    assert.deepEqual(seen, [{ successful: false, event: null }, 'finished']);
    assert.equal(fake.commands.filter((c) => c.words.includes('never')).length, 0);
  });
});
