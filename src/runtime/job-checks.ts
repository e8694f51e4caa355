/**
 * The check of a job definition: zod schemas with messages that name the job and the field. Run once per
 * catalog load by `buildCatalog` (tests, README, provisioning), never when a container starts a job:
 * `defineJob` (./job.ts) only fills defaults.
 *
 * @example
 * specProblems({ ...spec, retries: 11 }) // ['job "x": retries: must be at most 10 (Cloud Run maxRetries)']
 */
import { z } from "zod";
import { ROUTE_NAMES, ROUTES } from "./admin-api.ts";
import { ENVIRONMENTS } from "./environments.ts";
import { JobError } from "./errors.ts";
import { JOB_DEFAULTS, type JobSpec } from "./job.ts";
import { formatMs, routeBudgetMs } from "./retry-budget.ts";
import { cronProblem, timeZoneProblem } from "./schedule.ts";

/** A job file that does not pass validation; `problems` holds one line per field. Raised at load. */
export class JobDefinitionError extends JobError {
  override readonly name = "JobDefinitionError";
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid job definition:\n  - ${problems.join("\n  - ")}`);
    this.problems = problems;
  }
}

/** Longest suffix any resource of a job gets (`-sandbox` + `-trigger`), so every name fits 63 chars. */
const LONGEST_SUFFIX =
  Math.max(...Object.values(ENVIRONMENTS).map((e) => e.resourceSuffix.length)) + "-trigger".length;
export const MAX_JOB_NAME_LENGTH = 63 - LONGEST_SUFFIX;
const MAX_TIMEOUT_SECONDS = 168 * 3600;

const scheduleSchema = z.strictObject({ cron: z.string(), timeZone: z.string() }).superRefine((s, ctx) => {
  const zoneProblem = timeZoneProblem(s.timeZone);
  if (zoneProblem) ctx.addIssue({ code: "custom", path: ["timeZone"], message: zoneProblem });
  const problem = cronProblem(s.cron, zoneProblem ? "Etc/UTC" : s.timeZone);
  if (problem) ctx.addIssue({ code: "custom", path: ["cron"], message: problem });
});

const flagSchema = z.strictObject({
  type: z.enum(["boolean", "string"]),
  description: z.string().min(1),
  schema: z.custom<z.ZodType>((v) => v instanceof z.ZodType, "must be a zod schema").optional(),
  default: z.union([z.string(), z.boolean()]).optional(),
});

const int = (min: number, max: number, unit = "") =>
  z.number().int().min(min, `must be at least ${min}${unit}`).max(max, `must be at most ${max}${unit}`);

const specSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be lowercase letters, digits and inner dashes")
      .max(
        MAX_JOB_NAME_LENGTH,
        `must be at most ${MAX_JOB_NAME_LENGTH} characters so that "<name>-sandbox-trigger" fits 63`,
      ),
    description: z.string().min(1, "must say what the job does"),
    schedule: scheduleSchema.optional(),
    timeoutSeconds: int(1, MAX_TIMEOUT_SECONDS, " s (Cloud Run allows 1 s to 168 h)"),
    retries: int(0, 10, " (Cloud Run maxRetries)"),
    resources: z
      .strictObject({
        cpu: z.string().regex(/^\d+(\.\d+)?$|^\d+m$/),
        memory: z.string().regex(/^\d+(Mi|Gi)$/),
      })
      .partial()
      .optional(),
    tasks: int(1, 10_000, " (Cloud Run tasks per execution)").optional(),
    parallelism: int(0, 10_000).optional(),
    trigger: z
      .strictObject({
        retryCount: int(0, 5, " (Cloud Scheduler retryCount)"),
        attemptDeadlineSeconds: int(15, 1800, " s (Cloud Scheduler attemptDeadline)"),
        paused: z.boolean(),
      })
      .partial()
      .optional(),
    ifRunning: z.enum(["skip", "refuse", "run"]).optional(),
    oncePerDay: z.boolean().optional(),
    routes: z
      .array(z.enum(ROUTE_NAMES as [string, ...string[]]))
      .refine((r) => new Set(r).size === r.length, "lists a route twice")
      .optional(),
    uses: z
      .array(z.enum(["admin-api", "supabase", "bigquery"]))
      .refine((u) => new Set(u).size === u.length, "lists a dependency twice"),
    flags: z
      .record(z.string().regex(/^[a-z][a-z0-9-]*$/, "flag names are kebab-case"), flagSchema)
      .optional(),
    env: z
      .custom<z.ZodObject>((v) => v instanceof z.ZodObject, "must be a z.object of environment keys")
      .optional(),
    run: z.custom<(...args: never[]) => unknown>((v) => typeof v === "function", "must be an async function"),
  })
  .superRefine((spec, ctx) => {
    if (!spec.schedule && spec.trigger) {
      ctx.addIssue({
        code: "custom",
        path: ["trigger"],
        message: "only scheduled jobs have a trigger; add a schedule or remove it",
      });
    }
    const resources = { ...JOB_DEFAULTS.resources, ...spec.resources };
    const problem = resourceProblem(resources.cpu, resources.memory);
    if (problem) ctx.addIssue({ code: "custom", path: ["resources"], message: problem });
    if ((spec.parallelism ?? 0) > (spec.tasks ?? 1)) {
      ctx.addIssue({ code: "custom", path: ["parallelism"], message: "must not exceed tasks" });
    }
    for (const [path, message] of routeProblems(spec)) ctx.addIssue({ code: "custom", path, message });
  });

/**
 * The admin API routes a job declares: only with "admin-api" in `uses`; every route's retry budget fits the
 * task timeout; a job that calls a route that is not repeatable, or runs once per day, has no Cloud Run
 * task retries (a retry would repeat what the first attempt may have done).
 */
function routeProblems(spec: {
  uses: string[];
  routes?: string[] | undefined;
  timeoutSeconds: number;
  retries: number;
  oncePerDay?: boolean | undefined;
}): [string[], string][] {
  const problems: [string[], string][] = [];
  const routes = (spec.routes ?? []) as (keyof typeof ROUTES)[];
  // Routes are not required up front: a call to an undeclared one fails at once (ConfigError, exit 2).
  const usesApi = spec.uses.includes("admin-api");
  if (!usesApi && routes.length > 0) problems.push([["routes"], 'routes need "admin-api" in `uses`']);
  for (const name of routes) {
    const budget = routeBudgetMs(ROUTES[name]);
    if (budget > spec.timeoutSeconds * 1000)
      problems.push([
        ["timeoutSeconds"],
        `the retry budget of route ${name} (${formatMs(budget)}: every attempt timing out, plus the waits) does not fit the task timeout (${formatMs(spec.timeoutSeconds * 1000)}); raise the timeout or lower the route's retries in src/runtime/admin-api.ts`,
      ]);
  }
  const once = routes.filter((name) => !ROUTES[name].repeatable);
  if (spec.retries > 0 && (once.length > 0 || spec.oncePerDay))
    problems.push([
      ["retries"],
      `must be 0: ${once.length ? `route ${once.join(", ")} is not repeatable` : "the job runs at most once per day"}, and a Cloud Run task retry would repeat what the failed attempt may have done`,
    ]);
  return problems;
}

