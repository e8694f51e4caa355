/**
 * Deterministic seed data of the warehouse: organisations (active and inactive, interleaved), more than
 * 90 days of usage quotas per org, pipeline runs (some stuck RUNNING), daily costs with a spike for every
 * third org, budgets, one rule per alert type per active org, and a few per-org datasets in various states.
 * Everything is computed from the org's index and the seed date, so two seeds with the same options match.
 */

import { syncDataset } from "./datasets.ts";
import { ORG_TABLES, orgDataset } from "./tables.ts";
import type { WarehouseQueries } from "./warehouse-db.ts";

export const HISTORY_DAYS = 120;
/** The alert types of CONTRACT §1, written here from the contract (the sandbox never imports src/). */
export const ALERT_TYPES = [
  "cost_threshold",
  "absolute_threshold",
  "budget_percent",
  "budget_forecast",
  "hierarchy_budget",
  "anomaly_percent_change",
  "anomaly_std_deviation",
] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

interface SeedOrg {
  n: number;
  org_slug: string;
  org_name: string;
  status: string;
  plan: string;
  daily_limit: number;
  monthly_limit: number;
}

const PLANS = [
  { plan: "STARTER", daily_limit: 50, monthly_limit: 1000 },
  { plan: "PROFESSIONAL", daily_limit: 200, monthly_limit: 5000 },
  { plan: "SCALE", daily_limit: 1000, monthly_limit: 30000 },
];

/** The seeded organisations: inactive ones spread evenly through the list, alternating INACTIVE/SUSPENDED. */
export function seedOrgs(active: number, inactive: number): SeedOrg[] {
  const total = active + inactive;
  const inactiveAt = new Set<number>();
  for (let j = 0; j < inactive; j++) inactiveAt.add(Math.floor(((j + 1) * total) / (inactive + 1)) || 1);
  const width = Math.max(3, String(total).length);
  let inactiveSeen = 0;
  return Array.from({ length: total }, (_, i) => {
    const n = i + 1;
    const isInactive = inactiveAt.has(n);
    const status = isInactive ? (inactiveSeen++ % 2 === 0 ? "INACTIVE" : "SUSPENDED") : "ACTIVE";
    const plan = PLANS[n % PLANS.length] as (typeof PLANS)[number];
    return {
      n,
      org_slug: `org_${String(n).padStart(width, "0")}`,
      org_name: `Sandbox Org ${n}`,
      status,
      ...plan,
    };
  });
}

/** Fills an empty (already created) `organizations` dataset. `today` is `YYYY-MM-DD` (UTC). */
export async function seedWarehouse(db: WarehouseQueries, orgs: SeedOrg[], now: Date): Promise<void> {
  const today = now.toISOString().slice(0, 10);
  const json = JSON.stringify(orgs);
  const rec = `json_to_recordset($1::json) AS o(n int, org_slug text, org_name text, status text, plan text,
    daily_limit bigint, monthly_limit bigint)`;
  await db.query(
    `INSERT INTO organizations.org_profiles (org_slug, org_name, status, admin_email, subscription_plan,
       default_currency, created_at, updated_at)
     SELECT org_slug, org_name, status, 'admin+' || org_slug || '@example.test', plan, 'USD',
       $2::timestamptz - make_interval(days => 200 + n), $2::timestamptz - make_interval(days => n % 30)
     FROM ${rec}`,
    [json, now.toISOString()],
  );
  await db.query(
    `INSERT INTO organizations.org_usage_quotas (org_slug, usage_date, pipelines_run_today, pipelines_failed_today,
       pipelines_succeeded_today, pipelines_run_month, concurrent_running, daily_limit, monthly_limit, created_at,
       last_updated)
     SELECT org_slug, usage_date, runs, failed, runs - failed,
       SUM(runs) OVER (PARTITION BY org_slug, date_trunc('month', usage_date) ORDER BY usage_date),
       0, daily_limit, monthly_limit, usage_date::timestamptz, usage_date::timestamptz + interval '23 hours'
     FROM (SELECT o.org_slug, ($2::date - d) AS usage_date, (o.n * 7 + d * 3) % 20 AS runs,
             LEAST((o.n * 7 + d * 3) % 20, CASE WHEN (o.n + d) % 3 = 0 THEN 1 ELSE 0 END) AS failed,
             o.daily_limit, o.monthly_limit
           FROM ${rec}, generate_series(1, $3::int) AS d) s`,
    [json, today, HISTORY_DAYS],
  );
  await db.query(
    `INSERT INTO organizations.org_cost_tracking (org_slug, service, cost_date, cost_usd, created_at)
     SELECT o.org_slug, s.service, $2::date - d,
       round((s.base * (1 + ((o.n * 13 + d * 7) % 10) / 50.0)
         * CASE WHEN d = 1 AND o.n % 3 = 0 THEN 4 ELSE 1 END)::numeric, 2),
       ($2::date - d)::timestamptz + interval '6 hours'
     FROM ${rec}, generate_series(1, $3::int) AS d,
       LATERAL (VALUES ('bigquery', 20 + o.n % 30), ('cloud_run', 10 + o.n % 17)) AS s(service, base)`,
    [json, today, HISTORY_DAYS],
  );
  await db.query(
    `INSERT INTO organizations.org_budgets (budget_id, org_slug, scope, parent_budget_id, period, amount_usd, created_at)
     SELECT o.org_slug || ':total', o.org_slug, '*', NULL, 'MONTHLY',
       (30 + o.n % 30 + o.n % 17) * 30 * CASE WHEN o.n % 4 = 0 THEN 0.5 ELSE 2 END, $2::timestamptz FROM ${rec}
     UNION ALL
     SELECT o.org_slug || ':bigquery', o.org_slug, 'bigquery', o.org_slug || ':total', 'MONTHLY',
       (20 + o.n % 30) * 30 * CASE WHEN o.n % 5 = 0 THEN 0.4 ELSE 2 END, $2::timestamptz FROM ${rec}`,
    [json, now.toISOString()],
  );
  await db.query(
    `INSERT INTO organizations.org_alert_rules (rule_id, org_slug, alert_type, scope, channel, threshold_value,
       enabled, created_at)
     SELECT o.org_slug || ':' || t.alert_type, o.org_slug, t.alert_type, sc.scope, 'email',
       CASE t.alert_type
         WHEN 'cost_threshold' THEN (30 + o.n % 30 + o.n % 17) * 2
         WHEN 'absolute_threshold' THEN (30 + o.n % 30 + o.n % 17) * 15
         WHEN 'budget_percent' THEN 80 WHEN 'budget_forecast' THEN 100 WHEN 'hierarchy_budget' THEN 90
         WHEN 'anomaly_percent_change' THEN 100 ELSE 3 END,
       o.n % 7 <> t.i - 1, $3::timestamptz
     FROM ${rec}, unnest($2::text[]) WITH ORDINALITY AS t(alert_type, i),
       LATERAL (SELECT CASE WHEN t.alert_type = 'hierarchy_budget' THEN 'bigquery' ELSE '*' END AS scope) sc
     WHERE o.status = 'ACTIVE'`,
    [json, [...ALERT_TYPES], now.toISOString()],
  );
  await seedPipelineRuns(db, orgs, now, today);
  await seedOrgDatasets(db, orgs);
}

