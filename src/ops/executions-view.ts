/**
 * One execution for `executions <env> describe|logs|cancel <execution>`: finding it from its short name,
 * describing it, and printing or following its own logs.
 *
 * @example
 * const { execution, job } = await findExecution(clients, target, catalog, "alerts-prod-x7k2p");
 * for (const line of describeLines(execution, job, target, new Date())) println(io.stdout, line);
 */
import { ConfigError } from "../runtime/errors.ts";
import type { AnyJob } from "../runtime/job.ts";
import { type Clients, parentOf } from "./clients.ts";
import { runJobName } from "./desired.ts";
import { durationMs, type Execution, formatDuration, shortName, statusOf, toDate } from "./execution.ts";
import { EXIT, type Io, println, sleep, wrap } from "./io.ts";
import { executionLogs } from "./logs.ts";
import type { Run } from "./runs.ts";
import type { Target } from "./target.ts";
import { executionEnv, triggerOf } from "./trigger.ts";

/** Cloud Run names an execution `<job>-<5 characters>`. */
const SHORT = /^(?<job>[a-z][a-z0-9-]*)-[a-z0-9]{5}$/;

const isNotFound = (error: unknown): boolean => {
  const code = (error as { code?: unknown })?.code;
  return code === 5 || code === 404 || code === "NOT_FOUND";
};

export async function findExecution(
  clients: Clients,
  target: Target,
  catalog: readonly AnyJob[],
  name: string,
): Promise<{ execution: Execution; job: AnyJob | undefined }> {
  const list = `list them: ./scripts/executions.sh ${target.env.name}`;
  let full = name;
  if (!name.startsWith("projects/")) {
    const jobId = SHORT.exec(name)?.groups?.job;
    if (!jobId) throw new ConfigError(`"${name}" is not an execution name (like alerts-prod-x7k2p); ${list}`);
    full = `${parentOf(target)}/jobs/${jobId}/executions/${name}`;
  }
  try {
    const [execution] = await (await clients.executions()).getExecution({ name: full });
    const jobName = full.split("/executions/")[0];
    return { execution, job: catalog.find((job) => runJobName(job, target) === jobName) };
  } catch (error) {
    if (isNotFound(error))
      throw new ConfigError(`execution ${shortName(full)} not found in ${target.env.name}; ${list}`);
    throw error;
  }
}

const iso = (value: unknown): string =>
  toDate(value)
    ?.toISOString()
    .replace(/\.\d{3}Z$/, "Z") ?? "—";

/** The JSON a script reads for one run (also the rows of `executions --json`). */
export function runJson(
  execution: Execution,
  job: AnyJob | undefined,
  now: Date,
  run?: Pick<Run, "trigger" | "result">,
) {
  return {
    execution: shortName(execution.name ?? ""),
    name: execution.name ?? "",
    job: job?.name ?? null,
    trigger: run?.trigger ?? triggerOf(execution, job),
    result: run?.result ?? statusOf(execution),
    createTime: iso(execution.createTime),
    startTime: iso(execution.startTime),
    completionTime: toDate(execution.completionTime) ? iso(execution.completionTime) : null,
    durationMs: durationMs(execution, now),
    logUri: execution.logUri ?? "",
    tasks: {
      count: execution.taskCount ?? 1,
      running: execution.runningCount ?? 0,
      succeeded: execution.succeededCount ?? 0,
      failed: execution.failedCount ?? 0,
      cancelled: execution.cancelledCount ?? 0,
      retried: execution.retriedCount ?? 0,
    },
  };
}

/**
 * A succeeded execution whose every summary line says "skipped" did nothing: its job's reason, else null
 * (also when the logs cannot be read).
 */
export async function skipReason(execution: Execution, { clients, target }: Omit<Context, "io">) {
  if (statusOf(execution) !== "succeeded") return null;
  const name = shortName(execution.name ?? "");
  try {
    const logs = await executionLogs(target, clients, name, {
      tail: 20,
      since: toDate(execution.createTime),
    });
    const all = logs.summaries.length > 0 && logs.summaries.every((summary) => summary.status === "skipped");
    return all ? (logs.summaries[0]?.message ?? "") : null;
  } catch {
    return null;
  }
}

