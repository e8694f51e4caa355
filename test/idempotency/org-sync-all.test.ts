/**
 * org-sync-all against the sandbox warehouse (10 active orgs: some datasets complete, some outdated,
 * most missing), as one process and as a 2-task Cloud Run execution: run twice, and killed with a few
 * orgs synced and the rest not started, then retried (the suite is in suite.ts).
 */
import type { PGlite } from "@electric-sql/pglite";
import { expect } from "vitest";
import { diffDataset } from "../../sandbox/admin-api/datasets.ts";
import { ORG_TABLES, orgDataset } from "../../sandbox/admin-api/tables.ts";
import { rows } from "./helpers.ts";
import { describeIdempotency } from "./suite.ts";

const NOW = new Date();

const orgSync = {
  job: "org-sync-all",
  route: "POST /api/v1/organizations/",
  snapshot: (db: PGlite) =>
    rows(
      db,
      `SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns
       WHERE table_schema LIKE 'org\\_%' ORDER BY 1, 2, 3`,
    ),
  // Done: every active org's dataset has every table and column; no inactive org got a dataset.
  async done(db: PGlite) {
    const orgs = await rows<{ org_slug: string; status: string }>(
      db,
      "SELECT org_slug, status FROM organizations.org_profiles ORDER BY 1",
    );
    for (const { org_slug, status } of orgs) {
      const diff = await diffDataset(db, orgDataset(org_slug), ORG_TABLES);
      if (status === "ACTIVE") {
        expect(diff, org_slug).toMatchObject({ dataset_exists: true, tables_missing: [], schema_diffs: {} });
      } else expect(diff.dataset_exists, org_slug).toBe(false);
    }
  },
};

describeIdempotency(NOW, [
  {
    ...orgSync,
    title: "org-sync-all as one process",
    args: [],
    // Three syncs at a time, answers held: the job is killed with exactly three orgs synced.
    killArgs: ["--concurrency", "3"],
    killAfter: 3,
  },
  {
    ...orgSync,
    title: "org-sync-all as a Cloud Run execution of 2 tasks",
    args: [],
    tasks: 2,
    // Task 0 is killed with two of its orgs synced; Cloud Run retries it within the same execution.
    killArgs: ["--concurrency", "2"],
    killAfter: 2,
  },
]);
