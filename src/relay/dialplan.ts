/**
 * What the Relay layer needs in Asterisk's dialplan, in one place: the contexts, the channel
 * variables they read, the FastAGI routes they reach, and their text ({@link RELAY_DIALPLAN}, which
 * `asterisk-conf/extensions.conf` holds verbatim; a unit test keeps the two equal). Pure.
 *
 * Every context reaches agikit through `${RELAY_OWNER}`, the FastAGI URL of the process that owns
 * the call (`agi://host:port`), written on the channel by that process: no address or port is fixed
 * in the dialplan, and with several consumer processes a call always comes back to its owner.
 *
 * @module
 */

import { RelayArgumentError } from './errors.js';

/** The contexts of {@link RELAY_DIALPLAN}. */
export const RELAY_CONTEXTS = {
  /** Example: point DIDs here, or call `AGI(.../relay/<context>)` from a context of your own. */
  inbound: 'relay-inbound',
  /** Where a Redirect (or a fax-detect goto) sends a call so that it comes back to its owner (D1). */
  resume: 'relay-resume',
  /** Where an outbound call placed with Originate goes once answered. */
  dial: 'relay-dial',
  /** The `;1` half of a helper channel: runs the helper's AGI session (D4). */
  helper: 'relay-helper',
  /** The `;2` half of a helper channel: `ChanSpy` on the target call (D4). */
  helperSpy: 'relay-helper-spy',
  /** Dial's pre-dial subroutine on the called channel: sets its caller id number. */
  predial: 'relay-predial',
} as const;

/** Channel variables the relay contexts read. */
export const RELAY_VARIABLES = {
  /** The owner's FastAGI URL, e.g. `agi://10.0.0.5:4573` (no path, no trailing slash). */
  owner: 'RELAY_OWNER',
  /** A helper channel's target: the `Uniqueid` of the call it spies on. */
  target: 'RELAY_TARGET',
  /** A helper channel's id (also its `Uniqueid`, the Originate `ChannelId`). */
  helper: 'RELAY_HELPER',
  /** Why a call came to `[relay-resume]` other than by a Redirect, e.g. `fax`. */
  resumeReason: 'RELAY_RESUME_REASON',
} as const;

/**
 * FastAGI routes of the runtime itself, under the route prefix (`/relay/resume`...). They are not
 * Relay contexts: a consumer may not serve a context of one of these names.
 */
export const RELAY_ROUTES = {
  /** A call that left its AGI session comes back: attached to its existing Call by `agi_uniqueid`. */
  resume: 'resume',
  /** An outbound call agikit placed (Originate `ChannelId` = `agi_uniqueid`) was answered. */
  dialed: 'dialed',
  /** A helper channel's AGI session, handed to whoever asked for the helper. */
  helper: 'helper',
} as const;

/** Names a consumer context may not have: they are the runtime's own routes. */
export const RESERVED_CONTEXT_NAMES: readonly string[] = Object.values(RELAY_ROUTES);

/**
 * The dialplan of the Relay layer (relay-on-asterisk.md §6), as it stands in
 * `asterisk-conf/extensions.conf`. `[relay-inbound]` is an example to adapt: it reads the consumer's
 * address from a global variable, `RELAY_CONSUMER`, which you set in `[globals]` (e.g.
 * `agi://10.0.0.5:4573`, or `hagi://relay.example.com` to let DNS SRV spread calls over consumers).
 * `[relay-messages]` (messaging) is not part of it.
 */
