/**
 * Apply a plan: every create and in-place update in one parallel wave (Cloud Run jobs, Scheduler triggers,
 * alert policies); every long-running operation is awaited; each result is reported on its own line.
 *
 * No write waits for another: a Scheduler job stores its target's URI and checks nothing at create
 * (CONTRACT §4; the sandbox does the same), and an alert policy's query names the job, not a resource. So a
 * trigger is written next to its Cloud Run job instead of after its operation; it fires on its schedule,
 * never within the seconds the job's operation takes. What stays in sequence, inside one unit: a legacy
 * trigger is paused before the trigger that replaces it is written (--retire-legacy), and a trigger declared
 * paused is created parked, paused, then given its schedule (PARKED_SCHEDULE): two more round trips.
 *
 * Never delete-then-create (execution history would be lost and there would be a window with no job): Cloud Run
 * jobs get `updateJob` with the deployed job overlaid with the managed fields (keep.ts: fields set outside
 * this tool survive), Scheduler jobs `updateJob` with an update mask of exactly
 * the changed fields, and pause/resume for the paused flag. Deletes happen only for orphans under --prune.
 *
 * Ctrl-C (the `signal`): no change starts after it, the operations in flight are awaited (a Cloud Run write is
 * a long-running operation), and the result says what was done and what was not.
 *
 * @example
 * const { failed } = await applyPlan(plan, clients, target, { prune: false, report: (l) => println(io.stdout, l) });
 */
import { type AlertPlan, applyAlertItem } from "./alerting/plan.ts";
import type { Clients } from "./clients.ts";
import { parentOf } from "./clients.ts";
import type { RunJob, Trigger } from "./desired.ts";
import { overlayManaged } from "./keep.ts";
import type { LegacyItem } from "./legacy.ts";
import { TRIGGER_MASK_PATHS } from "./normalize.ts";
import type { Plan, PlanItem } from "./plan.ts";
import type { Target } from "./target.ts";

/**
 * Writes in flight at once: enough for every write of the catalog's apply (a few dozen: a job, a trigger and
 * up to three alert policies per catalog job) in one wave. Quotas are per minute, and one apply makes far
 * fewer writes than any of them allows (Cloud Scheduler: 500 writes a minute, cloud.google.com/scheduler/quotas).
 */
export const APPLY_CONCURRENCY = 64;

