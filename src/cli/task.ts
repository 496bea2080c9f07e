import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { RelayError } from '../relay/errors.js';
import { Task } from '../relay/task.js';
import { DEFAULT_TASK_PORT } from '../relay/transports/local-http.js';
import { printLine } from './options.js';

interface TaskFlags {
  project: string;
  token: string;
  redis?: string;
  url?: string;
  timeout?: number;
}

/** Exit codes of `agikit task`. */
export const TASK_EXIT = { delivered: 0, notDelivered: 1, usage: 2 } as const;

function usage(message: string): never {
  process.stderr.write(`agikit task: ${message}\n`);
  process.exit(TASK_EXIT.usage);
}

/** Reads the message argument: JSON text, or `-` for JSON on standard input. */
function readMessage(text: string): Record<string, unknown> {
  const json = text === '-' ? readFileSync(0, 'utf8') : text;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    usage(`the message is not JSON: ${(error as Error).message}`);
  }
  return value as Record<string, unknown>;
}

/** `agikit task <context> <json>`: delivers one Relay task, for shells, deploy scripts and web apps. */
export function registerTask(program: Command): void {
  program
    .command('task')
    .description('deliver a Relay task to the consumers listening on a context (exit 0 delivered, 1 not delivered, 2 usage)')
    .argument('<context>', 'the context, e.g. office')
    .argument('<json>', 'the message, a JSON object ("-" reads it from standard input)')
    .addOption(new Option('--project <project>', 'the Relay project').env('AGIKIT_PROJECT').makeOptionMandatory())
    .addOption(new Option('--token <token>', 'the project\'s token (better from the environment: ps shows arguments)').env('AGIKIT_TOKEN').makeOptionMandatory())
    .addOption(new Option('--redis <url>', 'deliver through Redis Streams, redis://[user:password@]host:port').conflicts('url'))
    .addOption(new Option('--url <url>', `deliver to the local consumers on this machine (default http://127.0.0.1:${DEFAULT_TASK_PORT})`))
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : TASK_EXIT.usage))
    .addHelpText(
      'after',
      `
Exit status: 0 when a consumer (or Redis) has the task, 1 when it could not be delivered (the reason
is printed: no consumer, token refused, all busy, unreachable), 2 for a usage error.

Examples:
  AGIKIT_PROJECT=acme AGIKIT_TOKEN=secret agikit task office '{"uuid":"42","action":"call","to":"+15551234"}'
  agikit task office '{"uuid":"43"}' --project acme --token secret --url http://127.0.0.1:4600
  echo '{"uuid":"44"}' | agikit task office - --project acme --token secret --redis redis://127.0.0.1:6379`,
    )
    .action(async (context: string, json: string, flags: TaskFlags) => {
      const message = readMessage(json);
      let task: Task;
      try {
        task = new Task({ project: flags.project, token: flags.token, transport: flags.redis ?? flags.url });
      } catch (error) {
        usage(error instanceof Error ? error.message : String(error));
      }
      try {
        const outcome = await task.attempt(context, message);
        if (outcome.delivered) {
          printLine(`delivered to ${context} over ${task.transportName}`);
          return;
        }
        process.stderr.write(`agikit task: not delivered (${outcome.reason}): ${outcome.detail}\n`);
        process.exitCode = TASK_EXIT.notDelivered;
      } catch (error) {
        // A bad context or message is the caller's to fix; anything else (a missing redis package) too.
        usage(error instanceof RelayError ? error.message : String(error));
      } finally {
        await task.close();
      }
    });
}
