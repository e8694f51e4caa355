/**
 * `create-all-jobs <env>`: plan, always; then (after the prod confirmation) apply. `--plan` stops after the
 * plan (`--detailed-exitcode`: 0 nothing to change, 2 changes, 1 error — Terraform's convention, for drift
 * checks in CI); `--prune` deletes our own orphans; `--retire-legacy` pauses the old scripts' triggers that
 * ours replace (legacy.ts); `--image` sets the image (a digest in prod, image-ref.ts); `--api-url` sets the
 * jobs' admin API URL where the environments table has none (api-url.ts); `--print-iam` prints the gcloud
 * commands that grant every role (iam.ts) and calls nothing. Ctrl-C during an apply stops starting changes,
 * waits for those in flight, says what was and was not done, and exits 130.
 *
 * @example
 * ./scripts/create-all-jobs.sh sandbox --plan
 * echo yes | ./scripts/create-all-jobs.sh prod --image us-central1-docker.pkg.dev/…/jobs@sha256:…
 */
import { execFileSync } from "node:child_process";
import { z } from "zod";
import { ConfigError } from "../../runtime/errors.ts";
import { scheduleProblems } from "../../runtime/schedule.ts";
import { alertCount, alertPlanJson, formatAlertPlan, planAlerts } from "../alerting/plan.ts";
import { resolveApiUrl } from "../api-url.ts";
import { applyPlan } from "../apply.ts";
import { parseCommandArgs } from "../args.ts";
import { loadCatalog } from "../catalog.ts";
import type { Command } from "../cli.ts";
import { createClients } from "../clients.ts";
import { confirm } from "../confirm.ts";
import { desiredState } from "../desired.ts";
import { iamCommands } from "../iam.ts";
import { checkImage } from "../image-ref.ts";
import { EXIT, type Io, printJson, println } from "../io.ts";
import { findLegacy } from "../legacy.ts";
import { buildPlan, formatPlan, type Plan, planJson, writeCount } from "../plan.ts";
import { assertPreflight, reportPreflight } from "../preflight.ts";
import { readForProvisioning } from "../provision-reads.ts";
import { parseEnvironment, resolveTarget } from "../target.ts";

const USAGE =
  "create-all-jobs <env> [--plan [--detailed-exitcode]] [--prune] [--no-alerts] [--retire-legacy] [--image <ref>] [--api-url <https-url>] [--print-iam] [--yes] [--json]";
/** Ctrl-C, as shells report it (128 + SIGINT). */
export const INTERRUPTED = 130;
/** `--plan --detailed-exitcode`, Terraform's convention. */
export const DETAILED = { unchanged: 0, error: 1, changes: 2 } as const;

const Args = z.object({
  positionals: z.array(z.string()).length(1, "pass exactly one environment"),
  plan: z.boolean().default(false),
  "detailed-exitcode": z.boolean().default(false),
  prune: z.boolean().default(false),
  "no-alerts": z.boolean().default(false),
  "retire-legacy": z.boolean().default(false),
  image: z.string().min(1).optional(),
  "api-url": z.string().min(1).optional(),
  "print-iam": z.boolean().default(false),
  yes: z.boolean().default(false),
  json: z.boolean().default(false),
});

