/**
 * Quota maintenance: reset-daily, reset-monthly and cleanup-stale, as CONTRACT §1 describes them.
 * reset-daily (INSERT … ON CONFLICT DO NOTHING) and cleanup-stale (UPDATE only what differs) are
 * repeatable; reset-monthly is not: on the 1st every call zeroes the month's counters again.
 */
import { isoDate, ok, type Route } from "./http.ts";

const Q = "organizations";
/** A run still RUNNING after this long is considered stuck. */
export const STALE_AFTER_MINUTES = 60;

async function activeCount(ctx: Parameters<Route>[0]): Promise<number> {
  const r = await ctx.wh.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${Q}.org_profiles WHERE status = 'ACTIVE'`,
  );
  return r.rows[0]?.n ?? 0;
}

function reply(processed: number, changed: number, what: string) {
  return ok({
    success: true,
    orgs_processed: processed,
    orgs_created: changed,
    orgs_skipped: processed - changed,
    message: `${what}: ${changed} of ${processed} active organization(s) changed`,
  });
}

/** Creates today's quota row for every active org that has none (counts zero, month carried over). */
export const resetDaily: Route = async (ctx) => {
  const today = isoDate(ctx.now);
  const processed = await activeCount(ctx);
  const r = await ctx.wh.db.query(
    `INSERT INTO ${Q}.org_usage_quotas (org_slug, usage_date, pipelines_run_today, pipelines_failed_today,
       pipelines_succeeded_today, pipelines_run_month, concurrent_running, daily_limit, monthly_limit,
       created_at, last_updated)
     SELECT p.org_slug, $1::date, 0, 0, 0,
       CASE WHEN date_trunc('month', prev.usage_date) = date_trunc('month', $1::date)
            THEN prev.pipelines_run_month ELSE 0 END,
       COALESCE(prev.concurrent_running, 0), COALESCE(prev.daily_limit, 50), COALESCE(prev.monthly_limit, 1000),
       $2::timestamptz, $2::timestamptz
     FROM ${Q}.org_profiles p
     LEFT JOIN LATERAL (SELECT * FROM ${Q}.org_usage_quotas q WHERE q.org_slug = p.org_slug
       AND q.usage_date < $1::date ORDER BY q.usage_date DESC LIMIT 1) prev ON true
     WHERE p.status = 'ACTIVE'
     ON CONFLICT (org_slug, usage_date) DO NOTHING`,
    [today, ctx.now.toISOString()],
  );
  return reply(processed, r.affectedRows ?? 0, `daily quota reset for ${today}`);
};

/**
 * Zeroes the current month's counter of every active org. Only on the 1st (UTC, the sandbox clock): on any
 * other day it does nothing and says "Skipped: Not the 1st of the month (day=N)", like the real API.
 * Repeated on the 1st it zeroes them again (org_quota_resets gets a row per call, to count them).
 */
export const resetMonthly: Route = async (ctx) => {
  const day = ctx.now.getUTCDate();
  if (day !== 1)
    return ok({
      success: true,
      orgs_processed: 0,
      orgs_created: 0,
      orgs_skipped: 0,
      message: `Skipped: Not the 1st of the month (day=${day})`,
    });
  const today = isoDate(ctx.now);
  const month = today.slice(0, 7);
  const processed = await activeCount(ctx);
  const changed = await ctx.wh.db.transaction(async (tx) => {
    const reset = await tx.query<{ org_slug: string }>(
      `INSERT INTO ${Q}.org_quota_resets (org_slug, reset_kind, period, created_at)
       SELECT org_slug, 'monthly', $1, $2::timestamptz FROM ${Q}.org_profiles WHERE status = 'ACTIVE'
       RETURNING org_slug`,
      [month, ctx.now.toISOString()],
    );
    await tx.query(
      `UPDATE ${Q}.org_usage_quotas SET pipelines_run_month = 0, last_updated = $3::timestamptz
       WHERE org_slug = ANY($1::text[]) AND date_trunc('month', usage_date) = date_trunc('month', $2::date)`,
      [reset.rows.map((r) => r.org_slug), today, ctx.now.toISOString()],
    );
    return reset.rows.length;
  });
  return reply(processed, changed, `monthly quota reset for ${month}`);
};

/** Marks runs stuck in RUNNING as FAILED and repairs each org's concurrent_running counter. */
export const cleanupStale: Route = async (ctx) => {
  const processed = await activeCount(ctx);
  const fixed = await ctx.wh.db.transaction(async (tx) => {
    const runs = await tx.query<{ org_slug: string }>(
      `UPDATE ${Q}.org_meta_pipeline_runs r SET status = 'FAILED', end_time = $1::timestamptz,
         error_message = 'marked FAILED by cleanup-stale: RUNNING for more than ${STALE_AFTER_MINUTES} minutes'
       FROM ${Q}.org_profiles p
       WHERE p.org_slug = r.org_slug AND p.status = 'ACTIVE' AND r.status = 'RUNNING'
         AND r.start_time < $1::timestamptz - interval '${STALE_AFTER_MINUTES} minutes'
       RETURNING r.org_slug`,
      [ctx.now.toISOString()],
    );
    const counters = await tx.query<{ org_slug: string }>(
      `UPDATE ${Q}.org_usage_quotas q SET concurrent_running = c.running, last_updated = $1::timestamptz
       FROM (SELECT p.org_slug,
               (SELECT max(usage_date) FROM ${Q}.org_usage_quotas x WHERE x.org_slug = p.org_slug) AS latest,
               (SELECT count(*) FROM ${Q}.org_meta_pipeline_runs r
                 WHERE r.org_slug = p.org_slug AND r.status = 'RUNNING') AS running
             FROM ${Q}.org_profiles p WHERE p.status = 'ACTIVE') c
       WHERE q.org_slug = c.org_slug AND q.usage_date = c.latest AND q.concurrent_running <> c.running
       RETURNING q.org_slug`,
      [ctx.now.toISOString()],
    );
    return new Set([...runs.rows, ...counters.rows].map((r) => r.org_slug)).size;
  });
  return reply(processed, fixed, "stale pipeline cleanup");
};
