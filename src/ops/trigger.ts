/**
 * Who started an execution. Cloud Run records no "triggered by", so the tools mark their own runs: run-job
 * and release pass JOB_TRIGGER=manual|release as a container env override, which the execution's template
 * keeps (Execution.template is the job's template with the run's overrides applied). Cloud Scheduler's
 * `:run` carries no overrides (its invoker needs only run.invoker, and overrides need
 * run.jobs.runWithOverrides), so an unmarked execution created within minutes after one of the job's cron
 * slots is the scheduler's; any other unmarked one ("other") came from the console, gcloud or an older
 * version of these tools.
 *
 * @example
 * await startExecution(clients, name, args, { ...triggerEnv("manual") });
 * triggerOf(execution, job) // "manual"
 */
import type { AnyJob } from "../runtime/job.ts";
import { previousSlot } from "./catalog.ts";
import { type Execution, toDate } from "./execution.ts";

export const TRIGGER_ENV = "JOB_TRIGGER";
export const TRIGGERS = ["scheduler", "manual", "release", "other"] as const;
export type Trigger = (typeof TRIGGERS)[number];

/** How long after a slot a scheduler-made execution may be created (Scheduler retries, Cloud Run queueing). */
export const SCHEDULER_WINDOW_MS = 15 * 60_000;

/** The env override that marks a run started by these tools. */
export const triggerEnv = (trigger: "manual" | "release"): Record<string, string> => ({
  [TRIGGER_ENV]: trigger,
});

/** The value of an env var in the execution's (overridden) container template. */
export function executionEnv(execution: Execution, name: string): string | undefined {
  for (const container of execution.template?.containers ?? []) {
    const found = container.env?.find((e) => e.name === name);
    if (found) return found.value ?? undefined;
  }
  return undefined;
}

export function triggerOf(execution: Execution, job: AnyJob | undefined): Trigger {
  const marked = executionEnv(execution, TRIGGER_ENV);
  if (marked === "manual" || marked === "release") return marked;
  const created = toDate(execution.createTime);
  if (job?.schedule && created) {
    const slot = previousSlot(job, created);
    if (slot && created.getTime() - slot.getTime() <= SCHEDULER_WINDOW_MS) return "scheduler";
  }
  return "other";
}