export function describeLines(
  execution: Execution,
  job: AnyJob | undefined,
  target: Target,
  now: Date,
  skipped: string | null = null,
): string[] {
  const info = runJson(execution, job, now, {
    trigger: triggerOf(execution, job),
    result: skipped === null ? statusOf(execution) : "skipped",
  });
  const t = info.tasks;
  const args = execution.template?.containers?.[0]?.args ?? [];
  const rerun = executionEnv(execution, "IDEMPOTENCY_SCOPE");
  const completed = execution.conditions?.find((c) => c.type === "Completed");
  const how = {
    scheduler: "Cloud Scheduler, at a cron slot",
    manual: "run-job",
    release: "release.sh",
    other: "console, gcloud or an older tool",
  }[info.trigger];
  const rows: [string, string][] = [
    ["execution", info.execution],
    ["job", job ? `${job.name} (${info.name.split("/")[5] ?? ""})` : (info.name.split("/")[5] ?? "")],
    ["trigger", `${info.trigger} (${how})`],
    ["result", `${info.result.toUpperCase()}${skipped ? `: ${skipped}` : ""}`],
    [
      "tasks",
      `${t.succeeded} succeeded, ${t.failed} failed, ${t.cancelled} cancelled, ${t.running} running of ${t.count}; ${t.retried} retried`,
    ],
    ["created", info.createTime],
    ["started", info.startTime],
    ["completed", info.completionTime ?? "— (still running)"],
    ["duration", formatDuration(info.durationMs)],
    ["args", args.join(" ") || "—"],
    ...(rerun ? [["rerun", `${rerun} (a fresh Idempotency-Key scope)`] as [string, string]] : []),
    ...(completed?.message ? [["status", completed.message] as [string, string]] : []),
    ["logs", info.logUri || "—"],
  ];
  return [
    // Values wrap under themselves at 80 columns (a URL stays whole).
    ...rows.flatMap(([key, value]) =>
      wrap(value, 69).map((part, i) => `${(i === 0 ? key : "").padEnd(10)} ${part}`),
    ),
    `${"".padEnd(10)} ./scripts/executions.sh ${target.env.name} logs ${info.execution}`,
  ];
}

interface Context {
  io: Io;
  clients: Clients;
  target: Target;
}

/** The execution's last `tail` lines, with how many earlier ones were left out. */
export async function printLogs(execution: Execution, { io, clients, target }: Context, tail: number) {
  const name = shortName(execution.name ?? "");
  const logs = await executionLogs(target, clients, name, { tail, since: toDate(execution.createTime) });
  if (logs.omitted > 0)
    println(
      io.stdout,
      `… ${logs.more ? "more than " : ""}${logs.omitted} earlier line(s) not shown (--tail N)`,
    );
  for (const line of logs.lines) println(io.stdout, line);
  if (logs.lines.length === 0) println(io.stderr, `no log lines for ${name} yet`);
  return EXIT.ok;
}

/** The last `tail` lines, then new ones as they arrive, until the execution ends (or Ctrl-C). */
export async function followLogs(execution: Execution, context: Context, tail: number) {
  const { io, clients, target } = context;
  const name = shortName(execution.name ?? "");
  const since = toDate(execution.createTime);
  const seen = new Set<string>();
  // Lines start with their timestamp: after the first read, only lines at or after the newest one shown
  // are new (a wider re-read also returns older lines that the first --tail left out).
  let newest = "";
  let first = true;
  const client = await clients.executions();
  for (let ended = false; ; ) {
    const logs = await executionLogs(target, clients, name, { tail: first ? tail : 1000, since });
    for (const line of logs.lines) {
      const time = line.split(" ", 1)[0] ?? "";
      if (seen.has(line) || (!first && time < newest)) continue;
      seen.add(line);
      if (time > newest) newest = time;
      println(io.stdout, line);
    }
    first = false;
    if (ended) {
      println(io.stderr, `${name} ended: ${statusOf(execution).toUpperCase()}`);
      return EXIT.ok;
    }
    if (io.interrupt?.aborted) return EXIT.ok;
    await sleep(io.pollMs ?? 1000, io.interrupt);
    [execution] = await client.getExecution({ name: execution.name as string });
    ended = statusOf(execution) !== "running";
  }
}
