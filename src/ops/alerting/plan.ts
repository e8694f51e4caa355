/**
 * The alert policies' part of create-all-jobs: read what is deployed, diff field by field against the
 * catalog's policies, apply in place (`updateAlertPolicy` with an update mask of the changed fields), delete
 * only our own orphans under --prune.
 *
 * Monitoring names a policy itself (`projects/p/alertPolicies/<id>`), so desired and deployed are matched by
 * user labels: `managed-by=scheduler-jobs`, `environment=<env>`, `alert`, `job`. Policies without those
 * labels (anyone else's) are invisible here and never touched.
 *
 * @example
 * const plan = planAlerts(catalog, target, channels.names, await readPolicies(clients, target));
 * io.stdout.write(formatAlertPlan(plan, target.env.name, prune));
 */
import type { AnyJob } from "../../runtime/job.ts";
import type { Clients } from "../clients.ts";
import { MANAGED_BY } from "../desired.ts";
import { durationText, enumName, type Flat } from "../normalize.ts";
import type { Action, Change } from "../plan.ts";
import { diffFlat } from "../plan.ts";
import { changeLines } from "../screen.ts";
import type { Target } from "../target.ts";
import { type AlertPolicy, desiredPolicies, policyKey } from "./policies.ts";

export interface AlertItem {
  key: string;
  action: Action;
  changes: Change[];
  desired?: AlertPolicy;
  actual?: AlertPolicy;
}
export interface AlertPlan {
  items: AlertItem[];
  problems: string[];
}

const COMBINERS = ["COMBINE_UNSPECIFIED", "AND", "OR", "AND_WITH_MATCHING_RESOURCE"];
const SEVERITIES = ["SEVERITY_UNSPECIFIED", "CRITICAL", "ERROR", "WARNING"];

/** One comparable shape for a policy, whatever the transport returned (enums as numbers, BoolValue, Long). */
export function flattenPolicy(policy: AlertPolicy): Flat {
  const enabled = policy.enabled as { value?: boolean } | boolean | null | undefined;
  const flat: Flat = {
    displayName: policy.displayName ?? "",
    documentation: policy.documentation?.content ?? "",
    combiner: enumName(COMBINERS, policy.combiner, "COMBINE_UNSPECIFIED"),
    enabled: String(
      typeof enabled === "object" && enabled !== null ? (enabled.value ?? false) : (enabled ?? true),
    ),
    severity: enumName(SEVERITIES, policy.severity, "SEVERITY_UNSPECIFIED"),
    notificationChannels: [...(policy.notificationChannels ?? [])].sort().join(","),
  };
  (policy.conditions ?? []).forEach((condition, i) => {
    const promql = condition.conditionPrometheusQueryLanguage;
    const prefix = `condition${i ? `[${i}]` : ""}`;
    flat[`${prefix}.displayName`] = condition.displayName ?? "";
    flat[`${prefix}.query`] = promql?.query ?? "(not PromQL)";
    flat[`${prefix}.duration`] = durationText(promql?.duration, 0);
    flat[`${prefix}.evaluationInterval`] = durationText(promql?.evaluationInterval, 60);
  });
  for (const [key, value] of Object.entries(policy.userLabels ?? {})) flat[`label.${key}`] = value;
  return flat;
}

/** Update-mask path of each flat field. */
export function maskPath(field: string): string {
  if (field.startsWith("condition")) return "conditions";
  if (field.startsWith("label.")) return "user_labels";
  return { displayName: "display_name", notificationChannels: "notification_channels" }[field] ?? field;
}

export const isOurs = (policy: AlertPolicy, env: string): boolean =>
  policy.userLabels?.["managed-by"] === MANAGED_BY && policy.userLabels?.environment === env;

/** Display names → channel resource names; every name missing (or ambiguous) is a problem with its fix. */
export async function resolveChannels(
  clients: Clients,
  target: Target,
): Promise<{ names: string[]; problems: string[] }> {
  const client = await clients.notificationChannels();
  const [channels] = await client.listNotificationChannels({ name: `projects/${target.env.project}` });
  const names: string[] = [];
  const problems: string[] = [];
  for (const wanted of target.env.alertChannels) {
    const found = channels.filter((channel) => channel.displayName === wanted);
    if (found.length === 1) names.push(found[0]?.name ?? "");
    else if (found.length === 0)
      problems.push(
        `notification channel "${wanted}" (environments table, ${target.env.name}.alertChannels) does not exist in project ${target.env.project}: create it in Monitoring → Alerting → Edit notification channels, or \`gcloud beta monitoring channels create --display-name="${wanted}" --type=email --channel-labels=email_address=<on-call address> --project ${target.env.project}\`; or deploy without alerts: --no-alerts`,
      );
    else
      problems.push(
        `${found.length} notification channels in project ${target.env.project} are named "${wanted}": rename all but one, so alerts go where the environments table says`,
      );
  }
  return { names, problems };
}

