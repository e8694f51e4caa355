import { defineJob } from "../../src/runtime/job.ts";
import { quotaOutcome } from "../lib/quota.ts";

/** Fixes quota rows left stale (e.g. a pipeline that died mid-run); `orgs_created` counts orgs fixed. */
export default defineJob({
  name: "stale-cleanup",
  description: "Repair stale quota counters left by interrupted pipeline runs.",
  schedule: { cron: "0 2 * * *", timeZone: "Etc/UTC" },
  timeoutSeconds: 10 * 60,
  retries: 2,
  uses: ["admin-api"],
  routes: ["cleanupStale"],
  async run(ctx) {
    const result = await ctx.api.cleanupStale();
    return quotaOutcome(ctx, "Stale quota counters cleaned up", result);
  },
});
