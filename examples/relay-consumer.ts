/**
 * agikit example: a SignalWire Relay consumer on Asterisk. It serves the `office` context: answers,
 * greets the caller with text to speech, asks for a four-digit code, records a message until the
 * caller presses # (or goes quiet for three seconds), plays the message back, says goodbye and
 * hangs up.
 *
 * Serve it (the media directory is where recordings and synthesized speech go; Asterisk must reach
 * it at the same path, or at --asterisk-media-dir):
 *
 *     agikit serve dist/examples/relay-consumer.js --media-dir /var/lib/agikit-media \
 *       --ami ami://relay:secret@127.0.0.1:5038      # optional: the AGI-only subset works without
 *
 * and point calls at it from the dialplan:
 *
 *     exten => 300,1,AGI(agi://127.0.0.1:4573/relay/office)
 *      same => n,Hangup()
 *
 * Or without any Asterisk: `agikit simulate dist/examples/relay-consumer.js --route /relay/office
 * --dtmf 1234# --media-dir /tmp/agikit-media`.
 */
import { relay } from 'agikit';

export default class OfficeConsumer extends relay.Consumer {
  override setup(): void {
    this.project = 'example';
    this.contexts = ['office'];
  }

  override ready(): void {
    process.stderr.write(`relay example: serving the office context\n`);
  }

  override async onIncomingCall(call: relay.Call): Promise<void> {
    call.on('ended', () => call.log.info({ reason: call.hangupReason }, 'call ended'));
    const answered = await call.answer();
    if (!answered.successful) return;
    await call.playTTS({ text: 'Welcome to the office.' });
    const code = await call.promptTTS({
      promptType: 'digits',
      text: 'Please enter your four digit code, then press hash.',
      digitsMax: 4,
      digitsTerminators: '#',
      digitsTimeout: 5,
      initialTimeout: 8,
    });
    if (!code.successful) {
      await call.playTTS({ text: 'No code was entered. Goodbye.' });
      await call.hangup();
      return;
    }
    await call.agi?.setVariable('RELAY_CODE', code.result ?? '');
    await call.playTTS({ text: `Thank you. Leave a message after the beep, then press hash.` });
    const message = await call.record({ beep: true, terminators: '#', endSilenceTimeout: 3, initialTimeout: 5 });
    await call.agi?.setVariable('RELAY_MESSAGE_SECONDS', message.successful ? message.duration.toFixed(1) : '0');
    if (message.successful && message.url) {
      await call.playTTS({ text: 'You said:' });
      await call.playAudio(message.url);
    }
    await call.playTTS({ text: 'Goodbye.' });
    await call.hangup();
  }
}
