import { z } from "zod";
import { ConfigError } from "../../src/runtime/errors.ts";
import { defineJob } from "../../src/runtime/job.ts";

/**
 * DAYS_TO_KEEP: a whole number of days from 1 to 36500, default 90 when the variable is absent. 0 would
 * delete today's rows, and "1.5", "abc", an explicitly empty value (`DAYS_TO_KEEP=`) or a space-padded one
 * (" 30") say the operator meant something else: all refused, naming the key, before any query.
 */
export const daysToKeep = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined) return 90;
    if (/^\d+$/.test(raw) && Number(raw) >= 1 && Number(raw) <= 36_500) return Number(raw);
    const why =
      raw === ""
        ? "is set but empty (unset it for the default of 90)"
        : raw.trim() !== raw
          ? "has spaces around the number (remove them)"
          : "must be a whole number of days from 1 to 36500 (default 90)";
    ctx.addIssue({ code: "custom", message: `${why}, got ${JSON.stringify(raw)}` });
    return z.NEVER;
  });

/** `YYYY-MM-DD` of the UTC day `days` before `now`: rows with usage_date before it are deleted. */
export function cutoffDate(now: Date, days: number): string {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(midnight - days * 86_400_000).toISOString().slice(0, 10);
}

const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

export default defineJob({
  name: "quota-cleanup",
  description: "Delete org usage quota rows older than DAYS_TO_KEEP days (default 90) from BigQuery.",
  schedule: { cron: "0 1 * * *", timeZone: "Etc/UTC" },
  timeoutSeconds: 30 * 60,
  retries: 1,
  uses: ["bigquery"],
  env: z.object({ DAYS_TO_KEEP: daysToKeep }),
  flags: {
    "dry-run": {
      type: "boolean",
      description: "Count the rows that would be deleted; delete nothing.",
      default: false,
    },
  },
  async run(ctx) {
    // Config already parsed DAYS_TO_KEEP; checked again so a direct run(ctx) cannot bypass the rule.
    const days = ctx.env.DAYS_TO_KEEP;
    if (!Number.isInteger(days) || days < 1)
      throw new ConfigError(`DAYS_TO_KEEP: must be a whole number ≥ 1, got ${days}`);
    const project = ctx.config.bigquery?.projectId ?? ctx.config.project;
    if (!PROJECT_ID.test(project))
      throw new ConfigError(`GCP_PROJECT_ID: "${project}" is not a GCP project id`);
    const table = `\`${project}.organizations.org_usage_quotas\``;
    const cutoff = cutoffDate(ctx.clock.now(), days);
    const params = { cutoff };
    const types = { cutoff: "DATE" };
    const fields = { table, cutoff, days_to_keep: days };
    if (ctx.flags["dry-run"]) {
      const { rows } = await ctx.bigquery.query({
        sql: `SELECT COUNT(*) AS row_count FROM ${table} WHERE usage_date < @cutoff`,
        params,
        types,
      });
      const count = Number(rows[0]?.row_count ?? 0);
      ctx.log.info("Dry run: rows that would be deleted", { ...fields, rows: count });
      return {
        status: "succeeded",
        message: `Dry run: ${count} rows older than ${cutoff} would be deleted from ${table}`,
        summary: { ...fields, dry_run: true, rows: count },
      };
    }
    const { numDmlAffectedRows } = await ctx.bigquery.query({
      sql: `DELETE FROM ${table} WHERE usage_date < @cutoff`,
      params,
      types,
    });
    const deleted = numDmlAffectedRows ?? 0;
    ctx.log.info("Deleted old quota rows", { ...fields, rows_deleted: deleted });
    return {
      status: "succeeded",
      message: `Deleted ${deleted} rows older than ${cutoff} from ${table}`,
      summary: { ...fields, dry_run: false, rows_deleted: deleted },
    };
  },
});
