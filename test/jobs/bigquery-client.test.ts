import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createBigQueryClient } from "../../src/runtime/bigquery.ts";
import { RetryableError } from "../../src/runtime/errors.ts";
import { silentLogger } from "../../src/runtime/logger.ts";
import { type FakeBigQuery, startFakeBigQuery } from "../helpers/fake-bigquery.ts";

let bq: FakeBigQuery;
beforeAll(async () => {
  bq = await startFakeBigQuery();
});
afterAll(() => bq.close());
beforeEach(() => {
  bq.queries.length = 0;
});
/** Retries off: the Google client's own backoff would make a failure test take seconds. */
const client = (retries = 0) =>
  createBigQueryClient({ projectId: "sandbox-project", apiUrl: `${bq.url}/`, log: silentLogger, retries });

describe("the BigQuery client", () => {
  it("returns rows of a SELECT and no affected-row count", async () => {
    bq.answer(() => ({ rows: [{ org_slug: "acme", n: 3 }] }));
    const result = await client().query({ sql: "SELECT org_slug, n FROM t", params: { limit: 5 } });
    expect(result).toEqual({ rows: [{ org_slug: "acme", n: 3 }], numDmlAffectedRows: null });
    expect(bq.queries[0]?.params).toEqual({ limit: { type: "INT64", value: 5 } });
  });

  it("sends a BigQuery dry run through jobs.insert and runs nothing", async () => {
    const result = await client().query({
      sql: "DELETE FROM t WHERE d < @cutoff",
      params: { cutoff: "2026-01-01" },
      types: { cutoff: "DATE" },
      dryRun: true,
    });
    expect(result).toEqual({ rows: [], numDmlAffectedRows: null });
    expect(bq.queries).toEqual([
      {
        project: "sandbox-project",
        sql: "DELETE FROM t WHERE d < @cutoff",
        params: { cutoff: { type: "DATE", value: "2026-01-01" } },
        dryRun: true,
      },
    ]);
  });

  it("reports a 503 as retryable, naming BigQuery and the endpoint", async () => {
    bq.answer(() => ({ error: { status: 503, message: "backend error", reason: "backendError" } }));
    const error = await client()
      .query({ sql: "SELECT 1" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).message).toContain(
      `BigQuery jobs.query (project sandbox-project, ${bq.url}/) failed with status 503`,
    );
    expect(bq.queries).toHaveLength(1);
  });
});
