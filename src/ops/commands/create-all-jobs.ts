/**
 * `create-all-jobs <env>`: plan, always; then (after the prod confirmation) apply. `--plan` stops after the
 * plan; `--prune` deletes our own orphans; `--image` sets the image (CI passes a digest); `--api-url` sets the
 * jobs' admin API URL where the environments table has none (api-url.ts).
 *
 * @example
 * ./scripts/create-all-jobs.sh sandbox --plan
 * echo yes | ./scripts/create-all-jobs.sh prod --image us-central1-docker.pkg.dev/…/jobs@sha256:…
 */
import { execFileSync } from "node:child_process";
import { z } from "zod";
import { ConfigError } from "../../runtime/errors.ts";
import { scheduleProblems } from "../../runtime/schedule.ts";
import { resolveApiUrl } from "../api-url.ts";
import { applyPlan } from "../apply.ts";
import { parseCommandArgs } from "../args.ts";
import { loadCatalog } from "../catalog.ts";
import type { Command } from "../cli.ts";
import { createClients } from "../clients.ts";
import { confirm } from "../confirm.ts";
import { desiredState } from "../desired.ts";
import { EXIT, type Io, printJson, println } from "../io.ts";
import { buildPlan, count, formatPlan, hasChanges, planJson, readActual } from "../plan.ts";
import { preflight } from "../preflight.ts";
import { resolveTarget } from "../target.ts";

const USAGE =
  "create-all-jobs <env> [--plan] [--prune] [--image <ref>] [--api-url <https-url>] [--yes] [--json]";

const Args = z.object({
  positionals: z.array(z.string()).length(1, "pass exactly one environment"),
  plan: z.boolean().default(false),
  prune: z.boolean().default(false),
  image: z.string().min(1).optional(),
  "api-url": z.string().min(1).optional(),
  yes: z.boolean().default(false),
  json: z.boolean().default(false),
});

/** The commit the deployed config comes from: SOURCE_COMMIT (CI) or the checkout's HEAD. */
function sourceCommit(io: Io): string {
  if (io.env.SOURCE_COMMIT) return io.env.SOURCE_COMMIT;
  try {
    return execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: io.cwd, encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

async function run(argv: string[], io: Io): Promise<number> {
  const args = parseCommandArgs(
    argv,
    {
      plan: { type: "boolean" },
      prune: { type: "boolean" },
      image: { type: "string" },
      "api-url": { type: "string" },
      yes: { type: "boolean", short: "y" },
      json: { type: "boolean" },
    },
    Args,
    USAGE,
  );
  const target = await resolveTarget(args.positionals[0], io);
  // Never the operator's shell API_SERVICE_URL (it would override prod's); see resolveApiUrl.
  const apiUrl = resolveApiUrl(target, args["api-url"]);
  const catalog = await loadCatalog(io);
  // A schedule in a skipped or repeated local hour fires irregularly on Cloud Scheduler: refuse it first.
  const schedules = scheduleProblems(catalog);
  if (schedules.length)
    throw new ConfigError("the catalog has schedules Cloud Scheduler runs irregularly", schedules);
  const clients = createClients(target);
  // With --json the plan goes to stdout as JSON and everything for people goes to stderr.
  const human = args.json ? io.stderr : io.stdout;
  try {
    const options = { image: args.image, commit: sourceCommit(io), apiUrl };
    const desired = desiredState(catalog, target, options);
    await preflight(target, clients, desired.secrets, io);
    const plan = buildPlan(desired, await readActual(clients, target), target, { image: args.image });
    if (args.json) printJson(io, planJson(plan));
    else human.write(formatPlan(plan, target, args.prune));
    if (args.plan) return EXIT.ok;
    if (plan.problems.length) {
      println(io.stderr, `error: the plan cannot be applied:\n  - ${plan.problems.join("\n  - ")}`);
      return EXIT.usage;
    }
    const deletes = args.prune ? count(plan, "orphan") : 0;
    if (!hasChanges(plan) && deletes === 0) {
      println(human, "Nothing to change.");
      return EXIT.ok;
    }
    const writes = count(plan, "create") + count(plan, "update") + deletes;
    if (!(await confirm(target, io, { yes: args.yes, action: `apply ${writes} change(s)` })))
      return EXIT.failed;
    println(human, `Applying ${writes} change(s) to ${target.env.name}…`);
    const result = await applyPlan(plan, clients, target, {
      prune: args.prune,
      report: (line) => println(human, line),
    });
    println(human, `Applied: ${result.done} done, ${result.failed} failed.`);
    return result.failed ? EXIT.failed : EXIT.ok;
  } finally {
    await clients.close();
  }
}

export const command: Command = {
  help: `usage: ${USAGE}

Plans the catalog's 8 Cloud Run jobs and 5 Scheduler triggers for <env> against what exists, prints a
field-level diff (create / update old → new / unchanged / orphan), then applies it in place.

  --plan          print the plan and stop (changes nothing)
  --prune         delete orphans labelled managed-by=scheduler-jobs and environment=<env> (nothing else)
  --image <ref>   image for every job (CI passes a digest); without it existing jobs keep their image
  --api-url <url> the admin API's https URL for the jobs (API_SERVICE_URL); default: the environments table's
                  (prod: https://api.cloudact.ai, which this flag cannot change), else what the job has
                  deployed; needed to create a job in test or stage. The shell's API_SERVICE_URL is ignored.
  --yes, -y       confirm for environments that ask (prod); or pipe "yes" on stdin
  --json          print the plan as JSON on stdout (progress goes to stderr)`,
  run,
};
