/**
 * The plan: what exists (read through the official clients) against what the catalog wants, normalised and
 * diffed field by field. create / update (old → new) / unchanged / orphan.
 *
 * Only resources that carry our managed-by AND environment markers can be orphans; anything else in the
 * project (another team's job, another environment's) is invisible to the plan and never touched.
 *
 * @example
 * const plan = buildPlan(desired, await readActual(clients, target), target, { image: undefined });
 * io.stdout.write(formatPlan(plan, target));
 */
import type { Clients } from "./clients.ts";
import { parentOf } from "./clients.ts";
import { type DesiredState, MANAGED_BY, type RunJob, type Trigger, triggerMarker } from "./desired.ts";
import { keepApiUrl, keepImage, withImage } from "./keep.ts";
import { formatLegacy, type LegacyItem, legacyJson } from "./legacy.ts";
import { type Flat, flattenRunJob, flattenTrigger } from "./normalize.ts";
import { changeLines } from "./screen.ts";
import type { Target } from "./target.ts";

export type Action = "create" | "update" | "unchanged" | "orphan";
export type Kind = "run-job" | "trigger";

export interface Change {
  field: string;
  from: string | undefined;
  to: string | undefined;
}

export interface PlanItem {
  kind: Kind;
  /** Full resource name. */
  name: string;
  action: Action;
  changes: Change[];
  desired?: RunJob | Trigger;
  actual?: RunJob | Trigger;
}

export interface Plan {
  items: PlanItem[];
  /** Reasons the plan cannot be applied (e.g. a new job and no --image); printed with the plan. */
  problems: string[];
  /** Things the operator should know that do not stop an apply (a tag instead of a digest in test/stage). */
  warnings: string[];
  /** Resources of the old scripts found next to ours (legacy.ts); filled by the command. */
  legacy: LegacyItem[];
}

export interface Actual {
  runJobs: RunJob[];
  triggers: Trigger[];
}

export async function readActual(clients: Clients, target: Target): Promise<Actual> {
  const parent = parentOf(target);
  // Both clients first (each a ~150 ms import that holds the event loop): then the two lists leave together.
  const [run, scheduler] = await Promise.all([clients.jobs(), clients.scheduler()]);
  const [[runJobs], [triggers]] = await Promise.all([
    run.listJobs({ parent }),
    scheduler.listJobs({ parent }),
  ]);
  return { runJobs, triggers };
}

export function diffFlat(actual: Flat, desired: Flat): Change[] {
  const fields = [...new Set([...Object.keys(actual), ...Object.keys(desired)])].sort();
  return fields
    .filter((field) => actual[field] !== desired[field])
    .map((field) => ({ field, from: actual[field], to: desired[field] }));
}

const shortName = (name: string): string => name.split("/").pop() ?? name;
/** The fields a create lists: what the container gets. */
const DEPLOYED = /^(image$|env\.|secret\.)/;

/**
 * @param options.image the --image given; without it an existing job keeps its image and source-commit label
 *   (a deploy of config alone must never reset the image to :latest). Likewise an existing job keeps its
 *   API_SERVICE_URL when the desired state has none (keep.ts).
 *
 * A create's `changes` list what it deploys (image, env values, secrets as references), so the plan shows it
 * before apply.
 */