/** Every third active org has two runs stuck RUNNING for hours and one that is legitimately running. */
async function seedPipelineRuns(db: WarehouseQueries, orgs: SeedOrg[], now: Date, today: string) {
  const runs: Record<string, unknown>[] = [];
  for (const o of orgs.filter((x) => x.status === "ACTIVE")) {
    const ago = (min: number) => new Date(now.getTime() - min * 60_000).toISOString();
    const run = (k: number, status: string, startMin: number, endMin: number | null) =>
      runs.push({
        pipeline_logging_id: `${o.org_slug}-run-${k}`,
        org_slug: o.org_slug,
        pipeline_id: k % 2 === 0 ? "gcp_billing_daily" : "openai_usage_daily",
        status,
        start_time: ago(startMin),
        end_time: endMin === null ? null : ago(endMin),
      });
    run(1, "COMPLETED", 26 * 60, 26 * 60 - 12);
    run(2, "FAILED", 25 * 60, 25 * 60 - 3);
    if (o.n % 3 === 0) {
      run(3, "RUNNING", 5 * 60, null);
      run(4, "RUNNING", 3 * 60, null);
      run(5, "RUNNING", 5, null);
    }
  }
  await db.query(
    `INSERT INTO organizations.org_meta_pipeline_runs (pipeline_logging_id, org_slug, pipeline_id, status,
       trigger_type, start_time, end_time, created_at)
     SELECT r.pipeline_logging_id, r.org_slug, r.pipeline_id, r.status, 'scheduled', r.start_time, r.end_time,
       r.start_time FROM json_to_recordset($1::json) AS r(pipeline_logging_id text, org_slug text,
       pipeline_id text, status text, start_time timestamptz, end_time timestamptz)`,
    [JSON.stringify(runs)],
  );
  // The counter drifted: it still counts the stuck runs (what cleanup-stale repairs).
  await db.query(
    `UPDATE organizations.org_usage_quotas q SET concurrent_running = r.n
     FROM (SELECT org_slug, count(*) AS n FROM organizations.org_meta_pipeline_runs WHERE status = 'RUNNING'
           GROUP BY org_slug) r
     WHERE q.org_slug = r.org_slug AND q.usage_date = $1::date - 1`,
    [today],
  );
}

/** Among the first 20 active orgs: every 4th+1 has a complete dataset, every 4th+2 an outdated one. */
async function seedOrgDatasets(db: WarehouseQueries, orgs: SeedOrg[]) {
  for (const o of orgs.filter((x) => x.status === "ACTIVE" && x.n <= 20)) {
    if (o.n % 4 === 1)
      await syncDataset(db, orgDataset(o.org_slug), ORG_TABLES, { tables: true, columns: true });
    if (o.n % 4 === 2) {
      const old = ORG_TABLES.filter((t) => t.name !== "genai_usage").map((t) =>
        t.name === "cloud_costs" ? { ...t, columns: t.columns.filter(([c]) => c !== "sku") } : t,
      );
      await syncDataset(db, orgDataset(o.org_slug), old, { tables: true, columns: true });
    }
  }
}
