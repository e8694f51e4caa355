/**
 * A job's newest execution for `list-jobs`, from the Job resource itself: `latestCreatedExecution` (CONTRACT
 * §4) carries its name, createTime, completionTime and completionStatus, and it comes with the `listJobs`
 * answer. So list-jobs reads jobs, triggers and nothing else in one wave, instead of one more round trip per
 * job for `getExecution`.
 *
 * The full execution is read only for a failed or cancelled one (all of them at once, in a second wave that
 * a healthy environment never makes): the reason line quotes its `Completed` condition's message, which the
 * reference does not carry. Start and duration then come from the execution's own startTime; otherwise they
 * count from the execution's creation (what the reference has), which is when the trigger or operator asked
 * for the run: earlier than its start by the seconds Cloud Run took to start the task.
 *
 * @example
 * const latest = referencedExecution(runJob); // { name, status: "succeeded", start, end } or null
 * const full = needsFullRead(latest) ? await readLatest(clients, latest.name) : null;
 */
import type { Clients } from "./clients.ts";
import type { RunJob } from "./desired.ts";
import { type Execution, type ExecutionStatus, readExecution, toDate } from "./execution.ts";
import { enumName } from "./normalize.ts";

const COMPLETION_STATUSES = [
  "COMPLETION_STATUS_UNSPECIFIED",
  "EXECUTION_SUCCEEDED",
  "EXECUTION_FAILED",
  "EXECUTION_RUNNING",
  "EXECUTION_PENDING",
  "EXECUTION_CANCELLED",
];
const STATUS_OF: Record<string, ExecutionStatus> = {
  EXECUTION_SUCCEEDED: "succeeded",
  EXECUTION_FAILED: "failed",
  EXECUTION_CANCELLED: "cancelled",
  EXECUTION_RUNNING: "running",
  EXECUTION_PENDING: "running",
};

export interface LatestExecution {
  name: string;
  status: ExecutionStatus;
  start: Date | null;
  /** completionTime; null while it runs. */
  end: Date | null;
  /** The full execution, when it was read (failed or cancelled). */
  execution?: Execution;
}

/** What the Job resource says of its newest execution, or null when it never ran. */
export function referencedExecution(runJob: RunJob | undefined): LatestExecution | null {
  const reference = runJob?.latestCreatedExecution;
  if (!reference?.name) return null;
  const status = enumName(COMPLETION_STATUSES, reference.completionStatus, "COMPLETION_STATUS_UNSPECIFIED");
  const end = toDate(reference.completionTime);
  return {
    name: reference.name,
    // Unspecified: trust the completion time alone (ended, result unknown: read it in full).
    status: STATUS_OF[status] ?? (end ? "failed" : "running"),
    start: toDate(reference.createTime),
    end,
  };
}

/** A failed or cancelled run's reason is in the full execution only. */
export const needsFullRead = (latest: LatestExecution | null): latest is LatestExecution =>
  latest !== null && (latest.status === "failed" || latest.status === "cancelled");

/** The full execution (re-read once if it disagrees with itself); the reference alone if it is gone. */
export async function readLatest(clients: Clients, latest: LatestExecution): Promise<LatestExecution> {
  try {
    const { execution, status } = await readExecution(await clients.executions(), latest.name);
    return {
      name: latest.name,
      status,
      start: toDate(execution.startTime) ?? toDate(execution.createTime),
      end: toDate(execution.completionTime),
      execution,
    };
  } catch (error) {
    // Deleted since (executions are kept up to a limit): what the job said of it is all there is.
    const code = (error as { code?: unknown }).code;
    if (code === 5 || code === 404) return latest;
    throw error;
  }
}
