import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerServe } from './serve.js';
import { registerExec, registerShell } from './shell.js';
import { registerSimulate } from './simulate.js';
import { registerTask } from './task.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Builds the `agikit` command line program. */
export function buildProgram(): Command {
  const program = new Command('agikit')
    .description('agikit: typed Asterisk AGI / FastAGI applications')
    .version(pkg.version);
  registerServe(program);
  registerShell(program);
  registerSimulate(program);
  registerExec(program);
  registerTask(program);
  return program;
}

/** Runs the CLI; errors print as one line and exit non-zero. */
export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    process.stderr.write(`agikit: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
