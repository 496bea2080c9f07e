/**
 * `faxSend()` / `faxReceive()` and their `*Async` forms: the {@link FaxAction} and the component
 * behind it. res_fax with spandsp does the fax, in the call's lane:
 * - send: the document made ready (fax-document.ts: a PDF converted with ghostscript, a TIFF
 *   checked), `FAXOPT(localstationid)` / `FAXOPT(headerinfo)`, then `EXEC SendFAX <tiff>`;
 * - receive: `FAXOPT(localstationid)` when given, then `EXEC ReceiveFAX <media>/faxes/<controlId>.tif`.
 *
 * The result is res_fax's variables read after the `EXEC` (`FAXSTATUS` decides, see
 * `faxSucceeded`): over AGI (also on a dead channel), else over AMI. `fax.page` comes from polling
 * AMI `FAXSession` (spandsp's page counter; res_fax has no page event), topped up from `FAXPAGES`
 * at the end. `stop()` is `call.returnToAgi()` (an AMI Redirect ends the `EXEC`, D3).
 *
 * @module
 */

import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Agi } from '../agi/agi.js';
import { AgiAbortError, AgiHangupError } from '../errors.js';
import { PathMapping } from '../media/paths.js';
import { agiEvent, type Call } from './call.js';
import { Action, Component, startAction, type MethodOptions } from './component.js';
import { CallNotControllableError, RelayCapabilityError } from './errors.js';
import { FAXES_SUBDIRECTORY, prepareFaxDocument, type FaxDocument } from './fax-document.js';
import {
  checkFaxReceive,
  checkFaxSend,
  FAX_RESULT_EXPRESSION,
  FAX_RESULT_VARIABLES,
  faxPages,
  faxPayload,
  faxSucceeded,
  faxVariablesOf,
  pagesDone,
  parseFaxVariables,
  type FaxPlan,
  type FaxReceiveParams,
  type FaxSendParams,
  type FaxVariables,
} from './fax-options.js';
import { pollEvery } from './poll.js';
import type { FaxResult, RelayEvent, StopResult } from './results.js';

/**
 * States of a fax: `pending` until it has the call's lane, `faxing` while `SendFAX`/`ReceiveFAX`
 * runs, then `finished` (sent or received, or stopped: the result says which) or `error` (res_fax
 * reported a failure, the call hung up, or it could not run).
 */
export type FaxState = 'pending' | 'faxing' | 'finished' | 'error';

/** How often the page counter (AMI `FAXSession`) is read while a fax runs (ms). */
export const FAX_PAGE_POLL_MS = 500;
/** Longest `SendFAX`/`ReceiveFAX` agikit waits for: an hour (a page takes about 20 s at 14400 bit/s). */
const FAX_COMMAND_TIMEOUT_MS = 60 * 60_000;
/** How often `stop()` asks again while the fax has not ended (ms). */
const STOP_RETRY_MS = 1000;

/** One fax on a call. */
class FaxComponent extends Component<FaxResult, FaxState> {
  protected readonly haltRetryMs = STOP_RETRY_MS;
  private running = false;
  private outcome: 'finished' | 'error' = 'finished';
  /** Pages reported by `fax.page` so far. */
  private pagesReported = 0;
  /** res_fax's end-of-fax AMI event (`SendFAX`/`ReceiveFAX`), the last resort for the result. */
  private endEvent: FaxVariables | undefined;

  constructor(
    call: Call,
    readonly plan: FaxPlan,
    /** Send: the TIFF to send. */
    private readonly document: FaxDocument | undefined,
    mapping: PathMapping,
    options: MethodOptions,
  ) {
    super(call, 'fax', faxPayload(plan), 'pending', { queue: options.queue, preempt: options.preempt });
    if (plan.direction === 'receive') {
      const local = path.join(mapping.localRoot, FAXES_SUBDIRECTORY, `${this.controlId}.tif`);
      this.target = { local, asterisk: mapping.toAsterisk(local) ?? local };
    }
  }

  /** Receive: where the TIFF goes (`faxes/<controlId>.tif`), on agikit's side and Asterisk's. */
  readonly target: { readonly local: string; readonly asterisk: string } | undefined;

  protected async execute(): Promise<FaxResult> {
    if (this.target) await mkdir(path.dirname(this.target.local), { recursive: true });
    return this.inLane(async (agi) => {
      const { plan } = this;
      if (this.stopRequested) return this.conclude(null, true, null);
      if (plan.identity !== undefined) await agi.setVariable('FAXOPT(localstationid)', plan.identity);
      if (plan.direction === 'send' && plan.header !== undefined) await agi.setVariable('FAXOPT(headerinfo)', plan.header);
      if (this.stopRequested) return this.conclude(null, true, null);
      const [application, file] = plan.direction === 'send' ? ['SendFAX', this.document?.asterisk] : ['ReceiveFAX', this.target?.asterisk];
      const unwatch = this.watch();
      let result: FaxResult;
      try {
        let returned = -1;
        this.running = true;
        this.setState('faxing');
        try {
          returned = await agi.exec(application, file ?? '', { timeoutMs: FAX_COMMAND_TIMEOUT_MS });
        } catch (error) {
          // A hangup or a Redirect (stop) ends the EXEC; res_fax's variables still say what happened.
          if (!(error instanceof AgiHangupError) && !(error instanceof AgiAbortError)) throw error;
          this.call.log.debug({ err: error }, `fax: ${application} ended by a hangup or a Redirect`);
        } finally {
          this.running = false;
        }
        const variables = await this.readVariables(agi);
        result = this.conclude(variables, this.stopRequested, agiEvent('EXEC', { application, result: returned, ...variables }));
      } finally {
        unwatch();
      }
      // A receive that got no page leaves at most an empty TIFF behind: not worth keeping.
      if (this.target && result.document === '') await rm(this.target.local, { force: true });
      return result;
    });
  }

