/**
 * The catalog: every job in one ordered, checked list. `buildCatalog` is the one place the job files are
 * proven: each definition (./job-checks.ts), unique names, and each folder against its schedule (it steps
 * every cron through a sample period, ./schedule.ts). jobs/index.ts runs it when the catalog loads, for
 * the tests, the README and provisioning; the container entrypoint loads only the job it runs
 * (jobs/files.ts) and checks nothing that cannot change between builds.
 *
 * @example
 * const catalog = buildCatalog({ manual: [migrate], daily: [quotaReset], monthly: [quotaMonthly] });
 * nextRuns(quotaReset, new Date("2026-11-22T12:00:00Z"), 2); // [2026-11-23T00:00Z, 2026-11-24T00:00Z]
 */
import type { AnyJob, Category, JobSpec } from "./job.ts";
import { specOf } from "./job.ts";
import { JobDefinitionError, specProblems } from "./job-checks.ts";
import { cronProblem, folderProblem, nextRuns, timeZoneProblem } from "./schedule.ts";

export { nextRuns } from "./schedule.ts";

export type CatalogInput = Record<Category, readonly AnyJob[]>;

/** Reference points for ordering: a UTC midnight (daily) and a UTC month start (monthly). */
const ORDER_FROM = { daily: new Date("2026-01-05T00:00:00Z"), monthly: new Date("2026-01-01T00:00:00Z") };

/**
 * Why scheduled jobs are not listed in the order they fire (daily: by time of day in UTC, monthly: by
 * their first run in the month), or null. The catalog's order is the order of the README table, the
 * plan and list-jobs, so it reads as the night's timeline.
 */
function orderProblem(category: "daily" | "monthly", jobs: readonly AnyJob[]): string | null {
  const from = ORDER_FROM[category];
  const fires = jobs.map((job) => {
    const next =
      job.schedule &&
      !timeZoneProblem(job.schedule.timeZone) &&
      !cronProblem(job.schedule.cron, job.schedule.timeZone)
        ? nextRuns(job, new Date(from.getTime() - 1), 1)[0]
        : undefined;
    return { job, at: next ?? null };
  });
  for (let i = 1; i < fires.length; i++) {
    const [before, after] = [fires[i - 1], fires[i]];
    if (!before?.at || !after?.at || before.at <= after.at) continue;
    const when = (at: Date) =>
      category === "daily"
        ? `${at.toISOString().slice(11, 16)} UTC`
        : `${at.toISOString().slice(8, 16).replace("T", " ")} UTC`;
    return `jobs/index.ts: ${category} jobs are listed in the order they fire; "${after.job.name}" (${when(after.at)}) is listed after "${before.job.name}" (${when(before.at)}): move it up`;
  }
  return null;
}

/**
 * Check names are unique, each folder agrees with its jobs' schedules and scheduled jobs are listed in
 * the order they fire; return the jobs in order (manual, daily, monthly, each as listed). Throws
 * `JobDefinitionError` listing every problem.
 */
export function buildCatalog(input: CatalogInput): readonly AnyJob[] {
  const problems: string[] = [];
  const seen = new Map<string, Category>();
  const jobs: AnyJob[] = [];
  for (const category of ["manual", "daily", "monthly"] as const) {
    for (const job of input[category]) {
      const first = seen.get(job.name);
      if (first)
        problems.push(
          `job "${job.name}": name: defined twice (jobs/${first} and jobs/${category}); names must be unique`,
        );
      seen.set(job.name, category);
      const spec = specOf(job);
      problems.push(
        ...(spec
          ? specProblems(spec as JobSpec)
          : [
              `job "${job.name}": (definition): not made by defineJob; write \`export default defineJob({...})\``,
            ]),
      );
      const problem = folderProblem(job, category);
      if (problem) problems.push(problem);
      jobs.push(job);
    }
  }
  for (const category of ["daily", "monthly"] as const) {
    const problem = orderProblem(category, input[category]);
    if (problem) problems.push(problem);
  }
  if (problems.length) throw new JobDefinitionError(problems);
  return Object.freeze(jobs);
}

/** A job without `run`, flag schemas or env schemas: plain JSON for ops, the README and tests. */
export function serializeJob(job: AnyJob) {
  return {
    name: job.name,
    description: job.description,
    schedule: job.schedule,
    timeoutSeconds: job.timeoutSeconds,
    retries: job.retries,
    resources: job.resources,
    tasks: job.tasks,
    parallelism: job.parallelism,
    trigger: job.trigger,
    ifRunning: job.ifRunning,
    oncePerDay: job.oncePerDay,
    uses: job.uses,
    routes: job.routes,
    flags: Object.fromEntries(
      Object.entries(
        job.flags as Record<string, { type: string; description: string; default?: unknown }>,
      ).map(([name, f]) => [name, { type: f.type, description: f.description, default: f.default ?? null }]),
    ),
    env: job.env ? Object.keys(job.env.shape) : null,
  };
}
export type SerializedJob = ReturnType<typeof serializeJob>;

/** @example JSON.stringify(serializeCatalog(catalog), null, 2) */
export const serializeCatalog = (catalog: readonly AnyJob[]): SerializedJob[] => catalog.map(serializeJob);
