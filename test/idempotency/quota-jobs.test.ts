/**
 * quota-reset and stale-cleanup against the sandbox warehouse: run twice, and killed after their call did
 * the work then retried (the suite is in suite.ts). quota-monthly and alerts are not repeatable at the API
 * (CONTRACT §1): their proof is once-per-day.test.ts, through Cloud Run's execution history.
 */
import { expect } from "vitest";
import { rows } from "./helpers.ts";
import { describeIdempotency } from "./suite.ts";

/** Every warehouse of this file is seeded at, and answers as of, this instant (comparable states). */
const NOW = new Date();
const TODAY = NOW.toISOString().slice(0, 10);
const ACTIVE = "SELECT org_slug FROM organizations.org_profiles WHERE status = 'ACTIVE'";

describeIdempotency(NOW, [
  {
    job: "quota-reset",
    args: [],
    route: "POST /api/v1/quota/reset-daily",
    snapshot: (db) =>
      rows(
        db,
        `SELECT org_slug, pipelines_run_today, pipelines_failed_today, pipelines_run_month, concurrent_running,
           daily_limit, monthly_limit FROM organizations.org_usage_quotas WHERE usage_date = $1 ORDER BY 1`,
        [TODAY],
      ),
    // Done: exactly one row for today per active org, its daily counters at zero.
    async done(db) {
      const today = await rows(
        db,
        `SELECT org_slug, pipelines_run_today FROM organizations.org_usage_quotas WHERE usage_date = $1 ORDER BY 1`,
        [TODAY],
      );
      const active = await rows(db, `${ACTIVE} ORDER BY 1`);
      expect(today).toEqual(active.map((a) => ({ ...a, pipelines_run_today: 0 })));
    },
  },
  {
    job: "stale-cleanup",
    args: [],
    route: "POST /api/v1/quota/cleanup-stale",
    snapshot: async (db) => ({
      runs: await rows(
        db,
        "SELECT pipeline_logging_id, status, end_time FROM organizations.org_meta_pipeline_runs ORDER BY 1",
      ),
      running: await rows(
        db,
        `SELECT org_slug, usage_date, concurrent_running FROM organizations.org_usage_quotas
         WHERE concurrent_running <> 0 ORDER BY 1, 2`,
      ),
    }),
    // Done: no active org's run is RUNNING for over an hour, and each latest counter counts what runs.
    async done(db) {
      const stuck = await rows(
        db,
        `SELECT pipeline_logging_id FROM organizations.org_meta_pipeline_runs WHERE status = 'RUNNING'
           AND start_time < $1::timestamptz - interval '60 minutes' AND org_slug IN (${ACTIVE})`,
        [NOW.toISOString()],
      );
      expect(stuck).toEqual([]);
      const drift = await rows(
        db,
        `SELECT q.org_slug, q.concurrent_running,
           (SELECT count(*)::int FROM organizations.org_meta_pipeline_runs r
             WHERE r.org_slug = q.org_slug AND r.status = 'RUNNING') AS running
         FROM organizations.org_usage_quotas q WHERE q.org_slug IN (${ACTIVE})
           AND q.usage_date = (SELECT max(usage_date) FROM organizations.org_usage_quotas x WHERE x.org_slug = q.org_slug)
           AND q.concurrent_running <> (SELECT count(*) FROM organizations.org_meta_pipeline_runs r
             WHERE r.org_slug = q.org_slug AND r.status = 'RUNNING')`,
      );
      expect(drift).toEqual([]);
    },
  },
]);
