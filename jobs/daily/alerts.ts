import { z } from "zod";
import { ALERT_TYPES, type AlertType } from "../../src/runtime/admin-api.ts";
import { defineJob } from "../../src/runtime/job.ts";

const typesFlag = z
  .string()
  .optional()
  .transform((raw, ctx): AlertType[] => {
    if (raw === undefined || raw.trim() === "") return [...ALERT_TYPES];
    const types = raw.split(",").map((t) => t.trim());
    const unknown = types.filter((t) => !(ALERT_TYPES as readonly string[]).includes(t));
    if (unknown.length)
      ctx.addIssue({
        code: "custom",
        message: `unknown alert type(s) ${unknown.join(", ")}; use ${ALERT_TYPES.join(", ")}`,
      });
    return types as AlertType[];
  });

/**
 * Evaluates every alert rule and sends notifications. The risky job: a re-run would notify twice, so the
 * Idempotency-Key is one per day (and per org / dry run), letting the API deduplicate a retried call.
 */
export default defineJob({
  name: "alerts",
  description: "Evaluate cost, budget and anomaly alerts for every organisation and send notifications.",
  schedule: { cron: "0 8 * * *", timeZone: "Etc/UTC" },
  timeoutSeconds: 30 * 60,
  retries: 1,
  uses: ["admin-api"],
  flags: {
    "dry-run": {
      type: "boolean",
      description: "Evaluate alerts without sending notifications.",
      default: false,
    },
    org: { type: "string", description: "Only this organisation (org slug)." },
    types: {
      type: "string",
      description: `Comma-separated alert types (default: all: ${ALERT_TYPES.join(",")}).`,
      schema: typesFlag,
    },
  },
  async run(ctx) {
    const dryRun = ctx.flags["dry-run"];
    const org = ctx.flags.org;
    const types = ctx.flags.types ?? [...ALERT_TYPES];
    // A run limited to some types gets a key of its own: otherwise a manual `--types budget_percent` run
    // would make the day's full run a replay, and the other types would never be evaluated that day.
    const partial =
      types.length < ALERT_TYPES.length ? `types=${[...new Set(types)].sort().join(",")}` : undefined;
    const scope = [org, partial, dryRun ? "dry-run" : undefined].filter(Boolean).join(":");
    const idempotencyKey = ctx.idempotencyKey(scope || undefined);
    const result = await ctx.api.processAlerts({
      idempotencyKey,
      alertTypes: types,
      sendNotifications: !dryRun,
      dryRun,
      ...(org ? { orgSlug: org } : {}),
    });
    const errorCount = typeof result.errors === "number" ? result.errors : result.errors.length;
    const summary = {
      dry_run: dryRun,
      org: org ?? null,
      idempotency_key: idempotencyKey,
      orgs_processed: result.orgs_processed,
      alerts_triggered: result.alerts_triggered,
      notifications_sent: result.notifications_sent,
      errors: errorCount,
      replayed: result.replayed,
    };
    const problems = [...(Array.isArray(result.errors) ? result.errors : []), ...result.org_errors];
    for (const problem of problems) ctx.log.error("Alert processing error", { error: problem });
    if (!result.success || errorCount > 0 || result.org_errors.length > 0) {
      return {
        status: "failed",
        message: `Alerts processed with errors (${errorCount} errors, ${result.org_errors.length} org errors): ${result.message}`,
        summary: { ...summary, org_errors: result.org_errors },
      };
    }
    const verb = dryRun ? "would trigger" : "triggered";
    return {
      status: "succeeded",
      message: result.replayed
        ? `Alerts already processed today (key ${idempotencyKey}): the API replayed the first run's answer (${result.notifications_sent} notifications then); none sent now`
        : `Alerts: ${result.orgs_processed} orgs, ${result.alerts_triggered} ${verb}, ${result.notifications_sent} notifications sent${dryRun ? " (dry run)" : ""}`,
      summary,
    };
  },
});
