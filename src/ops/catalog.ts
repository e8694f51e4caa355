/**
 * The catalog as the operators' tools see it: loading (injectable for tests), lookup with the valid names
 * listed, categories, cron slots and the validation of a job's flags before anything runs.
 *
 * @example
 * const catalog = await loadCatalog(io);
 * const job = findJob(catalog, "bootstrap");
 * validateFlags(job, ["--force-sync"]);
 * (Next run times come from the runtime catalog's `nextRuns`; this module adds the previous slot.)
 */
import { CronExpressionParser } from "cron-parser";
import { ConfigError } from "../runtime/errors.ts";
import { parseFlags } from "../runtime/flags.ts";
import type { AnyJob, Category } from "../runtime/job.ts";
import type { Io } from "./io.ts";

export async function loadCatalog(io: Io): Promise<readonly AnyJob[]> {
  if (io.catalog) return io.catalog;
  const { catalog } = await import("../../jobs/index.ts");
  return catalog;
}

export function findJob(catalog: readonly AnyJob[], name: string | undefined): AnyJob {
  const job = catalog.find((candidate) => candidate.name === name);
  if (!job) {
    const valid = catalog.map((candidate) => candidate.name).join(", ");
    throw new ConfigError(
      name ? `unknown job "${name}": valid jobs are ${valid}` : `missing job: pass one of ${valid}`,
    );
  }
  return job;
}

/** manual (no schedule), monthly (a day-of-month in the cron) or daily; the folder of the job file. */
export function categoryOf(job: AnyJob): Category {
  const declared = (job as { category?: Category }).category;
  if (declared) return declared;
  if (!job.schedule) return "manual";
  const dayOfMonth = job.schedule.cron.trim().split(/\s+/)[2];
  return dayOfMonth && dayOfMonth !== "*" ? "monthly" : "daily";
}

/** The latest slot at or before `at`, or null for a manual job. */
export function previousSlot(job: AnyJob, at: Date): Date | null {
  if (!job.schedule) return null;
  const cron = CronExpressionParser.parse(job.schedule.cron, {
    currentDate: new Date(at.getTime() + 1),
    tz: job.schedule.timeZone,
  });
  return cron.prev().toDate();
}

/**
 * Checks a job's flags with the runtime's own parser (runtime/flags.ts `parseFlags`), so that what run-job
 * accepts is exactly what the container accepts: a typo (or `--dry-run=true`, which the container refuses)
 * fails here, before an execution is started, billed and retried.
 */
export function validateFlags(job: AnyJob, args: readonly string[]): void {
  const { problems } = parseFlags(job, args);
  if (problems.length) throw new ConfigError(`invalid flags for job "${job.name}"`, problems);
}
