/**
 * Run a Cloud Run job and wait for its execution: live progress (one rewritten line on a TTY, a line per
 * change otherwise), Ctrl-C asks whether to cancel. The result block (status, logs) is in report.ts. Shared by
 * `run-job` and `release`.
 *
 * @example
 * const name = await startExecution(clients, jobName, ["bootstrap", "--force-sync"]);
 * const result = await waitForExecution(name, { io, clients, target });
 * result.status // "succeeded" | "failed" | "cancelled" | "detached"
 */
import type { protos } from "@google-cloud/run";
import type { Clients } from "./clients.ts";
import { type ExecutionStatus, readExecution } from "./execution-state.ts";
import { type Io, println, readLine, sleep } from "./io.ts";
import { createPacer } from "./poll.ts";
import { isTransient } from "./retry.ts";
import type { Target } from "./target.ts";

export { type ExecutionStatus, readExecution, statusOf } from "./execution-state.ts";
export type Execution = protos.google.cloud.run.v2.IExecution;
/** What an operator is told: "skipped" is a succeeded execution whose job said it skipped (report.ts). */
export type ResultStatus = ExecutionStatus | "skipped";

export interface ExecutionResult {
  name: string;
  status: ResultStatus;
  /** The job's own summary message (set for "skipped"). */
  message?: string;
  durationMs: number;
  logUri: string;
  execution: Execution;
}

export const shortName = (name: string): string => name.split("/").pop() ?? name;

/** Timestamps arrive as `{seconds, nanos}` (seconds possibly a Long or string) or RFC 3339 strings. */
export function toDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return new Date(value);
  const { seconds, nanos } = value as { seconds?: unknown; nanos?: unknown };
  if (seconds === undefined || seconds === null) return null;
  return new Date(Number(String(seconds)) * 1000 + Number(nanos ?? 0) / 1e6);
}

export function durationMs(execution: Execution, now: Date): number {
  const start = toDate(execution.startTime) ?? toDate(execution.createTime);
  return spanMs(start, toDate(execution.completionTime), now);
}

/** From `start` to `end` (still running: to `now`), never negative; 0 without a start. */
export const spanMs = (start: Date | null, end: Date | null, now: Date): number =>
  start ? Math.max(0, (end ?? now).getTime() - start.getTime()) : 0;

export const formatDuration = (ms: number): string =>
  ms < 60_000
    ? `${(ms / 1000).toFixed(1)}s`
    : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;

/** Starts an execution with `args` as the container's arguments; returns the execution's full name. */
export async function startExecution(
  clients: Clients,
  jobName: string,
  args: string[],
  env?: Record<string, string>,
): Promise<string> {
  const client = await clients.jobs();
  const override = {
    args,
    ...(env ? { env: Object.entries(env).map(([name, value]) => ({ name, value })) } : {}),
  };
  const [operation] = await client.runJob({ name: jobName, overrides: { containerOverrides: [override] } });
  const metadata = operation.metadata as Execution | null;
  if (metadata?.name) return metadata.name;
  // Without metadata the operation's result is the finished execution.
  const [execution] = await operation.promise();
  if (!execution.name) throw new Error(`runJob ${jobName}: the operation named no execution`);
  return execution.name;
}

const progressLine = (execution: Execution, ms: number): string =>
  `${shortName(execution.name ?? "")}: ${execution.runningCount ?? 0} running, ${execution.succeededCount ?? 0} succeeded, ` +
  `${execution.failedCount ?? 0} failed of ${execution.taskCount ?? 1} tasks (${formatDuration(ms)})`;

interface WaitContext {
  io: Io;
  clients: Clients;
  target: Target;
}

/** Ctrl-C while waiting: on a TTY ask; otherwise say how to cancel and stop waiting. */
async function onInterrupt(
  name: string,
  { io, clients, target }: WaitContext,
): Promise<"cancel" | "continue" | "detach"> {
  const how = `gcloud run jobs executions cancel ${shortName(name)} --region ${target.env.region} --project ${target.env.project}`;
  if (!io.isTTY) {
    println(io.stderr, `\ninterrupted: stopped waiting; the execution keeps running. To cancel it: ${how}`);
    return "detach";
  }
  io.stderr.write(
    `\nCancel execution ${shortName(name)}? Type "yes" to cancel, anything else keeps it running: `,
  );
  if ((await readLine(io))?.trim().toLowerCase() !== "yes") return "continue";
  await (await clients.executions()).cancelExecution({ name });
  println(io.stderr, `cancel requested for ${shortName(name)}`);
  return "cancel";
}

export async function waitForExecution(name: string, context: WaitContext): Promise<ExecutionResult> {
  const { io, clients } = context;
  const executions = await clients.executions();
  // Every read counts against Cloud Run's read quota (poll.ts), re-reads included.
  const pacer = createPacer(io.pollMs);
  const client = {
    getExecution: (request: { name: string }) => {
      pacer.read();
      return executions.getExecution(request);
    },
  } as typeof executions;
  const now = () => io.now?.() ?? new Date();
  let interruptHandled = false;
  let lastLine = "";
  for (;;) {
    let read: Awaited<ReturnType<typeof readExecution>>;
    try {
      // Each read is retried (clients.ts); an outage longer than the retries does not end the wait either:
      // the execution runs on regardless, and its true end is what the operator must be told.
      read = await readExecution(client, name);
    } catch (error) {
      if (!isTransient(error)) throw error;
      println(
        io.stderr,
        `${shortName(name)}: Cloud Run did not answer (${(error as Error).message}); still waiting`,
      );
      if (io.interrupt?.aborted && !interruptHandled) {
        // Cloud Run is not answering, so it cannot be asked to cancel: stop waiting only.
        println(io.stderr, `\ninterrupted: stopped waiting; ${shortName(name)} keeps running`);
        return { name, status: "detached", durationMs: 0, logUri: "", execution: { name } };
      }
      await sleep(Math.max(pacer.delay(), io.pollMs ?? 1000), interruptHandled ? undefined : io.interrupt);
      continue;
    }
    const { execution, status } = read;
    const line = progressLine(execution, durationMs(execution, now()));
    if (io.isTTY) io.stderr.write(`\r\x1b[2K${line}`);
    else if (line.replace(/\(.*\)$/, "") !== lastLine.replace(/\(.*\)$/, "")) println(io.stderr, line);
    lastLine = line;
    const result = {
      name,
      durationMs: durationMs(execution, now()),
      logUri: execution.logUri ?? "",
      execution,
    };
    if (status !== "running") {
      if (io.isTTY) io.stderr.write("\n");
      return { ...result, status };
    }
    if (io.interrupt?.aborted && !interruptHandled) {
      interruptHandled = true;
      const choice = await onInterrupt(name, context);
      if (choice === "detach") return { ...result, status: "detached" };
      continue; // "cancel": keep polling until the execution reports its cancelled end
    }
    await sleep(pacer.delay(), interruptHandled ? undefined : io.interrupt);
  }
}
