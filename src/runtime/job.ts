/**
 * `defineJob` — one job is one file: its name, schedule, limits and `run` stand together.
 *
 * @example
 * export default defineJob({
 *   name: "quota-reset",
 *   description: "Reset daily pipeline counters for every organisation.",
 *   schedule: { cron: "0 0 * * *", timeZone: "Etc/UTC" },
 *   timeoutSeconds: 15 * 60,
 *   retries: 3,
 *   uses: ["admin-api"],
 *   async run(ctx) { ... return { status: "succeeded", message: "...", summary: {...} }; },
 * });
 *
 * `defineJob` fills every default and returns plain data, so the catalog compares with `toEqual` and a
 * test can call `job.run(ctx)` directly. It does not validate: a job file is static code, checked once
 * by the catalog (`buildCatalog` in jobs/index.ts, loaded by the tests, the README generator and
 * provisioning), not on every start of a container (see ./job-checks.ts).
 */
import type { z } from "zod";
import type { RouteName } from "./admin-api.ts";
import type { JobContext } from "./context.ts";

export type Category = "manual" | "daily" | "monthly";

/** What a job talks to; decides which configuration keys are required for it. */
export type Dependency = "admin-api" | "supabase" | "bigquery";

export interface Schedule {
  /** Five-field cron as Cloud Scheduler accepts it. */
  cron: string;
  /** IANA time zone the cron is evaluated in. */
  timeZone: string;
}

export interface Resources {
  /** Cloud Run CPU limit, e.g. "1". */
  cpu: string;
  /** Cloud Run memory limit, e.g. "512Mi". */
  memory: string;
}

/** Scheduler trigger settings (only for scheduled jobs). */
export interface TriggerSettings {
  /** Cloud Scheduler retryConfig.retryCount, 0–5. */
  retryCount: number;
  /** Cloud Scheduler attemptDeadline in seconds, 15–1800. */
  attemptDeadlineSeconds: number;
  /** Created paused (e.g. a job not ready for automatic runs). */
  paused: boolean;
}

export interface FlagSpec {
  type: "boolean" | "string";
  description: string;
  /** For string flags: validates and transforms the raw value (errors name the flag). */
  schema?: z.ZodType;
  default?: string | boolean;
}

export type FlagSpecs = Record<string, FlagSpec>;

/** Parsed flags: booleans are `boolean`, strings are the schema's output or `string | undefined`. */
export type FlagValues<S extends FlagSpecs> = {
  [K in keyof S]: S[K]["type"] extends "boolean"
    ? boolean
    : S[K]["schema"] extends z.ZodType
      ? z.output<S[K]["schema"]>
      : string | undefined;
};

export type IfRunning = "skip" | "refuse" | "run";

export type JobStatus = "succeeded" | "skipped" | "failed";

/** What `run` returns; the runner logs it as the one summary line and maps it to the exit code. */
export interface JobOutcome {
  status: JobStatus;
  message: string;
  summary?: Record<string, unknown>;
}

export interface JobSpec<S extends FlagSpecs = FlagSpecs, E extends z.ZodObject = z.ZodObject> {
  name: string;
  description: string;
  /** Omitted for manual jobs. */
  schedule?: Schedule;
  timeoutSeconds: number;
  /** Cloud Run maxRetries per task, 0–10. */
  retries: number;
  resources?: Partial<Resources>;
  /** Cloud Run taskCount (parallel shards); only jobs that shard their work set more than 1. */
  tasks?: number;
  /** Cloud Run parallelism; 0 = as many as possible. */
  parallelism?: number;
  trigger?: Partial<TriggerSettings>;
  /**
   * When an older execution of this job is still running: "skip" (exit 0, logged; default for scheduled
   * jobs), "refuse" (exit 1 naming the other execution; default for manual jobs) or "run".
   */
  ifRunning?: IfRunning;
  /**
   * At most one successful run per scheduled day (alerts, quota-monthly): before run(), the runner looks
   * in Cloud Run's execution history for a succeeded execution of this job for the same day and skips if
   * one exists; when the history cannot be read, the run fails closed. Requires `retries: 0`.
   */
  oncePerDay?: boolean;
  uses: Dependency[];
  /** The admin API routes the job calls (required with "admin-api"): their retry budget must fit the timeout. */
  routes?: RouteName[];
  flags?: S;
  /** Extra environment keys this job reads (e.g. DAYS_TO_KEEP), parsed with the rest of the config. */
  env?: E;
  run(ctx: JobContext<FlagValues<S>, z.output<E>>): Promise<JobOutcome>;
}

