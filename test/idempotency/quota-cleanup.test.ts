/**
 * quota-cleanup (a BigQuery DELETE) against the sandbox warehouse: run twice, and killed after BigQuery
 * ran the DELETE but before the job heard back, then retried (the suite is in suite.ts).
 */
import { expect } from "vitest";
import { SANDBOX } from "../../sandbox/index.ts";
import { rows } from "./helpers.ts";
import { describeIdempotency } from "./suite.ts";

const NOW = new Date();
/** DAYS_TO_KEEP defaults to 90: rows dated before today − 90 days go. */
const CUTOFF = new Date(Date.parse(NOW.toISOString().slice(0, 10)) - 90 * 86_400_000)
  .toISOString()
  .slice(0, 10);

describeIdempotency(NOW, [
  {
    job: "quota-cleanup",
    args: [],
    service: "bigquery",
    route: `POST /bigquery/v2/projects/${SANDBOX.project}/queries`,
    snapshot: (db) =>
      rows(
        db,
        "SELECT usage_date, count(*)::int AS n FROM organizations.org_usage_quotas GROUP BY 1 ORDER BY 1",
      ),
    // Done: nothing older than the cutoff is left, and the cutoff day itself is kept (the seed has it).
    async done(db) {
      const [range] = await rows<{ oldest: string }>(
        db,
        "SELECT min(usage_date) AS oldest FROM organizations.org_usage_quotas",
      );
      expect(range?.oldest).toBe(CUTOFF);
    },
  },
]);