/** The commit the deployed config comes from: SOURCE_COMMIT (CI: $COMMIT_SHA) or the checkout's HEAD. */
function sourceCommit(io: Io): string {
  if (io.env.SOURCE_COMMIT) return io.env.SOURCE_COMMIT;
  try {
    return execFileSync("git", ["rev-parse", "--short=12", "HEAD"], {
      cwd: io.cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return "unknown";
  }
}

/** Replaced legacy triggers still enabled while this apply would make ours live: both would run. */
function doubleRuns(plan: Plan): string[] {
  const live = new Set(
    plan.items
      .filter((item) => item.kind === "trigger" && (item.action === "create" || item.action === "update"))
      .filter((item) => (item.desired as { state?: string } | undefined)?.state !== "PAUSED")
      .map((item) => item.name),
  );
  return plan.legacy
    .filter((l) => l.kind === "trigger" && l.state === "ENABLED" && !l.retire && live.has(l.replacedBy ?? ""))
    .map(
      (l) =>
        `legacy trigger ${l.name.split("/").pop()} is ENABLED and ${l.replacedBy?.split("/").pop()} would run the same work: pass --retire-legacy (pauses it in this apply, deletes nothing) or pause it first`,
    );
}

async function run(argv: string[], io: Io): Promise<number> {
  if (!argv.includes("--detailed-exitcode")) return provision(argv, io);
  // Terraform's convention: every error is 1 (2 means "changes"), bad flags included.
  try {
    return await provision(argv, io);
  } catch (error) {
    println(io.stderr, `error: ${error instanceof Error ? error.message : String(error)}`);
    return DETAILED.error;
  }
}

async function provision(argv: string[], io: Io): Promise<number> {
  const args = parseCommandArgs(
    argv,
    {
      plan: { type: "boolean" },
      "detailed-exitcode": { type: "boolean" },
      prune: { type: "boolean" },
      "no-alerts": { type: "boolean" },
      "retire-legacy": { type: "boolean" },
      image: { type: "string" },
      "api-url": { type: "string" },
      "print-iam": { type: "boolean" },
      yes: { type: "boolean", short: "y" },
      json: { type: "boolean" },
    },
    Args,
    USAGE,
  );
  const detailed = args["detailed-exitcode"];
  if (detailed && !args.plan)
    throw new ConfigError(
      "--detailed-exitcode goes with --plan: create-all-jobs <env> --plan --detailed-exitcode",
    );
  // Checks that need no call come first: a bad --image is refused before anything is contacted.
  const environment = parseEnvironment(args.positionals[0]);
  const image = args.image ? checkImage(args.image, environment.name) : undefined;
  if (args["print-iam"]) {
    io.stdout.write(iamCommands(environment, await loadCatalog(io), { image: args.image }));
    return EXIT.ok;
  }
  const target = await resolveTarget(args.positionals[0], io);
  // Never the operator's shell API_SERVICE_URL (it would override prod's); see resolveApiUrl.
  const apiUrl = resolveApiUrl(target, args["api-url"]);
  const commit = sourceCommit(io);
  if (args.image && commit === "unknown" && target.env.name !== "sandbox")
    throw new ConfigError(
      "cannot tell which commit this deploy comes from (no SOURCE_COMMIT, no git checkout): set SOURCE_COMMIT=<sha> (Cloud Build: SOURCE_COMMIT=$COMMIT_SHA)",
    );
  const catalog = await loadCatalog(io);
  // A schedule in a skipped or repeated local hour fires irregularly on Cloud Scheduler: refuse it first.
  const schedules = scheduleProblems(catalog);
  if (schedules.length)
    throw new ConfigError("the catalog has schedules Cloud Scheduler runs irregularly", schedules);
  const clients = createClients(target);
  // With --json the plan goes to stdout as JSON and everything for people goes to stderr.
  const human = args.json ? io.stderr : io.stdout;
  try {
    const desired = desiredState(catalog, target, { image: args.image, commit, apiUrl });
    // One wave of reads (provision-reads.ts), then everything else is computed from their answers.
    const seen = await readForProvisioning(clients, target, {
      secrets: desired.secrets,
      alerts: !args["no-alerts"],
    });
    assertPreflight(target, seen.problems);
    reportPreflight(target, desired.secrets, io);
    if (seen.alerts) println(io.stderr, `preflight: alerts notify ${target.env.alertChannels.join(", ")}`);
    const alerts = seen.alerts
      ? planAlerts(catalog, target, seen.alerts.channels, seen.alerts.deployed)
      : null;
    const actual = seen.actual;
    const plan = buildPlan(desired, actual, target, { image: args.image });
    plan.warnings.push(...(image?.warnings ?? []));
    plan.legacy = findLegacy(actual, catalog, target, { retire: args["retire-legacy"] });
    plan.problems.push(...doubleRuns(plan));
    if (alerts) plan.problems.push(...alerts.problems);
    if (args.json) printJson(io, { ...planJson(plan), ...(alerts ? { alerts: alertPlanJson(alerts) } : {}) });
    else
      human.write(formatPlan(plan, target, args.prune) + (alerts ? formatAlertPlan(alerts, args.prune) : ""));
    const alertWrites = alerts
      ? alertCount(alerts, "create") +
        alertCount(alerts, "update") +
        (args.prune ? alertCount(alerts, "orphan") : 0)
      : 0;
    const writes = writeCount(plan, args.prune) + alertWrites;
    if (args.plan) {
      if (!detailed) return EXIT.ok;
      if (plan.problems.length) return DETAILED.error;
      return writes ? DETAILED.changes : DETAILED.unchanged;
    }
    if (plan.problems.length) {
      println(io.stderr, `error: the plan cannot be applied:\n  - ${plan.problems.join("\n  - ")}`);
      return EXIT.usage;
    }
    if (writes === 0) {
      println(human, "Nothing to change.");
      return EXIT.ok;
    }
    if (!(await confirm(target, io, { yes: args.yes, action: `apply ${writes} change(s)` })))
      return EXIT.failed;
    if (io.interrupt?.aborted) {
      println(io.stderr, "interrupted before the apply: nothing was changed");
      return INTERRUPTED;
    }
    println(human, `Applying ${writes} change(s) to ${target.env.name}… (Ctrl-C stops starting new ones)`);
    const result = await applyPlan(plan, clients, target, {
      prune: args.prune,
      report: (line) => println(human, line),
      signal: io.interrupt,
      retire: plan.legacy.filter((item) => item.retire),
      alerts,
    });
    if (result.interrupted) {
      println(
        human,
        `Interrupted: ${result.done} done, ${result.failed} failed, ${result.notStarted.length} not started (the operations in flight were awaited):`,
      );
      for (const line of result.notStarted) println(human, `  · not started: ${line}`);
      println(human, `Run the same command again to finish: its plan shows what is left.`);
      return INTERRUPTED;
    }
    println(human, `Applied: ${result.done} done, ${result.failed} failed.`);
    return result.failed ? EXIT.failed : EXIT.ok;
  } finally {
    await clients.close();
  }
}

export const command: Command = {
  help: `usage: ${USAGE}

Plans the catalog's Cloud Run jobs and Scheduler triggers for <env> against what exists, prints a
field-level diff (create / update old → new / unchanged / orphan) and the old scripts' resources it finds
(each with the job of ours that replaces it), then applies it in place. The alert policies (failed-run,
missed-run per scheduled job, overrun per job; README "Alerts") are planned and applied the same way;
their notification channels (environments table) must exist.

  --plan               print the plan and stop (changes nothing)
  --detailed-exitcode  with --plan: exit 0 when there is nothing to change, 2 when there are changes, 1 on
                       any error (Terraform's convention; a CI drift check)
  --prune              delete orphans labelled managed-by=scheduler-jobs and environment=<env> (nothing else)
  --no-alerts          leave the Cloud Monitoring alert policies out (plan, apply and prune)
  --retire-legacy      pause each enabled legacy trigger (cloudact-daily-alerts-trigger, …) that a job of
                       ours replaces, just before ours is written; deletes nothing, leaves jobs with no
                       replacement (cloudact-daily-pipelines) alone
  --image <ref>        image for every job; prod takes a digest only (…@sha256:<64 hex>), test and stage
                       also a tag (with a warning); without it existing jobs keep their image
  --api-url <url>      the admin API's https URL for the jobs (API_SERVICE_URL); default: the environments
                       table's (prod: https://api.cloudact.ai, which this flag cannot change), else what the
                       job has deployed; needed to create a job in test or stage. The shell's value is ignored.
  --print-iam          print the gcloud commands that grant every role the jobs, triggers and deployer need
                       in <env> (with --image: the image's repository), and call nothing
  --yes, -y            confirm for environments that ask (prod); or pipe "yes" on stdin
  --json               print the plan as JSON on stdout (progress goes to stderr)

The source-commit label is SOURCE_COMMIT (CI sets it to the build's commit) or the checkout's HEAD.
Ctrl-C during an apply: no new change starts, those in flight finish, the rest is listed; exit 130.`,
  run,
};