/**
 * Works `items` with at most `limit` at once. Once `signal` is aborted no item starts; the ones in flight
 * finish. Returns the items never started.
 */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
  signal?: AbortSignal,
): Promise<T[]> {
  const queue = [...items];
  const next = () => (signal?.aborted ? undefined : queue.shift());
  const workers = Array.from({ length: Math.min(limit, queue.length) }, async () => {
    for (let item = next(); item !== undefined; item = next()) await work(item);
  });
  await Promise.all(workers);
  return queue;
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

/**
 * Scheduler's `state` is output only: a job is always created ENABLED. A trigger declared paused is therefore
 * created with a schedule that has no slot for years (29 February, midnight), paused, and only then given its
 * real schedule: it can never fire, even if the pause fails (the next plan shows it and the apply fixes it).
 */
export const PARKED_SCHEDULE = "0 0 29 2 *";

async function applyTrigger(item: PlanItem, clients: Clients, target: Target): Promise<string> {
  const client = await clients.scheduler();
  if (item.action === "orphan") {
    await client.deleteJob({ name: item.name });
    return "deleted";
  }
  const { state, ...job } = item.desired as Trigger;
  const paused = state === "PAUSED";
  if (item.action === "create") {
    if (!paused) {
      await client.createJob({ parent: parentOf(target), job });
      return "created";
    }
    await client.createJob({ parent: parentOf(target), job: { ...job, schedule: PARKED_SCHEDULE } });
    await client.pauseJob({ name: item.name });
    await client.updateJob({ job, updateMask: { paths: ["schedule"] } });
    return "created (paused)";
  }
  const paths = item.changes.flatMap((change) => TRIGGER_MASK_PATHS[change.field] ?? []);
  const toggles = item.changes.some((change) => change.field === "paused");
  // Pause before anything else changes; resume only once the rest is in place.
  if (toggles && paused) await client.pauseJob({ name: item.name });
  if (paths.length) await client.updateJob({ job, updateMask: { paths } });
  if (toggles && !paused) await client.resumeJob({ name: item.name });
  return `updated (${item.changes.map((change) => change.field).join(", ")})`;
}

async function retireLegacy(item: LegacyItem, clients: Clients): Promise<string> {
  const client = await clients.scheduler();
  await client.pauseJob({ name: item.name });
  return `paused (replaced by ${shortName(item.replacedBy ?? "")}; nothing deleted)`;
}

export interface ApplyOptions {
  prune: boolean;
  report: (line: string) => void;
  /** Ctrl-C: no change starts after it; the ones in flight finish and are reported. */
  signal?: AbortSignal | undefined;
  /** Legacy triggers to pause (--retire-legacy), each just before its replacement is written. */
  retire?: readonly LegacyItem[];
  /** The alert policies' plan (null or absent: --no-alerts). */
  alerts?: AlertPlan | null;
}

export interface ApplyResult {
  done: number;
  failed: number;
  /** "kind name (action)" of every change that was not started because of an interrupt. */
  notStarted: string[];
  interrupted: boolean;
}

interface Unit {
  label: string;
  action: string;
  work: () => Promise<string>;
}

/**
 * One wave: the Cloud Run jobs, the triggers (each preceded by pausing the legacy triggers it replaces), the
 * legacy triggers whose replacement needed no change and the alert policies; under --prune, orphans after
 * (triggers before the jobs they point at).
 */
export async function applyPlan(
  plan: Plan,
  clients: Clients,
  target: Target,
  options: ApplyOptions,
): Promise<ApplyResult> {
  const result: ApplyResult = { done: 0, failed: 0, notStarted: [], interrupted: false };
  const signal = options.signal;
  const elapsed = (started: number) => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  const step = async (label: string, action: string, work: () => Promise<string>): Promise<boolean> => {
    const started = Date.now();
    try {
      const what = await work();
      result.done++;
      options.report(`  ✓ ${label}: ${what} in ${elapsed(started)}`);
      return true;
    } catch (error) {
      result.failed++;
      const message = error instanceof Error ? error.message : String(error);
      options.report(`  ✗ ${label}: ${action} failed: ${message}`);
      return false;
    }
  };
  const retire = options.retire ?? [];
  const ofLegacy = (legacy: LegacyItem): Unit => ({
    label: `legacy trigger ${shortName(legacy.name)}`,
    action: "pause",
    work: () => retireLegacy(legacy, clients),
  });
  const ofItem = (item: PlanItem): Unit => ({
    label: `${item.kind} ${shortName(item.name)}`,
    action: item.action,
    work: async () => {
      for (const legacy of retire.filter((l) => l.replacedBy === item.name)) {
        const unit = ofLegacy(legacy);
        if (!(await step(unit.label, unit.action, unit.work)))
          throw new Error(`not written: the legacy trigger it replaces could not be paused (both would run)`);
      }
      return item.kind === "run-job"
        ? applyRunJob(item, clients, target)
        : applyTrigger(item, clients, target);
    },
  });
  const alerts = options.alerts?.items ?? [];
  const ofAlert = (item: AlertPlan["items"][number]): Unit => ({
    label: `policy ${item.key}`,
    action: item.action,
    work: () => applyAlertItem(item, clients, target),
  });
  const writes = plan.items.filter(isWrite);
  const written = new Set(writes.filter((i) => i.kind === "trigger").map((i) => i.name));
  const phases: Unit[][] = [
    [
      ...writes.map(ofItem),
      ...retire.filter((legacy) => !written.has(legacy.replacedBy ?? "")).map(ofLegacy),
      ...alerts.filter(isWrite).map(ofAlert),
    ],
  ];
  if (options.prune) {
    const orphans = (kind: string) =>
      plan.items.filter((i) => i.kind === kind && i.action === "orphan").map(ofItem);
    phases.push(
      [...orphans("trigger"), ...alerts.filter((i) => i.action === "orphan").map(ofAlert)],
      orphans("run-job"),
    );
  }
  const run = async (unit: Unit) => {
    await step(unit.label, unit.action, unit.work);
  };
  for (const units of phases) {
    if (signal?.aborted) {
      result.notStarted.push(...units.map((unit) => `${unit.label} (${unit.action})`));
      continue;
    }
    const left = await pool(units, APPLY_CONCURRENCY, run, signal);
    result.notStarted.push(...left.map((unit) => `${unit.label} (${unit.action})`));
  }
  result.interrupted = Boolean(signal?.aborted);
  return result;
}

const isWrite = (item: { action: string }): boolean => item.action === "create" || item.action === "update";
