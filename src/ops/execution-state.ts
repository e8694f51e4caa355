/**
 * An execution's state as Cloud Run defines it (CONTRACT §4): finished when its `Completed` condition is
 * terminal, or when `completionTime` is set and the task counts add up to `taskCount`. The proto does not
 * order `completionTime` with the counts across operations, so a document where they disagree is read once
 * more before it is believed; one still in disagreement counts as running (the next poll reads again).
 *
 * @example
 * const { execution, status } = await readExecution(client, name); // status "succeeded" | "failed" | …
 * executionState({ completionTime, succeededCount: 0, taskCount: 1, conditions: [] }) // { status: "running", consistent: false }
 */
import type { ExecutionsClient, protos } from "@google-cloud/run";
import { enumName } from "./normalize.ts";

type Execution = protos.google.cloud.run.v2.IExecution;
export type ExecutionStatus = "succeeded" | "failed" | "cancelled" | "running" | "detached";

const CONDITION_STATES = [
  "STATE_UNSPECIFIED",
  "CONDITION_PENDING",
  "CONDITION_RECONCILING",
  "CONDITION_FAILED",
  "CONDITION_SUCCEEDED",
];
const EXECUTION_REASONS = [
  "EXECUTION_REASON_UNDEFINED",
  "JOB_STATUS_SERVICE_POLLING_ERROR",
  "NON_ZERO_EXIT_CODE",
  "CANCELLED",
  "CANCELLING",
  "DELETED",
  "DELAYED_START_PENDING",
];

const hasTime = (value: unknown): boolean => {
  if (value === null || value === undefined) return false;
  if (typeof value === "string") return value !== "";
  const seconds = (value as { seconds?: unknown }).seconds;
  return seconds !== null && seconds !== undefined;
};

export interface ExecutionState {
  status: Exclude<ExecutionStatus, "detached">;
  /** completionTime, the counts and the Completed condition tell the same story. */
  consistent: boolean;
}

/** The state of one read of an execution (see the module comment). */
export function executionState(execution: Execution): ExecutionState {
  const completed = execution.conditions?.find((c) => c.type === "Completed");
  const state = enumName(CONDITION_STATES, completed?.state, "STATE_UNSPECIFIED");
  const reason = enumName(EXECUTION_REASONS, completed?.executionReason, "EXECUTION_REASON_UNDEFINED");
  const tasks = Number(execution.taskCount ?? 1);
  const succeeded = Number(execution.succeededCount ?? 0);
  const failed = Number(execution.failedCount ?? 0);
  const cancelled = Number(execution.cancelledCount ?? 0);
  const countsDone = succeeded + failed + cancelled >= tasks;
  const ended = hasTime(execution.completionTime);
  if (state === "CONDITION_SUCCEEDED" || state === "CONDITION_FAILED") {
    const status =
      reason === "CANCELLED" || (state === "CONDITION_FAILED" && cancelled > 0 && failed === 0)
        ? "cancelled"
        : state === "CONDITION_SUCCEEDED"
          ? "succeeded"
          : "failed";
    return { status, consistent: ended && countsDone };
  }
  if (ended && countsDone) {
    const status = cancelled > 0 ? "cancelled" : failed > 0 || succeeded < tasks ? "failed" : "succeeded";
    return { status, consistent: true };
  }
  // Running; a completionTime without the counts (or the counts without a terminal condition) disagrees.
  return { status: "running", consistent: !ended };
}

/** The status alone (one read, no re-read): for documents already in hand. */
export const statusOf = (execution: Execution): ExecutionStatus => executionState(execution).status;

/** Reads an execution, and once more when the first read disagrees with itself. */
export async function readExecution(
  client: ExecutionsClient,
  name: string,
): Promise<{ execution: Execution; status: ExecutionState["status"] }> {
  let [execution] = await client.getExecution({ name });
  let state = executionState(execution);
  if (!state.consistent) {
    [execution] = await client.getExecution({ name });
    state = executionState(execution);
  }
  return { execution, status: state.status };
}

/**
 * The newest execution of `job` that is still running, with its container args, or null. Every kept
 * execution is read (the list order is not documented).
 */
export async function runningExecution(
  client: ExecutionsClient,
  job: string,
): Promise<{ name: string; args: string[] } | null> {
  const [executions] = await client.listExecutions({ parent: job });
  const time = ({ createTime: t }: Execution) =>
    Number(String(t?.seconds ?? 0)) * 1000 + Number(t?.nanos ?? 0) / 1e6;
  const running = executions
    .filter((e) => executionState(e).status === "running")
    .sort((a, b) => time(b) - time(a));
  const newest = running[0];
  return newest?.name ? { name: newest.name, args: newest.template?.containers?.[0]?.args ?? [] } : null;
}