  protected failed(error: unknown): FaxResult {
    const expected = error instanceof AgiAbortError || error instanceof AgiHangupError || (error instanceof CallNotControllableError && error.why === 'ended') || !this.call.active;
    if (this.stopRequested && expected) return this.conclude(null, true, null);
    if (!expected) this.call.log.warn({ err: error, controlId: this.controlId }, `fax ${this.plan.direction} failed`);
    const event: RelayEvent = expected ? { name: 'call.ended', payload: {} } : { name: 'fax.error', payload: { message: error instanceof Error ? error.message : String(error) } };
    return this.conclude(null, false, event);
  }

  protected endState(): FaxState {
    return this.outcome;
  }

  protected override stateChanged(state: FaxState): void {
    this.call.fireAction('fax.stateChange', this.handle);
    if (state === 'finished') this.call.fireAction('fax.finished', this.handle);
    else if (state === 'error') this.call.fireAction('fax.error', this.handle);
  }

  /** A running `SendFAX`/`ReceiveFAX` ends when the call is sent back to AGI (AMI Redirect, D3). */
  protected async haltRunning(): Promise<void> {
    if (!this.running) return; // setting FAXOPT: the work checks stopRequested before the EXEC
    try {
      await this.call.returnToAgi();
    } catch (error) {
      this.call.log.debug({ err: error }, 'fax: returning the call to AGI failed');
    }
  }

  /** The result: successful only with `FAXSTATUS` `SUCCESS`; the state `error` unless that or `stopped`. */
  private conclude(variables: FaxVariables | null, stopped: boolean, event: RelayEvent | null): FaxResult {
    const successful = variables !== null && faxSucceeded(variables);
    const pages = variables ? faxPages(variables) : 0;
    this.reportPages(pages);
    if (!successful && !stopped) this.outcome = 'error';
    let document = '';
    if (this.plan.direction === 'send') document = this.plan.document;
    else if (pages > 0 && this.target) document = pathToFileURL(this.target.local).href;
    return {
      successful,
      event,
      direction: this.plan.direction,
      identity: variables?.LOCALSTATIONID || this.plan.identity || '',
      remoteIdentity: variables?.REMOTESTATIONID ?? '',
      document,
      pages,
    };
  }

  /** Emits `fax.page` when more pages are done than reported. */
  private reportPages(pages: number): void {
    if (pages <= this.pagesReported) return;
    this.pagesReported = pages;
    if (this.handle) this.call.fire('fax.page', this.handle as FaxAction, pages);
  }

  /**
   * res_fax's variables after the `EXEC`: one `GET FULL VARIABLE` on the session (it works on a
   * dead channel); when that session is gone (a Redirect), AMI `Getvar`s; when the channel is gone
   * too, res_fax's end event; `null` when nothing answers.
   */
  private async readVariables(agi: Agi): Promise<FaxVariables | null> {
    try {
      const value = await agi.getFullVariable(FAX_RESULT_EXPRESSION);
      if (value !== undefined) return parseFaxVariables(value);
    } catch (error) {
      this.call.log.debug({ err: error }, 'fax: reading the result over AGI failed');
    }
    const ami = this.call.ami;
    if (ami) {
      try {
        const values = await Promise.all(FAX_RESULT_VARIABLES.map(async (name) => [name, await ami.getVariable(name)] as const));
        const read = new Map(values);
        return faxVariablesOf((name) => read.get(name) ?? '');
      } catch (error) {
        this.call.log.debug({ err: error }, 'fax: reading the result over AMI failed');
      }
    }
    return this.endEvent ?? null;
  }

  /** With AMI: polls the page counter and keeps res_fax's end event. Returns the function that stops it. */
  private watch(): () => void {
    const ami = this.call.ami;
    if (!ami) return () => undefined;
    const stopEvents = ami.onEvents(['SendFAX', 'ReceiveFAX'], (event) => {
      this.endEvent = faxVariablesOf((name) => {
        const field = { FAXSTATUS: 'Status', FAXPAGES: 'PagesTransferred', FAXERROR: 'Error', FAXBITRATE: 'TransferRate', FAXRESOLUTION: 'Resolution', LOCALSTATIONID: 'LocalStationID', REMOTESTATIONID: 'RemoteStationID' }[name];
        return event.get(field) ?? '';
      });
    });
    let session: string | undefined;
    const stopPolling = pollEvery(FAX_PAGE_POLL_MS, async (active) => {
      try {
        session ??= await ami.faxSessionNumber();
        if (session === undefined || !active()) return;
        const pages = pagesDone(await ami.faxSession(session));
        if (pages !== null && active()) this.reportPages(pages);
      } catch (error) {
        // The session ended between two polls, or AMI is busy: the end result tops the count up.
        this.call.log.debug({ err: error }, 'fax: reading the page counter failed');
        session = undefined;
      }
    });
    return () => {
      stopPolling();
      stopEvents();
    };
  }
}