/** A validated job with every default spelled out. */
export interface JobDefinition<S extends FlagSpecs = FlagSpecs, E extends z.ZodObject = z.ZodObject> {
  name: string;
  description: string;
  schedule: Schedule | null;
  timeoutSeconds: number;
  retries: number;
  resources: Resources;
  tasks: number;
  parallelism: number;
  trigger: TriggerSettings | null;
  ifRunning: IfRunning;
  oncePerDay: boolean;
  uses: Dependency[];
  routes: RouteName[];
  flags: S;
  env: E | null;
  run(ctx: JobContext<FlagValues<S>, z.output<E>>): Promise<JobOutcome>;
}

// biome-ignore lint/suspicious/noExplicitAny: the catalog holds jobs of every flag shape
export type AnyJob = JobDefinition<any, any>;

/**
 * The defaults `defineJob` fills in, in one place.
 * Resources: the jobs only make HTTP calls and hold at most a page of orgs in memory, so 1 vCPU and
 * 512Mi (the smallest memory Cloud Run's second-generation environment allows with 1 vCPU) is plenty;
 * the old 2–4 Gi settings bought nothing but cost.
 */
export const JOB_DEFAULTS = {
  resources: { cpu: "1", memory: "512Mi" } satisfies Resources,
  tasks: 1,
  /** 0 = Cloud Run runs every task at once; with one task it makes no difference. */
  parallelism: 0,
  trigger: { retryCount: 1, attemptDeadlineSeconds: 180, paused: false } satisfies TriggerSettings,
} as const;

/** The spec each job was defined from, so the catalog's check sees exactly what the file wrote. */
const specs = new WeakMap<object, JobSpec>();

/** The spec `job` was defined from (undefined for an object not made by `defineJob`). */
export const specOf = (job: AnyJob): JobSpec | undefined => specs.get(job);

/**
 * Fill every default; no validation here (see the file comment).
 *
 * @example
 * export default defineJob({
 *   name: "stale-cleanup", description: "Fix stale quota rows.", uses: ["admin-api"],
 *   schedule: { cron: "0 2 * * *", timeZone: "Etc/UTC" }, timeoutSeconds: 600, retries: 1,
 *   async run(ctx) { return { status: "succeeded", message: "done" }; },
 * });
 */
export function defineJob<S extends FlagSpecs = Record<never, FlagSpec>, E extends z.ZodObject = z.ZodObject>(
  spec: JobSpec<S, E>,
): JobDefinition<S, E> {
  const scheduled = spec.schedule !== undefined;
  const job: JobDefinition<S, E> = {
    name: spec.name,
    description: spec.description,
    schedule: spec.schedule ? { cron: spec.schedule.cron, timeZone: spec.schedule.timeZone } : null,
    timeoutSeconds: spec.timeoutSeconds,
    retries: spec.retries,
    resources: { ...JOB_DEFAULTS.resources, ...spec.resources },
    tasks: spec.tasks ?? JOB_DEFAULTS.tasks,
    parallelism: spec.parallelism ?? JOB_DEFAULTS.parallelism,
    trigger: scheduled ? { ...JOB_DEFAULTS.trigger, ...spec.trigger } : null,
    // Scheduler delivery is at-least-once and a slow run can overlap the next tick: scheduled jobs skip.
    // A manual job started twice refuses the second run (README: "A second manual run").
    ifRunning: spec.ifRunning ?? (scheduled ? "skip" : "refuse"),
    oncePerDay: spec.oncePerDay ?? false,
    uses: Array.isArray(spec.uses) ? [...spec.uses] : spec.uses,
    routes: Array.isArray(spec.routes) ? [...spec.routes] : [],
    flags: spec.flags ?? ({} as S),
    env: spec.env ?? null,
    run: spec.run,
  };
  specs.set(job, spec as unknown as JobSpec);
  return job;
}
