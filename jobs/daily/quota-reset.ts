import { defineJob } from "../../src/runtime/job.ts";
import { quotaOutcome } from "../lib/quota.ts";

/** Daily counters start from zero at midnight UTC; the Idempotency-Key makes a re-delivered tick a no-op. */
export default defineJob({
  name: "quota-reset",
  description: "Reset every organisation's daily pipeline quota counters.",
  schedule: { cron: "0 0 * * *", timeZone: "Etc/UTC" },
  timeoutSeconds: 15 * 60,
  retries: 2,
  uses: ["admin-api"],
  async run(ctx) {
    const result = await ctx.api.resetDailyQuota({ idempotencyKey: ctx.idempotencyKey() });
    return quotaOutcome(ctx, "Daily quotas reset", result);
  },
});
