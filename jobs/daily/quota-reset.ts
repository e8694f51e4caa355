import { defineJob } from "../../src/runtime/job.ts";
import { quotaOutcome } from "../lib/quota.ts";

/** Daily counters start from zero at midnight UTC; the API creates a day's row only where missing, so a re-delivered tick is a no-op. */
export default defineJob({
  name: "quota-reset",
  description: "Reset every organisation's daily pipeline quota counters.",
  schedule: { cron: "0 0 * * *", timeZone: "Etc/UTC" },
  timeoutSeconds: 15 * 60,
  retries: 2,
  uses: ["admin-api"],
  routes: ["resetDailyQuota"],
  async run(ctx) {
    const result = await ctx.api.resetDailyQuota();
    return quotaOutcome(ctx, "Daily quotas reset", result);
  },
});
