/**
 * {@link ChannelAmi}: the AMI actions and events the record and sendDigits components use on their
 * call's channel, in one place (so a change of the AMI client's API touches one file).
 *
 * @module
 */

import type { AmiClient } from '../ami/client.js';
import type { AmiMessage } from '../ami/message.js';
import type { Call } from './call.js';

/** AMI on one call's channel. */
export class ChannelAmi {
  constructor(
    private readonly ami: AmiClient,
    private readonly call: Call,
  ) {}

  /** The `Channel:` of actions: the channel name, or the `Uniqueid` Asterisk also accepts. */
  private get channel(): string {
    return this.call.channel ?? this.call.id;
  }

  /** Has Asterisk act as if the channel received `digit` (`PlayDTMF`, `Receive: yes`): ends a `RECORD FILE` that has it as an escape digit. */
  async receiveDigit(digit: string, timeoutMs: number): Promise<void> {
    await this.ami.playDtmf(this.channel, digit, { receive: true, timeoutMs });
  }

  /** Sends `digit` to the far end (`PlayDTMF`); resolves once Asterisk has sent the whole tone. */
  async sendDigit(digit: string, durationMs: number): Promise<void> {
    await this.ami.playDtmf(this.channel, digit, { durationMs, timeoutMs: durationMs + 10_000 });
  }

  /** Starts MixMonitor (action `MixMonitor`) and resolves with its id (the options must hold `i(<variable>)`). */
  async mixMonitor(file: string, options: string): Promise<string> {
    const response = await this.ami.action('MixMonitor', { Channel: this.channel, File: file || undefined, Options: options });
    return response.get('MixMonitorID') ?? '';
  }

  /** Stops one MixMonitor (action `StopMixMonitor`); Asterisk has closed its file when this resolves. */
  async stopMixMonitor(id: string): Promise<void> {
    await this.ami.action('StopMixMonitor', { Channel: this.channel, MixMonitorID: id || undefined });
  }

  /** Sets a channel variable or writes a dialplan function (`Setvar`), e.g. `TALK_DETECT(set)`. */
  async setVariable(name: string, value: string): Promise<void> {
    await this.ami.action('Setvar', { Channel: this.channel, Variable: name, Value: value });
  }

  /** Calls `listener` with every event named in `names` about this call's channel; returns the function that stops it. */
  onEvents(names: readonly string[], listener: (event: AmiMessage) => void): () => void {
    const onEvent = (event: AmiMessage): void => {
      if (event.get('Uniqueid') === this.call.id && names.includes(event.get('Event') ?? '')) listener(event);
    };
    this.ami.on('event', onEvent);
    return () => this.ami.off('event', onEvent);
  }
}
