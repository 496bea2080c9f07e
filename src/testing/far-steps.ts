/**
 * The far leg's script: what the other side of a live test call does (send DTMF, play audio, stay
 * silent, wait for a signal, record, hang up). Steps are plain data, built with {@link far}; the
 * harness compiles them into dialplan (see call-dialplan.ts).
 *
 * @module
 */


/** Wait until a signal is raised (by the AGI app or the test). */
export interface FarWaitForStep {
  readonly kind: 'waitFor';
  /** Signal name. */
  readonly signal: string;
  /** Give up after this long (default 10000 ms): the far leg records `farTimeout` and hangs up. */
  readonly timeoutMs?: number;
}

/** Raise a signal the test ({@link LiveCall.waitForSignal}) or the AGI app (`DATABASE GET`) can wait for. */
export interface FarSignalStep {
  readonly kind: 'signal';
  /** Signal name. */
  readonly signal: string;
}

/** Send DTMF digits with SendDTMF(). */
export interface FarDtmfStep {
  readonly kind: 'dtmf';
  /** Digits: 0-9, A-D, *, #, and w (500 ms pause). */
  readonly digits: string;
  /** Tone length in ms (Asterisk's default: 100). */
  readonly durationMs?: number;
  /** Gap between tones in ms (Asterisk's default: 250). */
  readonly betweenMs?: number;
}

/** Play sound files (audio) with Playback(). */
export interface FarPlaybackStep {
  readonly kind: 'playback';
  /** Sound file names without extension, e.g. `hello-world`, `digits/5`. */
  readonly files: readonly string[];
}

/** Send silent audio frames (Playback of silence/N files). */
export interface FarSilenceStep {
  readonly kind: 'silence';
  /** Whole seconds of silence (1 or more). */
  readonly seconds: number;
}

/** Do nothing for a while: no audio frames at all (Wait()). */
export interface FarWaitStep {
  readonly kind: 'wait';
  /** Seconds, fractions allowed. */
  readonly seconds: number;
}

/** Collect DTMF digits the app sends (Read()); they appear in {@link CallResult.farDigits}. */
export interface FarReadStep {
  readonly kind: 'read';
  /** Key under which the digits are reported. */
  readonly name: string;
  /** Stop after this many digits (default: until # or timeout). */
  readonly maxDigits?: number;
  /** Seconds to wait for digits (default 10). */
  readonly timeoutSeconds?: number;
}

/** Record what the app sends to the caller (Record()), e.g. to check STREAM FILE produced audio. */
export interface FarRecordStep {
  readonly kind: 'record';
  /** Path in the container including the format extension, e.g. `/tmp/heard.wav`. */
  readonly path: string;
  /** Maximum length in seconds (default 10). */
  readonly maxSeconds?: number;
  /** Stop after this many seconds of silence (default 0: never). */
  readonly silenceSeconds?: number;
}

/** Echo the app's audio and DTMF back to it (Echo()), until hangup. */
export interface FarEchoStep {
  readonly kind: 'echo';
}

/** Hang up the far leg (the AGI side then sees a hangup). */
export interface FarHangupStep {
  readonly kind: 'hangup';
  /** Optional hangup cause code, e.g. 16 (normal clearing) or 17 (busy). */
  readonly cause?: number;
}

/** Run any dialplan application on the far leg. */
export interface FarAppStep {
  readonly kind: 'app';
  /** Application name, e.g. `MusicOnHold`. */
  readonly application: string;
  /** Application data exactly as in extensions.conf (variables are substituted). */
  readonly data: string;
}

/** One step of the far leg's script. Build them with {@link far}. */
export type FarStep =
  | FarWaitForStep
  | FarSignalStep
  | FarDtmfStep
  | FarPlaybackStep
  | FarSilenceStep
  | FarWaitStep
  | FarReadStep
  | FarRecordStep
  | FarEchoStep
  | FarHangupStep
  | FarAppStep;

/**
 * Builders for far-leg steps. The far leg always answers first; after the
 * last step it stays silent on the line until the app side hangs up (or the
 * call times out), unless a step hangs up.
 */
export const far = {
  /**
   * Wait for a signal from the AGI app (`DATABASE PUT agikit-sync/<call> <name> 1`,
   * see {@link signalCommand}) or from the test ({@link LiveCall.signal}).
   *
   * @param signal - signal name
   * @param options - timeoutMs: give up after this long (default 10000)
   * @returns the step
   */
  waitFor(signal: string, options: { readonly timeoutMs?: number } = {}): FarWaitForStep {
    return { kind: 'waitFor', signal, ...options };
  },
  /**
   * Raise a signal for the test or the AGI app.
   *
   * @param signal - signal name
   * @returns the step
   */
  signal(signal: string): FarSignalStep {
    return { kind: 'signal', signal };
  },
  /**
   * Send DTMF digits.
   *
   * @param digits - 0-9, A-D, *, #, w
   * @param options - durationMs and betweenMs of the tones
   * @returns the step
   */
  dtmf(digits: string, options: { readonly durationMs?: number; readonly betweenMs?: number } = {}): FarDtmfStep {
    return { kind: 'dtmf', digits, ...options };
  },
  /**
   * Play sound files to the app side.
   *
   * @param files - sound names without extension
   * @returns the step
   */
  playback(...files: string[]): FarPlaybackStep {
    return { kind: 'playback', files };
  },
  /**
   * Send silent audio for a number of seconds (real frames, so silence
   * detection in RECORD FILE works).
   *
   * @param seconds - whole seconds
   * @returns the step
   */
  silence(seconds: number): FarSilenceStep {
    return { kind: 'silence', seconds };
  },
  /**
   * Pause without sending any frames.
   *
   * @param seconds - seconds, fractions allowed
   * @returns the step
   */
  wait(seconds: number): FarWaitStep {
    return { kind: 'wait', seconds };
  },
  /**
   * Collect digits sent by the app.
   *
   * @param name - key in {@link CallResult.farDigits}
   * @param options - maxDigits, timeoutSeconds
   * @returns the step
   */
  read(name: string, options: { readonly maxDigits?: number; readonly timeoutSeconds?: number } = {}): FarReadStep {
    return { kind: 'read', name, ...options };
  },
  /**
   * Record the app's audio into a file in the container.
   *
   * @param filePath - container path with format extension, e.g. `/tmp/x.wav`
   * @param options - maxSeconds, silenceSeconds
   * @returns the step
   */
  record(filePath: string, options: { readonly maxSeconds?: number; readonly silenceSeconds?: number } = {}): FarRecordStep {
    return { kind: 'record', path: filePath, ...options };
  },
  /**
   * Echo audio and DTMF back to the app until hangup.
   *
   * @returns the step
   */
  echo(): FarEchoStep {
    return { kind: 'echo' };
  },
  /**
   * Hang up the far leg.
   *
   * @param cause - optional hangup cause code
   * @returns the step
   */
  hangup(cause?: number): FarHangupStep {
    return cause === undefined ? { kind: 'hangup' } : { kind: 'hangup', cause };
  },
  /**
   * Run any dialplan application.
   *
   * @param application - application name
   * @param data - application data as written in extensions.conf
   * @returns the step
   */
  app(application: string, data = ''): FarAppStep {
    return { kind: 'app', application, data };
  },
} as const;