// -------------------------------------------------------------------------------------------------
// The action and the methods

/** The seed's `FaxAction`: a fax being sent or received on the call. */
export class FaxAction extends Action<FaxResult, FaxState> {
  constructor(private readonly fax: FaxComponent) {
    super(fax);
  }

  /** `send` or `receive`. */
  get direction(): 'send' | 'receive' {
    return this.fax.plan.direction;
  }

  /**
   * Stops the fax (an AMI Redirect ends `SendFAX`/`ReceiveFAX`; the call comes back to AGI). The
   * result is unsuccessful unless res_fax had finished.
   *
   * @throws RelayCapabilityError without AMI or this process's FastAGI address: AGI cannot interrupt `EXEC`
   */
  override async stop(): Promise<StopResult> {
    if (!this.completed) assertStoppable(this.call, 'FaxAction.stop');
    return super.stop();
  }
}

function assertStoppable(call: Call, method: string): void {
  if (!call.runtime.ami) throw new RelayCapabilityError('ami', method, "AGI cannot interrupt the EXEC'd SendFAX/ReceiveFAX; stopping it takes an AMI Redirect that brings the call back to agikit");
  call.runtime.requireOwner(method);
}

/** The media directory, required: the documents go there. */
function mediaMapping(call: Call, method: string, why: string): PathMapping {
  const directory = call.runtime.media.directory;
  if (!directory) throw new RelayCapabilityError('media-directory', method, why);
  return new PathMapping(directory);
}

function start(call: Call, method: string, plan: FaxPlan, document: FaxDocument | undefined, mapping: PathMapping, options: MethodOptions): FaxAction {
  if (options.signal) assertStoppable(call, `${method}({ signal })`);
  const component = new FaxComponent(call, plan, document, mapping, options);
  if (!call.agi && !call.ended) throw new CallNotControllableError(method, 'no-agi');
  return startAction(component, (c) => new FaxAction(c), options);
}

/**
 * Starts sending a fax and returns its action. The document is made ready first (fetched, converted,
 * checked): nothing is sent when that fails.
 *
 * @throws RelayArgumentError for bad parameters or a document that is not a PDF or a fax TIFF
 * @throws RelayCapabilityError without a media directory; for a PDF without ghostscript; for a
 *   `signal` without AMI
 * @throws CallNotControllableError when the call has no AGI session
 * @throws CallBusyError with `queue: false` when something holds the call's lane
 */
export async function faxSendAsync(call: Call, params: FaxSendParams, options: MethodOptions = {}, method = 'faxSendAsync'): Promise<FaxAction> {
  const plan = checkFaxSend(method, params);
  const mapping = mediaMapping(call, method, 'to put the document where Asterisk can read it');
  if (options.signal) assertStoppable(call, `${method}({ signal })`);
  const document = await prepareFaxDocument(method, plan, mapping, options.signal);
  call.log.debug({ document: plan.document, tiff: document.asterisk, pages: document.tiff.pages.length, type: document.type }, 'fax: document ready');
  return start(call, method, plan, document, mapping, options);
}

/** Sends a fax and resolves with the result once it has ended. Throws as {@link faxSendAsync}. */
export async function faxSend(call: Call, params: FaxSendParams, options: MethodOptions = {}): Promise<FaxResult> {
  return (await faxSendAsync(call, params, options, 'faxSend')).done;
}

/**
 * Starts receiving a fax into `<media directory>/faxes/<controlId>.tif` and returns its action.
 *
 * @throws RelayArgumentError for a bad identity
 * @throws RelayCapabilityError without a media directory; for a `signal` without AMI
 * @throws CallNotControllableError when the call has no AGI session
 * @throws CallBusyError with `queue: false` when something holds the call's lane
 */
export async function faxReceiveAsync(call: Call, params: FaxReceiveParams = {}, options: MethodOptions = {}, method = 'faxReceiveAsync'): Promise<FaxAction> {
  const plan = checkFaxReceive(method, params);
  const mapping = mediaMapping(call, method, 'to receive the fax into');
  return start(call, method, plan, undefined, mapping, options);
}

/** Receives a fax and resolves with the result once it has ended. Throws as {@link faxReceiveAsync}. */
export async function faxReceive(call: Call, params: FaxReceiveParams = {}, options: MethodOptions = {}): Promise<FaxResult> {
  return (await faxReceiveAsync(call, params, options, 'faxReceive')).done;
}

