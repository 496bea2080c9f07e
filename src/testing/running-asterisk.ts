/**
 * A running Asterisk container: its CLI (`asterisk -rx`, several commands per round trip), the
 * astdb and global variables, files in and out, the console log, and calls (live-calls.ts).
 * {@link startAsterisk} (container.ts) makes one.
 *
 * @module
 */

import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import type { StartedTestContainer } from 'testcontainers';
import { VARIABLE_NAME_PATTERN } from './call-dialplan.js';
import type { ConsoleLog } from './console-log.js';
import { MAX_CLI_COMMAND_BYTES, assertNoLineBreaks, cliCommandBytes, cliQuote } from './dialplan-text.js';
import { LiveCalls } from './live-calls.js';
import type { AmiAccess, CopySpec, ExecOutput, LiveAsterisk, LiveCall, OriginateOptions, PjsipLoopbackAccess } from './live-types.js';

/** The {@link LiveAsterisk} of one container. */
export class RunningAsterisk implements LiveAsterisk {
  readonly image: string;
  readonly containerId: string;
  version = '';
  ami: AmiAccess | undefined;
  pjsip: PjsipLoopbackAccess | undefined;
  private readonly container: StartedTestContainer;
  private readonly consoleLog: ConsoleLog;
  private readonly calls: LiveCalls;
  private stopped: Promise<void> | undefined;

  constructor(container: StartedTestContainer, image: string, consoleLog: ConsoleLog) {
    this.container = container;
    this.image = image;
    this.containerId = container.getId();
    this.consoleLog = consoleLog;
    this.calls = new LiveCalls(this, consoleLog);
  }

  /** Reads the version; the first CLI round trip also proves the remote console works. */
  async init(): Promise<void> {
    const out = await this.cli('core show version');
    this.version = out.split('\n')[0]?.trim() ?? '';
  }

  async exec(argv: readonly string[]): Promise<ExecOutput> {
    const r = await this.container.exec([...argv]);
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  }

  async cli(command: string): Promise<string> {
    const [out] = await this.cliMany([command]);
    return out ?? '';
  }

  async cliMany(commands: readonly string[]): Promise<string[]> {
    if (commands.length === 0) return [];
    for (const c of commands) {
      assertNoLineBreaks(c, 'CLI command');
      const bytes = cliCommandBytes(c);
      if (bytes > MAX_CLI_COMMAND_BYTES) {
        throw new Error(
          `CLI command of ${bytes} bytes is too long (Asterisk's remote console ignores commands of about 496 bytes or more): ${c.slice(0, 80)}...`,
        );
      }
    }
    const sep = `--agikit-${randomBytes(8).toString('hex')}--`;
    const script = 'sep=$1; shift; for c in "$@"; do asterisk -rx "$c" 2>&1; printf "\\n%s %s\\n" "$sep" "$?"; done';
    const r = await this.container.exec(['sh', '-c', script, 'sh', sep, ...commands]);
    const outputs: string[] = [];
    let rest = r.stdout;
    for (const command of commands) {
      const at = rest.indexOf(`\n${sep} `);
      if (at < 0) throw new Error(`no output for CLI command ${JSON.stringify(command)} (exec exit ${r.exitCode}): ${r.stdout}${r.stderr}`);
      const text = rest.slice(0, at);
      const eol = rest.indexOf('\n', at + sep.length + 2);
      const code = Number(rest.slice(at + sep.length + 2, eol < 0 ? undefined : eol));
      rest = eol < 0 ? '' : rest.slice(eol + 1);
      if (code !== 0) throw new Error(`asterisk -rx ${JSON.stringify(command)} failed (exit ${code}): ${text.trim()}`);
      outputs.push(text);
    }
    return outputs;
  }

  async dbGet(family: string, key: string): Promise<string | undefined> {
    const out = await this.cli(`database get ${cliQuote(family)} ${cliQuote(key)}`);
    const m = /^Value: (.*)$/m.exec(out);
    return m?.[1];
  }

  async dbPut(family: string, key: string, value: string): Promise<void> {
    const out = await this.cli(`database put ${cliQuote(family)} ${cliQuote(key)} ${cliQuote(value)}`);
    if (!out.includes('Updated database successfully')) throw new Error(`database put ${family}/${key} failed: ${out.trim()}`);
  }

  async dbDel(family: string, key: string): Promise<void> {
    await this.cli(`database del ${cliQuote(family)} ${cliQuote(key)}`);
  }

  async dbDeltree(family: string): Promise<void> {
    await this.cli(`database deltree ${cliQuote(family)}`);
  }

  async setGlobal(name: string, value: string): Promise<void> {
    assertVariableName(name);
    await this.cli(`dialplan set global ${name} ${cliQuote(value)}`);
  }

  async getGlobal(name: string): Promise<string> {
    assertVariableName(name);
    const out = await this.cli(`dialplan eval function GLOBAL(${name})`);
    const m = /^Result: (.*)$/m.exec(out);
    if (m === null) throw new Error(`cannot read global ${name}: ${out.trim()}`);
    return m[1] ?? '';
  }

  async copy(spec: CopySpec): Promise<void> {
    if (statSync(spec.source).isDirectory()) {
      await this.container.copyDirectoriesToContainer([{ source: spec.source, target: spec.target }]);
    } else {
      await this.container.copyFilesToContainer([
        spec.mode === undefined ? { source: spec.source, target: spec.target } : { source: spec.source, target: spec.target, mode: spec.mode },
      ]);
    }
  }

  async writeFile(target: string, content: string | Uint8Array, mode?: number): Promise<void> {
    const data = typeof content === 'string' ? content : Buffer.from(content);
    await this.container.copyContentToContainer([mode === undefined ? { content: data, target } : { content: data, target, mode }]);
  }

  async readFile(target: string): Promise<Buffer> {
    const r = await this.exec(['base64', '-w0', target]);
    if (r.exitCode !== 0) throw new Error(`cannot read ${target}: ${r.stderr.trim()}`);
    return Buffer.from(r.stdout, 'base64');
  }

  logs(): string {
    return this.consoleLog.text;
  }

  waitForLog(pattern: RegExp | string, options: { readonly timeoutMs?: number; readonly fromStart?: boolean } = {}): Promise<string> {
    return this.consoleLog.waitFor(pattern, options);
  }

  originate(options: OriginateOptions): Promise<LiveCall> {
    return this.calls.originate(options);
  }

  stop(): Promise<void> {
    this.stopped ??= this.container.stop({ timeout: 2000 }).then(
      () => undefined,
      () => undefined,
    );
    return this.stopped;
  }
}

function assertVariableName(name: string): void {
  if (!VARIABLE_NAME_PATTERN.test(name)) throw new Error(`invalid variable name ${JSON.stringify(name)}`);
}
