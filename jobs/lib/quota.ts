/**
 * The three quota jobs (quota-reset, quota-monthly, stale-cleanup) make one call each and read the same
 * answer shape; this turns that answer into the job's outcome. `success:false` is a failure even with
 * HTTP 200 (the old scripts exited 0 on it), and the monthly reset's "Skipped: Not the 1st" answer is a
 * skip, never reported as a reset.
 */
import { isMonthlySkip, type QuotaResult } from "../../src/runtime/admin-api.ts";
import type { JobContext } from "../../src/runtime/context.ts";
import type { JobOutcome } from "../../src/runtime/job.ts";

/**
 * @example return quotaOutcome(ctx, "Daily quotas reset", await ctx.api.resetDailyQuota());
 */
export function quotaOutcome(ctx: Pick<JobContext, "log">, what: string, result: QuotaResult): JobOutcome {
  const summary = {
    orgs_processed: result.orgs_processed,
    orgs_created: result.orgs_created,
    orgs_skipped: result.orgs_skipped,
    api_message: result.message,
  };
  if (!result.success) {
    ctx.log.error(`${what}: the admin API answered success:false`, summary);
    return {
      status: "failed",
      message: `${what} failed: ${result.message || "success:false without a message"}`,
      summary,
    };
  }
  if (isMonthlySkip(result)) {
    const message = `Nothing reset: the API skipped the monthly reset ("${result.message}"); it resets only on the 1st (UTC)`;
    ctx.log.notice(message, summary);
    return { status: "skipped", message, summary };
  }
  ctx.log.info(what, summary);
  return {
    status: "succeeded",
    message: `${what}: ${result.orgs_processed} orgs processed, ${result.orgs_created} changed, ${result.orgs_skipped} skipped`,
    summary,
  };
}
