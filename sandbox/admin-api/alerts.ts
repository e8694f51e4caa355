/**
 * `alerts/process-all`: evaluates every enabled rule of the requested alert types against the cost data,
 * as of yesterday (the last complete day), and records one notification per triggered rule. Like the real
 * API (CONTRACT §1) it does NOT de-duplicate: a second call the same day sends every notification again
 * (count the rows of org_notifications_sent to see it). `dry_run` and `send_notifications:false` evaluate
 * without writing. `errors` is an integer count; details go to `org_errors` (the first 10).
 */
import { flag, HttpError, isoDate, ok, type Route } from "./http.ts";
import { ALERT_TYPES } from "./seed.ts";

const Q = "organizations";

/** One value per rule; a rule triggers when value >= threshold_value. Units per type in the CASE. */
const EVALUATE = `
WITH daily AS (
  SELECT org_slug, cost_date, SUM(cost_usd) AS cost FROM ${Q}.org_cost_tracking
  WHERE cost_date BETWEEN $1::date - 31 AND $1::date GROUP BY 1, 2),
stats AS (
  SELECT org_slug,
    SUM(cost) FILTER (WHERE cost_date = $1::date) AS y,
    SUM(cost) FILTER (WHERE cost_date = $1::date - 1) AS y1,
    SUM(cost) FILTER (WHERE cost_date >= date_trunc('month', $1::date)::date) AS mtd,
    AVG(cost) FILTER (WHERE cost_date BETWEEN $1::date - 30 AND $1::date - 1) AS mean30,
    STDDEV_SAMP(cost) FILTER (WHERE cost_date BETWEEN $1::date - 30 AND $1::date - 1) AS sd30
  FROM daily GROUP BY org_slug),
service_mtd AS (
  SELECT org_slug, service, SUM(cost_usd) AS cost FROM ${Q}.org_cost_tracking
  WHERE cost_date BETWEEN date_trunc('month', $1::date)::date AND $1::date GROUP BY 1, 2),
days AS (
  SELECT extract(day FROM $1::date)::float AS elapsed,
    extract(day FROM date_trunc('month', $1::date) + interval '1 month - 1 day')::float AS in_month),
vals AS (
  SELECT r.rule_id, r.org_slug, r.alert_type, r.channel, r.threshold_value,
    CASE r.alert_type
      WHEN 'cost_threshold' THEN s.y
      WHEN 'absolute_threshold' THEN s.mtd
      WHEN 'budget_percent' THEN s.mtd / NULLIF(b.amount_usd, 0) * 100
      WHEN 'budget_forecast' THEN s.mtd / days.elapsed * days.in_month / NULLIF(b.amount_usd, 0) * 100
      WHEN 'hierarchy_budget' THEN sm.cost / NULLIF(bs.amount_usd, 0) * 100
      WHEN 'anomaly_percent_change' THEN abs(s.y - s.y1) / NULLIF(s.y1, 0) * 100
      WHEN 'anomaly_std_deviation' THEN abs(s.y - s.mean30) / NULLIF(s.sd30, 0)
    END AS value
  FROM ${Q}.org_alert_rules r
  JOIN ${Q}.org_profiles p ON p.org_slug = r.org_slug AND p.status = 'ACTIVE'
  CROSS JOIN days
  LEFT JOIN stats s ON s.org_slug = r.org_slug
  LEFT JOIN ${Q}.org_budgets b ON b.org_slug = r.org_slug AND b.scope = '*' AND b.period = 'MONTHLY'
  LEFT JOIN ${Q}.org_budgets bs ON bs.org_slug = r.org_slug AND bs.scope = r.scope AND bs.period = 'MONTHLY'
  LEFT JOIN service_mtd sm ON sm.org_slug = r.org_slug AND sm.service = r.scope
  WHERE r.enabled AND r.alert_type = ANY($2::text[]) AND ($3::text IS NULL OR r.org_slug = $3))
SELECT rule_id, org_slug, alert_type, channel, threshold_value, round(value::numeric, 2)::float AS value
FROM vals WHERE value IS NOT NULL AND value >= threshold_value ORDER BY org_slug, rule_id`;

interface Triggered {
  rule_id: string;
  org_slug: string;
  alert_type: string;
  channel: string;
  threshold_value: number;
  value: number;
}

function alertTypes(body: Record<string, unknown>): string[] {
  const raw = body.alert_types ?? [...ALERT_TYPES];
  const types = Array.isArray(raw) ? raw : [];
  const unknown = types.filter((t) => !(ALERT_TYPES as readonly unknown[]).includes(t));
  if (!Array.isArray(raw) || unknown.length > 0 || types.length === 0) {
    throw new HttpError(
      400,
      `alert_types must be a non-empty list of ${ALERT_TYPES.join(", ")}; unknown: ${JSON.stringify(unknown)}`,
    );
  }
  return types as string[];
}

export const processAll: Route = async ({ wh, now, body }) => {
  const types = alertTypes(body);
  const dryRun = flag(body, "dry_run", false);
  const send = flag(body, "send_notifications", true);
  const orgSlug = typeof body.org_slug === "string" && body.org_slug !== "" ? body.org_slug : null;
  const orgs = await wh.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${Q}.org_profiles WHERE status = 'ACTIVE' AND ($1::text IS NULL OR org_slug = $1)`,
    [orgSlug],
  );
  if (orgSlug && orgs.rows[0]?.n === 0) throw new HttpError(404, `active organization ${orgSlug} not found`);
  const asOf = isoDate(new Date(now.getTime() - 86_400_000));
  const triggered = (await wh.db.query<Triggered>(EVALUATE, [asOf, types, orgSlug])).rows;
  let sent = 0;
  if (send && !dryRun && triggered.length > 0) {
    const inserted = await wh.db.query(
      `INSERT INTO ${Q}.org_notifications_sent (notification_id, rule_id, org_slug, alert_type, channel, message,
         notify_date, value, threshold_value, sent_at, created_at)
       SELECT gen_random_uuid()::text, t.rule_id, t.org_slug, t.alert_type, t.channel,
         t.alert_type || ' for ' || t.org_slug || ': ' || t.value || ' >= ' || t.threshold_value || ' (as of ' || $3 || ')',
         $2::date, t.value, t.threshold_value, $4::timestamptz, $4::timestamptz
       FROM json_to_recordset($1::json) AS t(rule_id text, org_slug text, alert_type text, channel text,
         value float, threshold_value float)`,
      [JSON.stringify(triggered), isoDate(now), asOf, now.toISOString()],
    );
    sent = inserted.affectedRows ?? 0;
  }
  const mode = dryRun ? " (dry run: nothing recorded)" : "";
  return ok({
    success: true,
    orgs_processed: orgs.rows[0]?.n ?? 0,
    alerts_triggered: triggered.length,
    notifications_sent: sent,
    errors: 0,
    org_errors: [],
    message: `${triggered.length} alert(s) triggered as of ${asOf}, ${sent} notification(s) sent${mode}`,
  });
};
