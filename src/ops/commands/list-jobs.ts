/**
 * `list-jobs <env> [--json] [--check]`: one table — job, category, schedule and time zone, trigger state,
 * next run, last execution (result, start, duration) and a verdict (see status.ts), then one line of reason
 * per job that needs attention (a MISSED slot says what the Scheduler's last attempt got). Drift is the
 * plan's diff. The last execution is the job's `latestCreatedExecution` (list order is not documented), read
 * with the jobs themselves: one wave of reads (the jobs, the triggers), plus the full execution of a failed
 * or cancelled last run for its message (latest-execution.ts).
 * `--check` exits 1 when any job is FAILED, MISSED or drifted: for monitors and CI.
 *
 * @example
 * ./scripts/list-jobs.sh stage
 * ./scripts/list-jobs.sh prod --check || page-the-on-call
 * ./scripts/list-jobs.sh prod --json | jq '.[] | select(.verdict != "OK")'
 */
import { z } from "zod";
import { nextRuns } from "../../runtime/catalog.ts";
import type { AnyJob } from "../../runtime/job.ts";
import { parseCommandArgs } from "../args.ts";
import { categoryOf, loadCatalog, previousSlot } from "../catalog.ts";
import type { Command } from "../cli.ts";
import { createClients } from "../clients.ts";
import { desiredState, runJobName, triggerName } from "../desired.ts";
import { shortName, spanMs, toDate } from "../execution.ts";
import { EXIT, type Io, printJson, println } from "../io.ts";
import { needsFullRead, readLatest, referencedExecution } from "../latest-execution.ts";
import { findLegacy, legacyWarnings } from "../legacy.ts";
import { schedulerState } from "../normalize.ts";
import { buildPlan, readActual } from "../plan.ts";
import { screenWidth, wrapLine } from "../screen.ts";
import { MISSED_GRACE_MS, missedReason, type Verdict, verdict, verdictLabel } from "../status.ts";
import { statusTable } from "../status-table.ts";
import { resolveTarget } from "../target.ts";

const USAGE = "list-jobs <env> [--json] [--check] [--wide] [--history [days]]";
const Args = z.object({
  positionals: z.array(z.string()).length(1, "pass exactly one environment"),
  json: z.boolean().default(false),
  check: z.boolean().default(false),
  wide: z.boolean().default(false),
});

/** The verdicts `--check` fails on; a drifted job fails it whatever its verdict. */
const ATTENTION = new Set(["FAILED", "MISSED", "DRIFTED"]);

const iso = (date: Date | null): string | null =>
  date ? date.toISOString().replace(/\.\d{3}Z$/, "Z") : null;

async function run(argv: string[], io: Io): Promise<number> {
  // `--history [days]`: the per-day grid lives in its own module (history.ts).
  if (argv.some((arg) => arg === "--history" || arg.startsWith("--history=")))
    return (await import("../history.ts")).listHistory(argv, io);
  const args = parseCommandArgs(
    argv,
    { json: { type: "boolean" }, check: { type: "boolean" }, wide: { type: "boolean" } },
    Args,
    USAGE,
  );
  const target = await resolveTarget(args.positionals[0], io);
  const catalog = await loadCatalog(io);
  const clients = createClients(target);
  const now = io.now?.() ?? new Date();
  try {
    const actual = await readActual(clients, target);
    // The old scripts' triggers that still run next to ours (legacy.ts): one warning each, on stderr.
    for (const line of legacyWarnings(
      findLegacy(actual, catalog, target, { retire: false }),
      target.env.name,
    ))
      println(io.stderr, line);
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
    // Only a failed or cancelled last run needs its full execution (its message): all such at once.
    const latests = await Promise.all(
      catalog.map((job) => {
        const reference = referencedExecution(deployed.get(runJobName(job, target)));
        return needsFullRead(reference) ? readLatest(clients, reference) : reference;
      }),
    );
    const rows = catalog.map((job: AnyJob, i) => {
      const name = runJobName(job, target);
      const runJob = deployed.get(name);
      const trigger = triggers.get(triggerName(job, target));
      const latest = latests[i] ?? null;
      const triggerState = trigger ? schedulerState(trigger.state) : job.schedule ? "MISSING" : null;
      const status = latest?.status ?? null;
      const start = latest?.start ?? null;
      const slot = previousSlot(job, new Date(now.getTime() - MISSED_GRACE_MS));
      const value = verdict({
        drifted: driftOf(job).length > 0,
        triggerEnabled: triggerState === "ENABLED",
        latest: status ? { status, start } : null,
        slot,
        createdAt: toDate(runJob?.createTime),
      });
      const reasons: Partial<Record<Verdict, () => string>> = {
        FAILED: () =>
          `${shortName(latest?.name ?? "")} ${status}: ${latest?.execution?.conditions?.find((c) => c.type === "Completed")?.message ?? "no message"}`,
        MISSED: () =>
          missedReason(
            {
              status: trigger?.status,
              time: toDate(trigger?.lastAttemptTime),
              uri: trigger?.httpTarget?.uri,
            },
            slot,
          ),
      };
      const drift = driftOf(job);
      const drifted = value === "DRIFTED" ? drift.join(", ") : `drifted: ${drift.join(", ")}`;
      const reason = [reasons[value]?.(), drift.length ? drifted : undefined].filter(Boolean).join("; ");
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
              durationMs: spanMs(start, latest.end, now),
            }
          : null,
        drift,
        verdict: value,
        reason: reason || null,
      };
    });
    const attention = rows.filter((row) => ATTENTION.has(row.verdict) || row.drift.length > 0);
    const code = args.check && attention.length > 0 ? EXIT.failed : EXIT.ok;
    if (args.json) {
      printJson(io, rows);
      return code;
    }
    const width = screenWidth(io);
    const table = statusTable(
      rows.map((row, i) => ({ ...row, schedule: catalog[i]?.schedule ?? null })),
      { wide: args.wide, width },
    );
    const title = `${target.env.name} (project ${target.env.project}, region ${target.env.region}) at ${iso(now)}`;
    for (const part of args.wide ? [title] : wrapLine(title, width)) println(io.stdout, part);
    println(io.stdout, table);
    for (const row of rows.filter((r) => r.reason)) {
      const line = `${row.job}: ${verdictLabel(row.verdict, row.drift)}: ${row.reason}`;
      for (const part of args.wide ? [line] : wrapLine(line, width)) println(io.stdout, part);
    }
    if (args.check)
      println(
        io.stdout,
        attention.length
          ? `check: ${attention.length} job${attention.length === 1 ? "" : "s"} need attention (${attention.map((r) => r.job).join(", ")})`
          : "check: every job is OK, running or not yet due",
      );
    return code;
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
"FAILED (drifted)"; --json has the drifted fields in "drift". Under the table, one line per job that needs
attention says why (a MISSED slot: the Scheduler's last attempt, e.g. "403 PERMISSION_DENIED from :run").

  --json   print the rows as JSON (each with its "reason")
  --wide   every column in full (category, time zone, trigger state, dates with the year) whatever the
           terminal's width; by default the table fits it (COLUMNS, else 80 columns off a terminal)
  --check  exit 1 when any job is FAILED, MISSED or drifted (for monitors and CI); 0 otherwise
  --history [days]   one row per job, one column per day (default 7, up to 31): ok, FAIL, CANC,
                     skip, MISS, run; * marks a run started by hand; with --json for scripts`,
  run,
};
