/**
 * alerts, the risky job (a re-run must not notify twice), against the sandbox warehouse: run twice, and
 * killed after the API recorded its notifications then retried (the suite is in suite.ts).
 */
import { expect } from "vitest";
import { rows } from "./helpers.ts";
import { describeIdempotency } from "./suite.ts";

const NOW = new Date();
const TODAY = NOW.toISOString().slice(0, 10);

describeIdempotency(NOW, [
  {
    job: "alerts",
    args: [],
    route: "POST /api/v1/admin/alerts/process-all",
    secondRun: "a second alerts run exits 0 and sends no notification twice",
    snapshot: (db) =>
      rows(
        db,
        `SELECT notification_id, rule_id, org_slug, alert_type, channel, message, notify_date, value,
           threshold_value, sent_at FROM organizations.org_notifications_sent ORDER BY 1`,
      ),
    // Done: today's triggered rules were notified (the seed triggers some), each exactly once.
    async done(db) {
      const perRule = await rows<{ rule_id: string; n: number }>(
        db,
        `SELECT rule_id, count(*)::int AS n FROM organizations.org_notifications_sent WHERE notify_date = $1
         GROUP BY 1 ORDER BY 1`,
        [TODAY],
      );
      expect(perRule.length).toBeGreaterThan(0);
      expect(perRule.filter((r) => r.n !== 1)).toEqual([]);
    },
  },
]);
