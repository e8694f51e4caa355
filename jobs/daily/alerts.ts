import { z } from "zod";
import { ALERT_TYPES, type AlertType } from "../../src/runtime/admin-api.ts";
import { defineJob } from "../../src/runtime/job.ts";
import { orgFlag } from "../lib/slug.ts";

const typesFlag = z
  .string()
  .optional()
  .transform((raw, ctx): AlertType[] | undefined => {
    if (raw === undefined) return undefined;
    const types = raw.split(",").map((t) => t.trim());
    if (types.every((t) => t === "")) {
      ctx.addIssue({ code: "custom", message: "is empty: list alert types, or leave the flag out for all" });
      return z.NEVER;
    }
    const unknown = types.filter((t) => !(ALERT_TYPES as readonly string[]).includes(t));
    if (unknown.length)
      ctx.addIssue({
        code: "custom",
        message: `unknown alert type(s) ${unknown.map((t) => JSON.stringify(t)).join(", ")}; use ${ALERT_TYPES.join(", ")}`,
      });
    return types as AlertType[];
  });

/**
 * Evaluates every alert rule and sends notifications. The risky job: the API does not de-duplicate, so a
 * second call the same day notifies every customer again. Hence: once per day (the runner checks Cloud
 * Run's execution history first and fails closed when it cannot), no Cloud Run task retry, and a call
 * that may have reached the API is never sent again (outcome unknown, exit 3).
 */
export default defineJob({
  name: "alerts",
  description: "Evaluate cost, budget and anomaly alerts for every organisation and send notifications.",
  schedule: { cron: "0 8 * * *", timeZone: "Etc/UTC" },
  timeoutSeconds: 30 * 60,
  retries: 0,
  oncePerDay: true,
  uses: ["admin-api"],
  routes: ["processAlerts"],
  flags: {
    "dry-run": {
      type: "boolean",
      description: "Evaluate alerts without sending notifications.",
      default: false,
    },
    org: { type: "string", description: "Only this organisation (org slug).", schema: orgFlag },
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
    const result = await ctx.api.processAlerts({
      alertTypes: types,
      sendNotifications: !dryRun,
      dryRun,
      ...(org !== undefined ? { orgSlug: org } : {}),
    });
    const summary = {
      dry_run: dryRun,
      org: org ?? null,
      orgs_processed: result.orgs_processed,
      alerts_triggered: result.alerts_triggered,
      notifications_sent: result.notifications_sent,
      errors: result.errors,
    };
    for (const problem of result.org_errors) ctx.log.error("Alert processing error", { error: problem });
    if (!result.success || result.errors > 0 || result.org_errors.length > 0) {
      return {
        status: "failed",
        message: `Alerts processed with errors (${result.errors} errors, ${result.org_errors.length} org errors listed; ${result.notifications_sent} notifications were sent, so do not simply re-run): ${result.message}`,
        summary: { ...summary, org_errors: result.org_errors },
      };
    }
    const verb = dryRun ? "would trigger" : "triggered";
    return {
      status: "succeeded",
      message: `Alerts: ${result.orgs_processed} orgs, ${result.alerts_triggered} ${verb}, ${result.notifications_sent} notifications sent${dryRun ? " (dry run)" : ""}`,
      summary,
    };
  },
});
