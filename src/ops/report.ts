/**
 * After an execution ends: read its logs (waiting for the late ones), tell a real success from a clean skip (exit 0 either way, but
 * an operator who ran a job must know it did nothing), and print the result block — status, duration, log
 * link and the tail of that execution's own logs, saying how much was left out.
 *
 * @example
 * const logs = await fetchLogs(result, context);
 * const final = withSkip(result, logs); // status "skipped" + the job's message when every task skipped
 * printResult(final, logs, context.io);
 */

import type { Clients } from "./clients.ts";
import { type ExecutionResult, formatDuration, shortName, toDate } from "./execution.ts";
import { type Io, println, sleep } from "./io.ts";
import { type ExecutionLogs, executionLogs } from "./logs.ts";
import type { Target } from "./target.ts";

interface Context {
  io: Io;
  clients: Clients;
  target: Target;
}

/**
 * The execution's logs; null (said on stderr) when they cannot be read. Cloud Logging ingests with a delay,
 * so it reads again (every io.pollMs, for up to io.logWaitMs) until every task's summary line is in (for a
 * cancelled run: until there are lines): a skip is only known from that line, and without it a skipped run
 * would be reported as SUCCEEDED. When the lines never come, what there is is returned with `arriving` set
 * (resultLines says so).
 */
export async function fetchLogs(result: ExecutionResult, context: Context): Promise<ExecutionLogs | null> {
  const { io, target, clients } = context;
  const name = shortName(result.name);
  const since = toDate(result.execution.createTime);
  // One summary line per task (retried tasks write more, hence "at least").
  const tasks = Math.max(1, Number(result.execution.taskCount ?? 1));
  // A cancelled task is killed, usually before it writes a summary: wait only for its first lines.
  const complete = (logs: ExecutionLogs) =>
    result.status === "cancelled" ? logs.lines.length > 0 : logs.summaries.length >= tasks;
  const deadline = Date.now() + (io.logWaitMs ?? 10_000);
  try {
    for (;;) {
      const logs = await executionLogs(target, clients, name, { since });
      if (complete(logs)) return logs;
      if (Date.now() >= deadline) return { ...logs, arriving: true };
      // Not cut short by Ctrl-C: the first press was the wait's (execution.ts), a second one exits.
      await sleep(io.pollMs ?? 1000);
    }
  } catch (error) {
    println(io.stderr, `could not read the logs of ${name}: ${(error as Error).message}`);
    return null;
  }
}

/**
 * A succeeded execution whose every summary line says "skipped" (the overlap guard, "not the 1st", …) is
 * reported as skipped with the job's message; anything else is returned unchanged.
 */
export function withSkip(result: ExecutionResult, logs: ExecutionLogs | null): ExecutionResult {
  const summaries = logs?.summaries ?? [];
  // Some tasks' lines still missing (`arriving`): one task's skip does not make the run a skip.
  if (result.status !== "succeeded" || summaries.length === 0 || logs?.arriving) return result;
  if (!summaries.every((summary) => summary.status === "skipped")) return result;
  return { ...result, status: "skipped", message: summaries[0]?.message ?? "" };
}

/** The result block's lines: status (and the skip's reason), log link, then the tail of the logs. */
export function resultLines(result: ExecutionResult, logs: ExecutionLogs | null): string[] {
  const name = shortName(result.name);
  const reason = result.status === "skipped" && result.message ? `: ${result.message}` : "";
  const lines = [`${name}: ${result.status.toUpperCase()} in ${formatDuration(result.durationMs)}${reason}`];
  if (result.logUri) lines.push(`logs: ${result.logUri}`);
  if (!logs) return lines;
  lines.push(`--- logs of ${name} (${logs.lines.length} lines) ---`);
  if (logs.omitted > 0) {
    const count = `${logs.more ? "more than " : ""}${logs.omitted} earlier line${logs.omitted === 1 ? "" : "s"}`;
    const where = result.logUri ? `see ${result.logUri}` : "see the execution's logs in the console";
    lines.push(`… ${count} not shown; ${where}`);
  }
  lines.push(...logs.lines);
  if (logs.arriving) {
    const where = result.logUri ? `see ${result.logUri}` : "see the execution's logs in the console";
    lines.push(
      `… the run's summary line is not in the logs yet: they may still be arriving (the status above comes from Cloud Run alone); ${where}`,
    );
  }
  return lines;
}

export function printResult(result: ExecutionResult, logs: ExecutionLogs | null, io: Io): void {
  for (const line of resultLines(result, logs)) println(io.stdout, line);
}