export async function readPolicies(clients: Clients, target: Target): Promise<AlertPolicy[]> {
  const client = await clients.alertPolicies();
  const [policies] = await client.listAlertPolicies({ name: `projects/${target.env.project}` });
  return policies.filter((policy) => isOurs(policy, target.env.name));
}

/**
 * The policies' plan from what is deployed (`readPolicies`) and the resolved channel names
 * (`resolveChannels`); both are read in create-all-jobs' one wave of reads, so this calls nothing.
 */
export function planAlerts(
  catalog: readonly AnyJob[],
  target: Target,
  channels: string[],
  deployed: readonly AlertPolicy[],
): AlertPlan {
  const desired = desiredPolicies(catalog, target, channels);
  const byKey = new Map(
    deployed.map((policy) => [policyKey(policy.userLabels as Record<string, string>), policy]),
  );
  const plan: AlertPlan = { items: [], problems: desired.problems };
  for (const [key, wanted] of desired.policies) {
    const actual = byKey.get(key);
    byKey.delete(key);
    if (!actual) {
      plan.items.push({ key, action: "create", changes: [], desired: wanted });
      continue;
    }
    const changes = diffFlat(flattenPolicy(actual), flattenPolicy(wanted));
    plan.items.push({
      key,
      action: changes.length ? "update" : "unchanged",
      changes,
      desired: wanted,
      actual,
    });
  }
  // Left over: ours, but no longer wanted (a job removed, or a duplicate made by hand from a copy).
  for (const [key, actual] of byKey) plan.items.push({ key, action: "orphan", changes: [], actual });
  return plan;
}

const SIGNS: Record<Action, string> = { create: "+", update: "~", unchanged: "=", orphan: "-" };
const show = (value: string | undefined): string => (value === undefined ? "(none)" : JSON.stringify(value));
export const alertCount = (plan: AlertPlan, action: Action): number =>
  plan.items.filter((item) => item.action === action).length;

export function formatAlertPlan(plan: AlertPlan, prune = false): string {
  const lines = ["Alert policies (Cloud Monitoring):"];
  for (const item of plan.items) {
    const note =
      item.action === "orphan" ? (prune ? " (will be deleted: --prune)" : " (kept; --prune deletes it)") : "";
    lines.push(`  ${SIGNS[item.action]} ${item.action.padEnd(9)} policy  ${item.key}${note}`);
    for (const change of item.changes)
      lines.push(...changeLines(change.field, show(change.from), show(change.to)));
  }
  for (const problem of plan.problems) lines.push(`  ! ${problem}`);
  lines.push(
    `Alerts: ${alertCount(plan, "create")} to create, ${alertCount(plan, "update")} to update, ${alertCount(plan, "unchanged")} unchanged, ${alertCount(plan, "orphan")} orphaned`,
  );
  return `${lines.join("\n")}\n`;
}

export const alertPlanJson = (plan: AlertPlan) => ({
  items: plan.items.map(({ key, action, changes }) => ({ kind: "alert-policy", name: key, action, changes })),
  problems: plan.problems,
  summary: Object.fromEntries(
    (["create", "update", "unchanged", "orphan"] as const).map((a) => [a, alertCount(plan, a)]),
  ),
});

/**
 * One write of the plan: create, in-place update (mask = changed fields) or delete (an orphan, under
 * --prune). apply.ts runs them in the same wave as the Cloud Run and Scheduler writes: a policy needs
 * neither (its query names the job, not a resource).
 */
export async function applyAlertItem(item: AlertItem, clients: Clients, target: Target): Promise<string> {
  const client = await clients.alertPolicies();
  if (item.action === "create") {
    await client.createAlertPolicy({
      name: `projects/${target.env.project}`,
      alertPolicy: item.desired ?? {},
    });
    return "created";
  }
  if (item.action === "update") {
    const paths = [...new Set(item.changes.map((change) => maskPath(change.field)))];
    await client.updateAlertPolicy({
      alertPolicy: { ...item.desired, name: item.actual?.name ?? "" },
      updateMask: { paths },
    });
    return `updated (${item.changes.map((c) => c.field).join(", ")})`;
  }
  if (item.action === "orphan") {
    await client.deleteAlertPolicy({ name: item.actual?.name ?? "" });
    return "deleted";
  }
  return "unchanged";
}
