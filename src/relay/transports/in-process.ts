/**
 * {@link InProcessTaskTransport}: tasks between a {@link Task} and consumers of the same process.
 * For tests and single-process applications; the message still goes through JSON, as it would
 * between processes.
 *
 * @module
 */

import { decodeTaskMessage } from '../task-message.js';
import {
  DEFAULT_TASK_CONCURRENCY,
  notDelivered,
  TaskRoster,
  TaskRuns,
  type TaskAddress,
  type TaskDelivery,
  type TaskReceiver,
  type TaskSubscription,
  type TaskTransport,
} from '../task-transport.js';

interface Member {
  readonly project: string;
  readonly token: string;
  readonly contexts: ReadonlySet<string>;
  readonly subscription: TaskSubscription;
  readonly runs: TaskRuns;
}

/**
 * Delivers to the consumers subscribed to this very object, round robin among those listening on
 * the context. `deliver` is `true` once a consumer has started the task, `false` when none listens,
 * the token differs, or all are busy. At most once: a task whose `onTask` fails is not retried.
 */
export class InProcessTaskTransport implements TaskTransport {
  readonly name = 'in-process';
  private readonly roster = new TaskRoster<Member>();

  /** @param concurrency Most tasks each subscription runs at once. */
  constructor(private readonly concurrency = DEFAULT_TASK_CONCURRENCY) {}

  async deliver(address: TaskAddress, data: string): Promise<TaskDelivery> {
    const candidates = this.roster.candidates(address);
    if (!Array.isArray(candidates)) return candidates;
    const member = candidates.find((m) => !m.runs.full);
    if (!member) return notDelivered('busy', `every consumer of ${address.project}/${address.context} is running ${this.concurrency} tasks`);
    const message = decodeTaskMessage(data);
    const { subscription } = member;
    // A failure is logged by the subscription's handler; at most once, so nothing else to do.
    void member.runs.start(() => subscription.handle(address.context, message));
    return { delivered: true };
  }

  async consume(subscription: TaskSubscription): Promise<TaskReceiver> {
    const member: Member = {
      project: subscription.project,
      token: subscription.token,
      contexts: new Set(subscription.contexts),
      subscription,
      runs: new TaskRuns(this.concurrency),
    };
    const remove = this.roster.add(member);
    return {
      close: async (timeoutMs) => {
        remove();
        await member.runs.settled(timeoutMs);
      },
    };
  }

  async close(): Promise<void> {}
}
