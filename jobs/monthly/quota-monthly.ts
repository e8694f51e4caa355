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
 * The API resets only on the 1st (UTC) and answers "Skipped: Not the 1st" on any other day, reported here
 * as a skip (also with --force). A second reset on the 1st would zero the counters used since the first,
 * so the job runs at most once per day (the runner checks Cloud Run's execution history, fails closed) and
 * a call that may have reached the API is never sent again (outcome unknown, exit 3; no task retry).
 */
export default defineJob({
  name: "quota-monthly",
  description: "Reset monthly quota counters on the 1st of the month.",
  schedule: SCHEDULE,
  timeoutSeconds: 15 * 60,
  retries: 0,
  oncePerDay: true,
  uses: ["admin-api"],
  routes: ["resetMonthlyQuota"],
  flags: {
    force: {
      type: "boolean",
      description:
        "Call the API even when this job's clock says it is not the 1st (the API itself still resets only on the 1st, UTC, and answers a skip otherwise).",
      default: false,
    },
  },
  async run(ctx) {
    const now = ctx.clock.now();
    const day = dayOfMonth(now, SCHEDULE.timeZone);
    if (day !== 1 && !ctx.flags.force) {
      const message = `Skipped: today is day ${day} of the month in ${SCHEDULE.timeZone}, monthly quotas reset on the 1st; --force asks the API anyway (it also resets only on the 1st)`;
      ctx.log.notice(message, { day_of_month: day });
      return { status: "skipped", message, summary: { day_of_month: day } };
    }
    if (day !== 1)
      ctx.log.warn(`--force on day ${day}: asking the API anyway (it decides by its own UTC date)`);
    const result = await ctx.api.resetMonthlyQuota();
    return quotaOutcome(ctx, "Monthly quotas reset", result);
  },
});
