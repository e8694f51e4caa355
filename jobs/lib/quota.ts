/**
 * The three quota jobs (quota-reset, quota-monthly, stale-cleanup) make one call each and read the same
 * answer shape; this turns that answer into the job's outcome. `success:false` is a failure even with
 * HTTP 200 (the old scripts exited 0 on it).
 */
import type { QuotaResult, Replayable } from "../../src/runtime/admin-api.ts";
import type { JobContext } from "../../src/runtime/context.ts";
import type { JobOutcome } from "../../src/runtime/job.ts";

/**
 * @example return quotaOutcome(ctx, "Daily quotas reset", await ctx.api.resetDailyQuota({ idempotencyKey }));
 */
export function quotaOutcome(
  ctx: Pick<JobContext, "log">,
  what: string,
  result: Replayable<QuotaResult>,
): JobOutcome {
  const summary = {
    orgs_processed: result.orgs_processed,
    orgs_created: result.orgs_created,
    orgs_skipped: result.orgs_skipped,
    api_message: result.message,
    replayed: result.replayed,
  };
  if (!result.success) {
    ctx.log.error(`${what}: the admin API answered success:false`, summary);
    return {
      status: "failed",
      message: `${what} failed: ${result.message || "success:false without a message"}`,
      summary,
    };
  }
  ctx.log.info(what, summary);
  // A replayed answer reports the first run's counts; say so, so nobody reads it as a second reset.
  const replay = result.replayed
    ? " (already done today: the API replayed the first run's answer; nothing new was done)"
    : "";
  return {
    status: "succeeded",
    message: `${what}: ${result.orgs_processed} orgs processed, ${result.orgs_created} changed, ${result.orgs_skipped} skipped${replay}`,
    summary,
  };
}