/** Cloud Run's CPU/memory pairs (second-generation environment, the one jobs run in). */
const CPU_CHOICES = [1, 2, 4, 6, 8];
const MIN_MEMORY_MI_FOR_CPU: Record<number, number> = { 1: 512, 2: 512, 4: 2048, 6: 4096, 8: 4096 };
const MAX_MEMORY_MI_FOR_CPU: Record<number, number> = { 1: 4096, 2: 8192, 4: 16384, 6: 24576, 8: 32768 };

/** Why Cloud Run would refuse this CPU/memory pair, or null. @example resourceProblem("4", "512Mi") */
export function resourceProblem(cpu: string, memory: string): string | null {
  const vcpu = cpu.endsWith("m") ? Number(cpu.slice(0, -1)) / 1000 : Number(cpu);
  const mi = Number(memory.slice(0, -2)) * (memory.endsWith("Gi") ? 1024 : 1);
  if (!CPU_CHOICES.includes(vcpu)) return `cpu "${cpu}": Cloud Run jobs take 1, 2, 4, 6 or 8 vCPU`;
  const min = MIN_MEMORY_MI_FOR_CPU[vcpu] as number;
  const max = MAX_MEMORY_MI_FOR_CPU[vcpu] as number;
  if (mi < min) return `memory "${memory}": ${vcpu} vCPU needs at least ${min}Mi`;
  if (mi > max)
    return `memory "${memory}": ${vcpu} vCPU allows at most ${max}Mi (more memory needs more CPU)`;
  return null;
}

/** Every problem of a job's spec, one line each naming the job and the field; [] when it is valid. */
export function specProblems(spec: JobSpec): string[] {
  const parsed = specSchema.safeParse(spec);
  if (parsed.success) return [];
  const who = typeof spec?.name === "string" ? `job "${spec.name}"` : "job (no name)";
  return parsed.error.issues.map((i) => `${who}: ${i.path.join(".") || "(definition)"}: ${i.message}`);
}
