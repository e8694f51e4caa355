/**
 * org-sync-all against the sandbox warehouse (10 active orgs: some datasets complete, some outdated,
 * most missing): run twice, and killed with three orgs synced and seven not started, then retried
 * (the suite is in suite.ts).
 */
import { expect } from "vitest";
import { diffDataset } from "../../sandbox/admin-api/datasets.ts";
import { ORG_TABLES, orgDataset } from "../../sandbox/admin-api/tables.ts";
import { rows } from "./helpers.ts";
import { describeIdempotency } from "./suite.ts";

const NOW = new Date();

describeIdempotency(NOW, [
  {
    job: "org-sync-all",
    args: [],
    route: "POST /api/v1/organizations/",
    // Three syncs at a time, answers held: the job stops with exactly three orgs synced.
    killArgs: ["--concurrency", "3"],
    killAfter: 3,
    snapshot: (db) =>
      rows(
        db,
        `SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns
         WHERE table_schema LIKE 'org\\_%' ORDER BY 1, 2, 3`,
      ),
    // Done: every active org's dataset has every table and column; no inactive org got a dataset.
    async done(db) {
      const orgs = await rows<{ org_slug: string; status: string }>(
        db,
        "SELECT org_slug, status FROM organizations.org_profiles ORDER BY 1",
      );
      for (const { org_slug, status } of orgs) {
        const diff = await diffDataset(db, orgDataset(org_slug), ORG_TABLES);
        if (status === "ACTIVE") {
          expect(diff, org_slug).toMatchObject({
            dataset_exists: true,
            tables_missing: [],
            schema_diffs: {},
          });
        } else expect(diff.dataset_exists, org_slug).toBe(false);
      }
    },
  },
]);