export function buildPlan(
  desired: DesiredState,
  actual: Actual,
  target: Target,
  options: { image?: string | undefined },
): Plan {
  const plan: Plan = { items: [], problems: [], warnings: [], legacy: [] };
  const actualJobs = new Map(actual.runJobs.map((job) => [job.name ?? "", job]));
  for (const [name, wanted] of desired.runJobs) {
    const existing = actualJobs.get(name);
    let body = wanted;
    if (!existing) {
      if (!options.image) {
        if (target.env.name === "sandbox")
          body = withImage(wanted, `${target.env.imageRepository}:latest`, undefined);
        else plan.problems.push(`${shortName(name)} does not exist yet: pass --image <ref> to create it`);
      }
      if (desired.apiUrlMissing.has(name)) {
        plan.problems.push(
          `${shortName(name)} does not exist yet and ${target.env.name} has no admin API URL: pass --api-url https://… for ${target.env.name}`,
        );
      }
      const changes = diffFlat({}, flattenRunJob(body)).filter((c) => DEPLOYED.test(c.field));
      plan.items.push({ kind: "run-job", name, action: "create", changes, desired: body });
      continue;
    }
    if (!options.image) body = keepImage(wanted, existing);
    body = keepApiUrl(body, existing);
    const changes = diffFlat(flattenRunJob(existing), flattenRunJob(body));
    const action = changes.length ? "update" : "unchanged";
    plan.items.push({ kind: "run-job", name, action, changes, desired: body, actual: existing });
  }
  for (const job of actual.runJobs) {
    const ours = job.labels?.["managed-by"] === MANAGED_BY && job.labels?.environment === target.env.name;
    if (ours && !desired.runJobs.has(job.name ?? "")) {
      plan.items.push({ kind: "run-job", name: job.name ?? "", action: "orphan", changes: [], actual: job });
    }
  }
  const actualTriggers = new Map(actual.triggers.map((trigger) => [trigger.name ?? "", trigger]));
  for (const [name, wanted] of desired.triggers) {
    const existing = actualTriggers.get(name);
    if (!existing) {
      plan.items.push({ kind: "trigger", name, action: "create", changes: [], desired: wanted });
      continue;
    }
    const changes = diffFlat(flattenTrigger(existing), flattenTrigger(wanted));
    const action = changes.length ? "update" : "unchanged";
    plan.items.push({ kind: "trigger", name, action, changes, desired: wanted, actual: existing });
  }
  const marker = triggerMarker(target.env.name);
  for (const trigger of actual.triggers) {
    if (trigger.description?.includes(marker) && !desired.triggers.has(trigger.name ?? "")) {
      plan.items.push({
        kind: "trigger",
        name: trigger.name ?? "",
        action: "orphan",
        changes: [],
        actual: trigger,
      });
    }
  }
  return plan;
}

export const count = (plan: Plan, action: Action): number =>
  plan.items.filter((item) => item.action === action).length;

export const hasChanges = (plan: Plan): boolean =>
  plan.items.some((item) => item.action === "create" || item.action === "update");

/** Every write an apply would make: creates, updates, legacy pauses and, under --prune, deletes. */
export const writeCount = (plan: Plan, prune: boolean): number =>
  count(plan, "create") +
  count(plan, "update") +
  (prune ? count(plan, "orphan") : 0) +
  plan.legacy.filter((item) => item.retire).length;

const SIGNS: Record<Action, string> = { create: "+", update: "~", unchanged: "=", orphan: "-" };
const show = (value: string | undefined): string => (value === undefined ? "(none)" : JSON.stringify(value));

export function formatPlan(plan: Plan, target: Target, prune = false): string {
  const lines = [`Plan for ${target.env.name} (project ${target.env.project}, region ${target.env.region}):`];
  for (const item of plan.items) {
    const note =
      item.action === "orphan" ? (prune ? " (will be deleted: --prune)" : " (kept; --prune deletes it)") : "";
    lines.push(
      `  ${SIGNS[item.action]} ${item.action.padEnd(9)} ${item.kind.padEnd(7)} ${shortName(item.name)}${note}`,
    );
    for (const change of item.changes)
      lines.push(...changeLines(change.field, show(change.from), show(change.to)));
  }
  for (const problem of plan.problems) lines.push(`  ! ${problem}`);
  for (const warning of plan.warnings) lines.push(`  ! warning: ${warning}`);
  const retire = plan.legacy.filter((item) => item.retire).length;
  lines.push(
    `Plan: ${count(plan, "create")} to create, ${count(plan, "update")} to update, ${count(plan, "unchanged")} unchanged, ${count(plan, "orphan")} orphaned${retire ? `, ${retire} legacy to pause` : ""}`,
  );
  return `${lines.join("\n")}\n${formatLegacy(plan.legacy)}`;
}

/** The plan for scripts: no request bodies, just names, actions and field changes. */
export const planJson = (plan: Plan) => ({
  items: plan.items.map(({ kind, name, action, changes }) => ({
    kind,
    name: shortName(name),
    action,
    changes,
  })),
  problems: plan.problems,
  warnings: plan.warnings,
  legacy: legacyJson(plan.legacy),
  summary: Object.fromEntries(
    (["create", "update", "unchanged", "orphan"] as const).map((a) => [a, count(plan, a)]),
  ),
});
