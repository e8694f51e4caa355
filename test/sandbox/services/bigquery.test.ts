import { BigQuery } from "@google-cloud/bigquery";
import { googleAuthLibrary } from "google-gax";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWarehouse, type Warehouse } from "../../../sandbox/admin-api/warehouse.ts";
import { startBigQuery, streamingBufferFault } from "../../../sandbox/bigquery/server.ts";
import { createFaults } from "../../../sandbox/faults.ts";
import type { Service } from "../../../sandbox/service.ts";
import { scalar } from "./helpers.ts";

const PROJECT = "sandbox-project";
const TABLE = `\`${PROJECT}.organizations.org_usage_quotas\``;
const faults = createFaults();
let wh: Warehouse;
let bq: Service;
let client: BigQuery;

beforeAll(async () => {
  wh = await startWarehouse({
    orgs: { active: 6, inactive: 2 },
    now: () => new Date("2026-03-20T10:00:00Z"),
  });
  bq = await startBigQuery({ warehouse: wh, projectId: PROJECT, faults });
  client = new BigQuery({
    projectId: PROJECT,
    apiEndpoint: bq.url,
    authClient: new googleAuthLibrary.PassThroughClient() as never,
    autoRetry: false,
  });
});
afterAll(async () => {
  await bq?.close();
  await wh?.close();
});

// A DATE parameter must be a BigQueryDate: given a plain string with types {cutoff: "DATE"}, the v9 client
// sends `parameterValue: {}` (NULL), and `usage_date < NULL` matches nothing, here as in BigQuery.
const cutoffParams = (cutoff: string) => ({ params: { cutoff: client.date(cutoff) } });