export const RELAY_DIALPLAN = `; --------------------------------------------------------------------------
; The Relay layer (agikit/relay). Text kept equal to RELAY_DIALPLAN in
; src/relay/dialplan.ts. Everything returns to agikit through \${RELAY_OWNER},
; the FastAGI URL (agi://host:port) of the process that owns the call, which
; agikit writes on the channel: nothing here names an address or a port.
; --------------------------------------------------------------------------

; Example: a Relay context "office" served by a consumer. Set RELAY_CONSUMER
; in [globals] (agi://10.0.0.5:4573, or hagi://relay.example.com for DNS SRV
; over several consumers), point DIDs here, or call AGI() from your own
; context. AGI path /relay/<context>.
[relay-inbound]
exten => _X.,1,AGI(\${RELAY_CONSUMER}/relay/office)
 same => n,Hangup()

; An outbound call (AMI Originate with Context/Exten/Priority and ChannelId,
; never Application=AGI) comes back to the process that placed it.
[relay-dial]
exten => s,1,AGI(\${RELAY_OWNER}/relay/dialed)
 same => n,Hangup()

; A call that left its AGI session without hanging up (AMI Redirect, a
; fax-detect goto, disconnect) comes back to its owner, which attaches the new
; session to the same Call. AGISTATUS here is HANGUP: the old session saw the
; redirect as a hangup (relay-probes.md §5); it is not one.
[relay-resume]
exten => s,1,AGI(\${RELAY_OWNER}/relay/resume)
 same => n,Hangup()
; FAXOPT(faxdetect) target, once the call's context is relay-resume.
exten => fax,1,Set(RELAY_RESUME_REASON=fax)
 same => n,Goto(s,1)

; Helper ("spy") channel: Originate Channel=Local/s@relay-helper-spy/n,
; Context=relay-helper, Exten=s, ChannelId=<helper id>, with the variables
; RELAY_TARGET=<uniqueid of the call>, RELAY_OWNER and RELAY_HELPER. The ;1
; half runs the helper's AGI session (a detector, a recording) and hears what
; the ;2 half hears: the audio coming from the target call's far party.
[relay-helper]
exten => s,1,AGI(\${RELAY_OWNER}/relay/helper)
 same => n,Hangup()

; ChanSpy options: u the argument is a uniqueid, o only the audio from the
; target channel, E end when the target hangs up, q quiet.
[relay-helper-spy]
exten => s,1,ChanSpy(\${RELAY_TARGET},qEuo)
 same => n,Hangup()

; Dial(...,b(relay-predial^s^1(<number>))): the caller id the called party
; sees. That is the called channel's connected line (what Dial copies from the
; caller, what PJSIP puts in From and a Local channel passes on as the caller
; id); i: set it without sending a connected line update.
[relay-predial]
exten => s,1,Set(CONNECTEDLINE(num,i)=\${ARG1})
 same => n,Return()
`;

/** The network interfaces {@link ownerUrl} may pick an address from (`os.networkInterfaces()`'s shape). */
export type Interfaces = Readonly<Record<string, ReadonlyArray<{ readonly address: string; readonly family: string | number; readonly internal: boolean }> | undefined>>;

/**
 * The value of `RELAY_OWNER` for a process listening at `address`: `advertise` when given (what
 * Asterisk must dial to reach this very process, e.g. behind NAT or a balancer: `agi://10.0.0.5:4573`),
 * else `agi://<listening address>:<port>`; for a wildcard listener (`0.0.0.0`, `::`) the first
 * external IPv4 address of `interfaces`, or 127.0.0.1 when there is none.
 *
 * @throws RelayArgumentError when `advertise` is not an `agi://host[:port]` URL
 */
export function ownerUrl(address: { readonly address: string; readonly port: number }, advertise: string | undefined, interfaces: Interfaces): string {
  if (advertise !== undefined) return advertisedOwner(advertise);
  let host = address.address;
  if (host === '0.0.0.0' || host === '::' || host === '') {
    const external = Object.values(interfaces)
      .flatMap((list) => list ?? [])
      .find((entry) => !entry.internal && (entry.family === 'IPv4' || entry.family === 4));
    host = external?.address ?? '127.0.0.1';
  }
  return `agi://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

/**
 * An advertised owner URL, checked: `agi://host[:port]` (a trailing slash is dropped).
 *
 * @throws RelayArgumentError for anything else (a path, `hagi://`: the owner is one process)
 */
export function advertisedOwner(advertise: string): string {
  const url = advertise.replace(/\/+$/, '');
  if (!/^agi:\/\/[^/\s?#]+$/.test(url)) {
    throw new RelayArgumentError(`agi.advertise must be agi://host[:port] (this process's own FastAGI address, no path), not ${JSON.stringify(advertise)}`);
  }
  return url;
}
