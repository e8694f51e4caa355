import { defineJob } from "../../src/runtime/job.ts";
import { quotaOutcome } from "../lib/quota.ts";

const SCHEDULE = { cron: "5 0 1 * *", timeZone: "Etc/UTC" };

/**
 * Day of the month of `date` in `timeZone` (the schedule's zone decides what "the 1st" means). UTC needs
 * no time-zone database: loading ICU's zone data for it costs ~6 MiB of the job's memory.
 */
const dayOfMonth = (date: Date, timeZone: string) =>
  timeZone === "Etc/UTC" || timeZone === "UTC"
    ? date.getUTCDate()
    : Number(new Intl.DateTimeFormat("en-US", { timeZone, day: "numeric" }).format(date));

/**
 * The API resets only the CURRENT month, so a run on the 14th (a manual run, a late retry) would wipe
 * half a month of counters: skip cleanly unless --force. Twice on the 1st is safe (same Idempotency-Key).
 */
export default defineJob({
  name: "quota-monthly",
  description: "Reset monthly quota counters on the 1st of the month.",
  schedule: SCHEDULE,
  timeoutSeconds: 15 * 60,
  retries: 2,
  uses: ["admin-api"],
  flags: {
    force: {
      type: "boolean",
      description: "Reset even when today is not the 1st (resets the current month).",
      default: false,
    },
  },
  async run(ctx) {
    const now = ctx.clock.now();
    const day = dayOfMonth(now, SCHEDULE.timeZone);
    if (day !== 1 && !ctx.flags.force) {
      const message = `Skipped: today is day ${day} of the month in ${SCHEDULE.timeZone}, monthly quotas reset on the 1st; use --force to reset the current month anyway`;
      ctx.log.notice(message, { day_of_month: day });
      return { status: "skipped", message, summary: { day_of_month: day } };
    }
    if (day !== 1)
      ctx.log.warn(`Forced monthly reset on day ${day}: the current month's counters restart now`);
    const result = await ctx.api.resetMonthlyQuota({ idempotencyKey: ctx.idempotencyKey() });
    return quotaOutcome(ctx, "Monthly quotas reset", result);
  },
});