describe("jobs.query through @google-cloud/bigquery", () => {
  it("counts rows with a DATE parameter", async () => {
    const [rows] = await client.query({
      query: `SELECT COUNT(*) AS n FROM ${TABLE} WHERE usage_date < @cutoff`,
      ...cutoffParams("2026-01-01"),
    });
    const expected = await scalar(
      wh.db,
      "SELECT count(*)::int FROM organizations.org_usage_quotas WHERE usage_date < '2026-01-01'",
    );
    expect(expected).toBeGreaterThan(0);
    expect(rows).toEqual([{ n: expected }]);
  });

  it("DELETE with a DATE parameter deletes exactly the rows before the cutoff and reports them", async () => {
    const before = await scalar(wh.db, "SELECT count(*)::int FROM organizations.org_usage_quotas");
    const older = await scalar(
      wh.db,
      "SELECT count(*)::int FROM organizations.org_usage_quotas WHERE usage_date < '2025-12-20'",
    );
    const [rows, , response] = (await client.query({
      query: `DELETE FROM ${TABLE} WHERE usage_date < @cutoff`,
      ...cutoffParams("2025-12-20"),
    })) as unknown as [unknown[], unknown, { numDmlAffectedRows: string }];
    expect(rows).toEqual([]);
    expect(response.numDmlAffectedRows).toBe(String(older));
    expect(await scalar(wh.db, "SELECT count(*)::int FROM organizations.org_usage_quotas")).toBe(
      before - older,
    );
    expect(
      await scalar<string>(wh.db, "SELECT min(usage_date)::text FROM organizations.org_usage_quotas"),
    ).toBe("2025-12-20");
    const [again, , second] = (await client.query({
      query: `DELETE FROM ${TABLE} WHERE usage_date < @cutoff`,
      ...cutoffParams("2025-12-20"),
    })) as unknown as [unknown[], unknown, { numDmlAffectedRows: string }];
    expect(again).toEqual([]);
    expect(second.numDmlAffectedRows).toBe("0");
  });

  it("treats a DATE parameter sent without a value as NULL, as BigQuery does (nothing deleted)", async () => {
    const before = await scalar(wh.db, "SELECT count(*)::int FROM organizations.org_usage_quotas");
    const [, , response] = (await client.query({
      query: `DELETE FROM ${TABLE} WHERE usage_date < @cutoff`,
      params: { cutoff: "2026-03-01" },
      types: { cutoff: "DATE" },
    })) as unknown as [unknown[], unknown, { numDmlAffectedRows: string }];
    expect(response.numDmlAffectedRows).toBe("0");
    expect(await scalar(wh.db, "SELECT count(*)::int FROM organizations.org_usage_quotas")).toBe(before);
  });

  it("returns typed columns (STRING, INTEGER, DATE) through the client", async () => {
    const [rows] = await client.query({
      query: `SELECT org_slug, usage_date, daily_limit FROM ${TABLE} WHERE org_slug = @org ORDER BY usage_date DESC LIMIT 1`,
      params: { org: "org_001" },
    });
    expect(rows).toHaveLength(1);
    expect(rows[0].org_slug).toBe("org_001");
    expect(rows[0].usage_date.value).toBe("2026-03-19");
    expect(typeof rows[0].daily_limit).toBe("number");
  });

  it("runs a query job created with createQueryJob and serves its results", async () => {
    const [job] = await client.createQueryJob({
      query: `SELECT COUNT(*) AS n FROM ${TABLE} WHERE org_slug = @org`,
      params: { org: "org_002" },
    });
    const [rows] = await job.getQueryResults();
    const expected = await scalar(
      wh.db,
      "SELECT count(*)::int FROM organizations.org_usage_quotas WHERE org_slug = 'org_002'",
    );
    expect(rows).toEqual([{ n: expected }]);
  });

  it("validates a dry-run job without changing any row", async () => {
    const before = await scalar(wh.db, "SELECT count(*)::int FROM organizations.org_usage_quotas");
    const [job] = await client.createQueryJob({
      query: `DELETE FROM ${TABLE} WHERE usage_date < @cutoff`,
      ...cutoffParams("2026-03-19"),
      dryRun: true,
    });
    expect(job.metadata.status.state).toBe("DONE");
    expect(await scalar(wh.db, "SELECT count(*)::int FROM organizations.org_usage_quotas")).toBe(before);
    const bad = (await client
      .createQueryJob({ query: `DELETE FROM \`${PROJECT}.organizations.nope\` WHERE true`, dryRun: true })
      .catch((e: unknown) => e)) as { code: number };
    expect(bad.code).toBe(400);
  });

  it.each([
    ["DDL", `CREATE TABLE ${TABLE} (x INT64)`, /not supported/],
    ["an unknown table", `SELECT * FROM \`${PROJECT}.organizations.nope\``, /Not found: Table/],
    [
      "another project",
      "SELECT * FROM `other-project.organizations.org_usage_quotas`",
      /project other-project/,
    ],
    ["a DELETE without WHERE", `DELETE FROM ${TABLE}`, /WHERE clause/],
    ["two statements", `SELECT 1; SELECT 2`, /one statement/],
    ["a missing parameter", `SELECT * FROM ${TABLE} WHERE usage_date < @cutoff`, /cutoff/],
    ["the emulator's own tables", "SELECT * FROM `sandbox_admin.idempotency`", /Not found/],
  ])("refuses %s with a clear 400 invalidQuery", async (_name, query, message) => {
    const error = (await client.query({ query }).catch((e: unknown) => e)) as {
      code: number;
      message: string;
      errors?: { reason: string }[];
    };
    expect(error.code).toBe(400);
    expect(error.message).toMatch(message);
    expect(error.errors?.[0]?.reason).toBe("invalidQuery");
  });

  it("does not let a WITH … DELETE change data", async () => {
    const before = await scalar(wh.db, "SELECT count(*)::int FROM organizations.org_usage_quotas");
    const error = (await client
      .query({ query: `WITH d AS (DELETE FROM ${TABLE} WHERE true RETURNING 1) SELECT count(*) FROM d` })
      .catch((e: unknown) => e)) as { code: number };
    expect(error.code).toBe(400);
    expect(await scalar(wh.db, "SELECT count(*)::int FROM organizations.org_usage_quotas")).toBe(before);
  });

  it("reports the streaming-buffer refusal when that fault is on", async () => {
    faults.set("bigquery", streamingBufferFault(PROJECT, "organizations.org_usage_quotas"));
    try {
      const error = (await client
        .query({ query: `DELETE FROM ${TABLE} WHERE usage_date < @cutoff`, ...cutoffParams("2026-03-19") })
        .catch((e: unknown) => e)) as { code: number; message: string };
      expect(error.code).toBe(400);
      expect(error.message).toMatch(/would affect rows in the streaming buffer, which is not supported/);
    } finally {
      faults.clear("bigquery");
    }
    expect(
      await scalar(
        wh.db,
        "SELECT count(*)::int FROM organizations.org_usage_quotas WHERE usage_date = '2026-03-18'",
      ),
    ).toBeGreaterThan(0);
  });
});
