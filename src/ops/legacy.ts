/**
 * Cutover from the old scripts (CONTRACT §5): they left Cloud Run jobs and Scheduler triggers in the same
 * projects under other names (`cloudact-daily-alerts`, `cloudact-daily-alerts-trigger`, older unprefixed
 * ones such as `cloudact-quota-reset-daily`). Left enabled next to ours, every daily job would run twice and
 * customers would get every alert twice.
 *
 * The plan lists each legacy resource it finds with the job of ours that replaces it. `--retire-legacy`
 * pauses each replaced, enabled legacy trigger in the apply that makes ours live, just before ours is written
 * (a failure then leaves a missed run that list-jobs shows, never a double one). Nothing is deleted; a
 * legacy job with no replacement here (`cloudact-daily-pipelines`, the deprecated billing jobs) is listed
 * and left alone. list-jobs warns while a replaced legacy trigger is still enabled.
 *
 * @example
 * const legacy = findLegacy(actual, catalog, target, { retire: true });
 * io.stdout.write(formatLegacy(legacy));
 */
import type { AnyJob } from "../runtime/job.ts";
import { type RunJob, runJobName, type Trigger, triggerName } from "./desired.ts";
import { schedulerState } from "./normalize.ts";
import type { Target } from "./target.ts";

const PIPELINES = "no replacement here (it calls POST /api/v1/admin/pipelines/run-all): left alone";
const DEPRECATED = "deprecated by the old system, no replacement here: left alone";

/** Legacy Cloud Run job name → the catalog job that does its work (null: none). */
export const LEGACY_JOBS: Readonly<Record<string, string | null>> = {
  "cloudact-manual-supabase-migrate": "migrate",
  "cloudact-manual-bootstrap": "bootstrap",
  "cloudact-manual-bootstrap-sync": "bootstrap",
  "cloudact-manual-org-sync-all": "org-sync-all",
  "cloudact-daily-quota-reset": "quota-reset",
  "cloudact-daily-quota-cleanup": "quota-cleanup",
  "cloudact-daily-stale-cleanup": "stale-cleanup",
  "cloudact-15min-stale-cleanup": "stale-cleanup",
  "cloudact-daily-alerts": "alerts",
  "cloudact-monthly-quota-reset": "quota-monthly",
  "cloudact-daily-pipelines": null,
  "cloudact-5min-billing-sync-retry": null,
  "cloudact-daily-billing-reconcile": null,
  // Older names, before the category prefix.
  "cloudact-supabase-migrate": "migrate",
  "cloudact-bootstrap": "bootstrap",
  "cloudact-bootstrap-sync": "bootstrap",
  "cloudact-org-sync-all": "org-sync-all",
  "cloudact-quota-reset-daily": "quota-reset",
  "cloudact-quota-cleanup": "quota-cleanup",
  "cloudact-stale-cleanup": "stale-cleanup",
  "cloudact-quota-reset-monthly": "quota-monthly",
  "cloudact-billing-sync-retry": null,
  "cloudact-billing-sync-reconcile": null,
};

export interface LegacyItem {
  kind: "run-job" | "trigger";
  /** Full resource name. */
  name: string;
  /** Triggers: ENABLED, PAUSED, …; run jobs: undefined. */
  state?: string;
  /** Our catalog job that replaces it, or null. */
  job: string | null;
  /** Full name of our resource that replaces it (our trigger for a legacy trigger). */
  replacedBy: string | null;
  /** This apply pauses it (--retire-legacy, replaced, enabled). */
  retire: boolean;
  note?: string;
}

const shortName = (name: string | null | undefined): string => (name ?? "").split("/").pop() ?? "";

function legacyOf(short: string): { legacy: string; trigger: boolean } | null {
  if (short in LEGACY_JOBS) return { legacy: short, trigger: false };
  const base = short.replace(/-trigger$/, "");
  return base !== short && base in LEGACY_JOBS ? { legacy: base, trigger: true } : null;
}

/** The legacy resources among `actual`, each with its replacement (see the module comment). */
export function findLegacy(
  actual: { runJobs: readonly RunJob[]; triggers: readonly Trigger[] },
  catalog: readonly AnyJob[],
  target: Target,
  options: { retire: boolean },
): LegacyItem[] {
  const items: LegacyItem[] = [];
  const resources = [
    ...actual.runJobs.map((r) => ({ r, kind: "run-job" as const })),
    ...actual.triggers.map((r) => ({ r, kind: "trigger" as const })),
  ];
  for (const { r, kind } of resources) {
    const found = legacyOf(shortName(r.name));
    if (!found || found.trigger !== (kind === "trigger")) continue;
    const wanted = LEGACY_JOBS[found.legacy] ?? null;
    const job = catalog.find((candidate) => candidate.name === wanted) ?? null;
    const state = kind === "trigger" ? schedulerState((r as Trigger).state) : undefined;
    const replacedBy = !job
      ? null
      : kind === "trigger" && job.schedule
        ? triggerName(job, target)
        : runJobName(job, target);
    const note = job ? undefined : found.legacy.includes("pipelines") ? PIPELINES : DEPRECATED;
    items.push({
      kind,
      name: r.name ?? "",
      ...(state ? { state } : {}),
      job: job?.name ?? null,
      replacedBy,
      retire: options.retire && kind === "trigger" && job !== null && state === "ENABLED",
      ...(note ? { note } : {}),
    });
  }
  return items.sort((a, b) => a.name.localeCompare(b.name));
}

/** Replaced legacy triggers that still fire: the double runs list-jobs warns about. */
export const enabledReplaced = (items: readonly LegacyItem[]): LegacyItem[] =>
  items.filter((item) => item.kind === "trigger" && item.replacedBy && item.state === "ENABLED");

/** The plan's legacy section; empty when there is nothing legacy. */
export function formatLegacy(items: readonly LegacyItem[]): string {
  if (!items.length) return "";
  const lines = ["Legacy resources of the old scripts (never deleted by this tool):"];
  const width = Math.max(...items.map((item) => shortName(item.name).length));
  for (const item of items) {
    const what = `${item.kind.padEnd(7)} ${shortName(item.name).padEnd(width)}`;
    const state = item.state ? ` ${item.state}` : "";
    if (!item.replacedBy) {
      lines.push(`  · ${`${what}${state}`.trimEnd()}: ${item.note ?? "left alone"}`);
      continue;
    }
    let fate = "";
    if (item.retire) fate = "; will be paused in this apply (--retire-legacy)";
    else if (item.kind === "trigger" && item.state === "ENABLED")
      fate = "; STILL ENABLED: both would run — pass --retire-legacy to pause it";
    lines.push(
      `  ${item.retire ? "‖" : "·"} ${what}${state} → replaced by ${shortName(item.replacedBy)}${fate}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** One warning line per replaced legacy trigger still enabled (list-jobs prints them on stderr). */
export const legacyWarnings = (items: readonly LegacyItem[], envName: string): string[] =>
  enabledReplaced(items).map(
    (item) =>
      `warning: legacy trigger ${shortName(item.name)} is still ENABLED and ${shortName(item.replacedBy)} does the same work: it runs twice; pause it with ./scripts/create-all-jobs.sh ${envName} --retire-legacy`,
  );

/** legacy items as JSON for --json plans. */
export const legacyJson = (items: readonly LegacyItem[]) =>
  items.map((item) => ({
    kind: item.kind,
    name: shortName(item.name),
    ...(item.state ? { state: item.state } : {}),
    replacedBy: item.replacedBy ? shortName(item.replacedBy) : null,
    retire: item.retire,
    ...(item.note ? { note: item.note } : {}),
  }));
