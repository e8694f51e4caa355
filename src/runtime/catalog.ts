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
import { folderProblem } from "./schedule.ts";

export { nextRuns } from "./schedule.ts";

export type CatalogInput = Record<Category, readonly AnyJob[]>;

/**
 * Check every definition, that names are unique and that each folder agrees with its jobs' schedules;
 * return the jobs in order
 * (manual, daily, monthly, each as listed). Throws `JobDefinitionError` listing every problem.
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
