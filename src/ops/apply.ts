/**
 * Apply a plan: creates and in-place updates in parallel, bounded so Scheduler's 500 writes/min quota is safe;
 * every long-running operation is awaited; each result is reported on its own line.
 *
 * Never delete-then-create (execution history would be lost and there would be a window with no job): Cloud Run
 * jobs get `updateJob` with the deployed job overlaid with the managed fields (keep.ts: fields set outside
 * this tool survive), Scheduler jobs `updateJob` with an update mask of exactly
 * the changed fields, and pause/resume for the paused flag. Deletes happen only for orphans under --prune.
 *
 * @example
 * const { failed } = await applyPlan(plan, clients, target, { prune: false, report: (l) => println(io.stdout, l) });
 */
import type { Clients } from "./clients.ts";
import { parentOf } from "./clients.ts";
import type { RunJob, Trigger } from "./desired.ts";
import { overlayManaged } from "./keep.ts";
import { TRIGGER_MASK_PATHS } from "./normalize.ts";
import type { Plan, PlanItem } from "./plan.ts";
import type { Target } from "./target.ts";

/** Four writers at once: a 13-resource apply finishes in seconds and stays far below 500 writes/min. */
export const APPLY_CONCURRENCY = 4;

export async function pool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const queue = [...items];
  const workers = Array.from({ length: Math.min(limit, queue.length) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  });
  await Promise.all(workers);
}

const shortName = (name: string): string => name.split("/").pop() ?? name;

async function applyRunJob(item: PlanItem, clients: Clients, target: Target): Promise<string> {
  const client = await clients.jobs();
  if (item.action === "orphan") {
    const [operation] = await client.deleteJob({ name: item.name });
    await operation.promise();
    return "deleted";
  }
  const job = structuredClone(item.desired as RunJob);
  if (item.action === "create") {
    job.name = "";
    const [operation] = await client.createJob({
      parent: parentOf(target),
      jobId: shortName(item.name),
      job,
    });
    await operation.promise();
    return "created";
  }
  const [operation] = await client.updateJob({ job: overlayManaged(item.actual as RunJob, job) });
  await operation.promise();
  return `updated (${item.changes.map((change) => change.field).join(", ")})`;
}

async function applyTrigger(item: PlanItem, clients: Clients, target: Target): Promise<string> {
  const client = await clients.scheduler();
  if (item.action === "orphan") {
    await client.deleteJob({ name: item.name });
    return "deleted";
  }
  const { state, ...job } = item.desired as Trigger;
  const paused = state === "PAUSED";
  if (item.action === "create") {
    await client.createJob({ parent: parentOf(target), job });
    if (paused) await client.pauseJob({ name: item.name });
    return paused ? "created (paused)" : "created";
  }
  const paths = item.changes.flatMap((change) => TRIGGER_MASK_PATHS[change.field] ?? []);
  if (paths.length) await client.updateJob({ job, updateMask: { paths } });
  if (item.changes.some((change) => change.field === "paused")) {
    await (paused ? client.pauseJob({ name: item.name }) : client.resumeJob({ name: item.name }));
  }
  return `updated (${item.changes.map((change) => change.field).join(", ")})`;
}

export interface ApplyResult {
  done: number;
  failed: number;
}

/** Cloud Run jobs first (a trigger points at its job), then triggers; under --prune, orphans last. */
export async function applyPlan(
  plan: Plan,
  clients: Clients,
  target: Target,
  options: { prune: boolean; report: (line: string) => void },
): Promise<ApplyResult> {
  const result: ApplyResult = { done: 0, failed: 0 };
  const run = async (item: PlanItem) => {
    const started = Date.now();
    try {
      const what =
        item.kind === "run-job"
          ? await applyRunJob(item, clients, target)
          : await applyTrigger(item, clients, target);
      result.done++;
      options.report(
        `  ✓ ${item.kind} ${shortName(item.name)}: ${what} in ${((Date.now() - started) / 1000).toFixed(1)}s`,
      );
    } catch (error) {
      result.failed++;
      const message = error instanceof Error ? error.message : String(error);
      options.report(`  ✗ ${item.kind} ${shortName(item.name)}: ${item.action} failed: ${message}`);
    }
  };
  const writes = (kind: string) =>
    plan.items.filter((item) => item.kind === kind && (item.action === "create" || item.action === "update"));
  await pool(writes("run-job"), APPLY_CONCURRENCY, run);
  await pool(writes("trigger"), APPLY_CONCURRENCY, run);
  if (options.prune) {
    const orphans = (kind: string) =>
      plan.items.filter((item) => item.kind === kind && item.action === "orphan");
    await pool(orphans("trigger"), APPLY_CONCURRENCY, run);
    await pool(orphans("run-job"), APPLY_CONCURRENCY, run);
  }
  return result;
}
