/**
 * bootstrap against the sandbox warehouse, from both starting points: a legacy dataset (smart mode syncs
 * it) and no dataset at all (smart mode creates it). Each: run twice, and killed after the API did the
 * work but before the job heard back, then retried (the suite is in suite.ts).
 */
import type { PGlite } from "@electric-sql/pglite";
import { expect } from "vitest";
import { diffDataset } from "../../sandbox/admin-api/datasets.ts";
import { DATASET, META_TABLES } from "../../sandbox/admin-api/tables.ts";
import { rows } from "./helpers.ts";
import { describeIdempotency, type IdempotencyCase } from "./suite.ts";

const NOW = new Date();

const bootstrap = (route: string): IdempotencyCase => ({
  job: "bootstrap",
  args: [],
  route,
  snapshot: (db) =>
    rows(
      db,
      `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = $1
       ORDER BY 1, 2`,
      [DATASET],
    ),
  // Done: what a clean bootstrap/status says — every meta table there, none missing a column.
  async done(db: PGlite) {
    const diff = await diffDataset(db, DATASET, META_TABLES);
    expect(diff).toMatchObject({ dataset_exists: true, tables_missing: [], schema_diffs: {} });
  },
});

describeIdempotency(NOW, [bootstrap("POST /api/v1/admin/bootstrap/sync")], {
  state: "legacy",
  title: "bootstrap of a legacy dataset",
});
describeIdempotency(NOW, [bootstrap("POST /api/v1/admin/bootstrap")], {
  state: "empty",
  title: "bootstrap of a new environment",
});
