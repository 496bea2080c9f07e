/**
 * agikit example: click to call. A web app (or a shell) delivers a Relay task; the consumer that
 * takes it dials the number, speaks the message when the far end picks up, and hangs up.
 *
 * Serve it (AMI places the call; the media directory holds the synthesized speech, and Asterisk must
 * reach it at the same path, or at --asterisk-media-dir):
 *
 *     AGIKIT_PROJECT=acme AGIKIT_TOKEN=secret agikit serve dist/examples/click-to-call.js \
 *       --ami ami://relay:secret@127.0.0.1:5038 --media-dir /var/lib/agikit-media
 *
 * deliver a task (same project and token; `--url` or `--redis` when the consumer's `--tasks` says so):
 *
 *     AGIKIT_PROJECT=acme AGIKIT_TOKEN=secret agikit task click-to-call \
 *       '{"uuid":"42","to":"+15551234","from":"+15550000","text":"Your order has shipped."}'
 *
 * and tell Asterisk how to reach numbers: the call is `Local/<to>@relay-outbound/n`, a context of your
 * dialplan, e.g.
 *
 *     [relay-outbound]
 *     exten => _+X.,1,Dial(PJSIP/${EXTEN}@trunk,30)
 *
 * (or give the consumer a `resolveDevice` that returns `PJSIP/<to>@trunk` directly).
 */
import { relay } from 'agikit';

/** The task: who to call, from which number, and what to say. */
interface ClickToCallTask {
  to: string;
  from?: string;
  text?: string;
}

function isClickToCall(message: relay.TaskMessage): message is relay.TaskMessage & ClickToCallTask {
  return typeof message['to'] === 'string' && (message['from'] === undefined || typeof message['from'] === 'string') && (message['text'] === undefined || typeof message['text'] === 'string');
}

export default class ClickToCall extends relay.Consumer {
  override setup(): void {
    this.project = process.env['AGIKIT_PROJECT'] ?? 'example';
    this.token = process.env['AGIKIT_TOKEN'] ?? '';
    this.contexts = ['click-to-call'];
  }

  override async onTask(message: relay.TaskMessage): Promise<void> {
    if (!isClickToCall(message)) throw new Error(`not a click-to-call task: ${JSON.stringify(message)}`);
    const { successful, call } = await this.client.calling.dial({ type: 'phone', toNumber: message.to, fromNumber: message.from ?? '', timeout: 30 });
    call.log.info({ to: message.to, successful, reason: call.hangupReason }, successful ? 'click to call: answered' : 'click to call: not answered');
    if (!successful) return;
    await call.playTTS({ text: message.text ?? 'Hello. This is your click to call.' });
    await call.hangup();
  }
}
