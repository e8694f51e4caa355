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
 * Checks `--flag`, `--flag value` and `--flag=value` against the job's declared flags (and their zod schemas)
 * so that a typo fails here, before an execution is started and billed.
 */
export function validateFlags(job: AnyJob, args: readonly string[]): void {
  const specs = job.flags as Record<
    string,
    {
      type: "boolean" | "string";
      schema?: { safeParse(v: unknown): { success: boolean; error?: { issues: { message: string }[] } } };
    }
  >;
  const valid = Object.keys(specs).map((flag) => `--${flag}`);
  const problems: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    const match = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    const spec = match?.[1] ? specs[match[1]] : undefined;
    if (!match || !spec) {
      problems.push(`${arg}: not a flag of "${job.name}" (valid: ${valid.join(", ") || "none"})`);
      continue;
    }
    if (spec.type === "boolean") {
      if (match[2] !== undefined && !["true", "false"].includes(match[2])) {
        problems.push(`${arg}: --${match[1]} is a switch; pass it without a value`);
      }
      continue;
    }
    let value = match[2];
    if (value === undefined) value = args[++i];
    if (value === undefined) {
      problems.push(`--${match[1]}: needs a value`);
      continue;
    }
    const parsed = spec.schema?.safeParse(value);
    if (parsed && !parsed.success) {
      problems.push(
        `--${match[1]}=${value}: ${parsed.error?.issues.map((issue) => issue.message).join("; ")}`,
      );
    }
  }
  if (problems.length) throw new ConfigError(`invalid flags for job "${job.name}"`, problems);
}
