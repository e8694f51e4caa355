/**
 * `list-jobs <env> [--json]`: one table — job, category, schedule and time zone, trigger state, next run,
 * last execution (result, start, duration) and a verdict (see status.ts). Drift is the plan's diff.
 *
 * @example
 * ./scripts/list-jobs.sh stage
 * ./scripts/list-jobs.sh prod --json | jq '.[] | select(.verdict != "OK")'
 */
import { z } from "zod";
import { nextRuns } from "../../runtime/catalog.ts";
import type { AnyJob } from "../../runtime/job.ts";
import { parseCommandArgs } from "../args.ts";
import { categoryOf, loadCatalog, previousSlot } from "../catalog.ts";
import type { Command } from "../cli.ts";
import { type Clients, createClients } from "../clients.ts";
import { desiredState, runJobName, triggerName } from "../desired.ts";
import { durationMs, type Execution, formatDuration, statusOf, toDate } from "../execution.ts";
import { COMPACT, EXIT, type Io, printJson, println } from "../io.ts";
import { schedulerState } from "../normalize.ts";
import { buildPlan, readActual } from "../plan.ts";
import { MISSED_GRACE_MS, verdict, verdictLabel } from "../status.ts";
import { resolveTarget } from "../target.ts";

const USAGE = "list-jobs <env> [--json]";
const Args = z.object({
  positionals: z.array(z.string()).length(1, "pass exactly one environment"),
  json: z.boolean().default(false),
});

async function latestExecution(clients: Clients, parent: string): Promise<Execution | null> {
  const client = await clients.executions();
  const [executions] = await client.listExecutions({ parent, pageSize: 20 }, { autoPaginate: false });
  const time = (execution: Execution) => (toDate(execution.createTime) ?? new Date(0)).getTime();
  return [...executions].sort((a, b) => time(b) - time(a))[0] ?? null;
}

const iso = (date: Date | null): string | null =>
  date ? date.toISOString().replace(/\.\d{3}Z$/, "Z") : null;

async function run(argv: string[], io: Io): Promise<number> {
  // `--history [days]`: the per-day grid lives in its own module (history.ts).
  if (argv.some((arg) => arg === "--history" || arg.startsWith("--history=")))
    return (await import("../history.ts")).listHistory(argv, io);
  const args = parseCommandArgs(argv, { json: { type: "boolean" } }, Args, USAGE);
  const target = await resolveTarget(args.positionals[0], io);
  const catalog = await loadCatalog(io);
  const clients = createClients(target);
  const now = io.now?.() ?? new Date();
  try {
    const actual = await readActual(clients, target);
    const plan = buildPlan(desiredState(catalog, target, { commit: "" }), actual, target, {});
    // What differs, per resource: "missing" for a create, the changed fields for an update.
    const drift = new Map(
      plan.items
        .filter((item) => item.action === "create" || item.action === "update")
        .map((item) => [
          item.name,
          item.action === "create" ? ["missing"] : item.changes.map((c) => c.field),
        ]),
    );
    const driftOf = (job: AnyJob) => [
      ...(drift.get(runJobName(job, target)) ?? []).map((field) => `job ${field}`),
      ...(drift.get(triggerName(job, target)) ?? []).map((field) => `trigger ${field}`),
    ];
    const deployed = new Map(actual.runJobs.map((job) => [job.name ?? "", job]));
    const triggers = new Map(actual.triggers.map((trigger) => [trigger.name ?? "", trigger]));
    const rows = await Promise.all(
      catalog.map(async (job: AnyJob) => {
        const name = runJobName(job, target);
        const runJob = deployed.get(name);
        const trigger = triggers.get(triggerName(job, target));
        const latest = runJob ? await latestExecution(clients, name) : null;
        const triggerState = trigger ? schedulerState(trigger.state) : job.schedule ? "MISSING" : null;
        const status = latest ? statusOf(latest) : null;
        const start = latest ? (toDate(latest.startTime) ?? toDate(latest.createTime)) : null;
        return {
          job: job.name,
          category: categoryOf(job),
          schedule: job.schedule ? `${job.schedule.cron} (${job.schedule.timeZone})` : null,
          trigger: triggerState,
          nextRun: triggerState === "ENABLED" ? iso(nextRuns(job, now, 1)[0] ?? null) : null,
          lastExecution: latest
            ? {
                name: latest.name ?? "",
                result: status,
                start: iso(start),
                durationMs: durationMs(latest, now),
              }
            : null,
          drift: driftOf(job),
          verdict: verdict({
            drifted: driftOf(job).length > 0,
            triggerEnabled: triggerState === "ENABLED",
            latest: status ? { status, start } : null,
            slot: previousSlot(job, new Date(now.getTime() - MISSED_GRACE_MS)),
            createdAt: toDate(runJob?.createTime),
          }),
        };
      }),
    );
    if (args.json) {
      printJson(io, rows);
      return EXIT.ok;
    }
    const { default: Table } = await import("cli-table3");
    const head = ["job", "category", "schedule", "trigger", "next run", "last execution", "verdict"];
    const table = new Table({ head, style: { head: [], border: [] }, chars: COMPACT });
    for (const row of rows) {
      const last = row.lastExecution
        ? `${row.lastExecution.result} ${row.lastExecution.start ?? ""} (${formatDuration(row.lastExecution.durationMs)})`
        : "—";
      table.push([
        row.job,
        row.category,
        row.schedule ?? "manual",
        row.trigger ?? "—",
        row.nextRun ?? "—",
        last,
        verdictLabel(row.verdict, row.drift),
      ]);
    }
    println(
      io.stdout,
      `${target.env.name} (project ${target.env.project}, region ${target.env.region}) at ${iso(now)}`,
    );
    println(io.stdout, table.toString());
    return EXIT.ok;
  } finally {
    await clients.close();
  }
}

export const command: Command = {
  help: `usage: ${USAGE}

One row per catalog job: category, schedule and time zone, trigger state, next run, last execution
(result, start, duration) and a verdict, most urgent first: RUNNING, FAILED, MISSED (an enabled trigger's
slot passed with no execution), DRIFTED (deployed job or trigger differs from the catalog; see
create-all-jobs --plan), NEVER RAN, OK. A job that drifted AND has a more urgent verdict shows both, e.g.
"FAILED (drifted)"; --json has the drifted fields in "drift".

  --json   print the rows as JSON
  --history [days]   one row per job, one column per day (default 7, up to 31): ok, FAIL, CANC,
                     skip, MISS, run; * marks a run started by hand; with --json for scripts`,
  run,
};
