/**
 * CONTRACT §3 (BigQuery, quota-cleanup), one behaviour per test, asserted on the sandbox through the
 * official `@google-cloud/bigquery` client over HTTP, so the sandbox cannot drift from the contract.
 * Includes the SQL the old jobs and the real admin API send (`DATE_SUB(CURRENT_DATE(), INTERVAL @days DAY)`,
 * `CURRENT_DATE()`, `TIMESTAMP_SUB`, named parameters), evaluated on the sandbox clock.
 */
import { BigQuery } from "@google-cloud/bigquery";
import { googleAuthLibrary } from "google-gax";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWarehouse, type Warehouse } from "../../../sandbox/admin-api/warehouse.ts";
import { startBigQuery, streamingBufferFault } from "../../../sandbox/bigquery/server.ts";
import { createFaults } from "../../../sandbox/faults.ts";
import type { Service } from "../../../sandbox/service.ts";
import { scalar } from "../services/helpers.ts";

const PROJECT = "sandbox-project";
const TABLE = `\`${PROJECT}.organizations.org_usage_quotas\``;
const NOW = new Date("2026-03-20T10:00:00Z");
const faults = createFaults();
const paths: string[] = [];
let wh: Warehouse;
let bq: Service;
let client: BigQuery;

beforeAll(async () => {
  wh = await startWarehouse({ orgs: { active: 4, inactive: 1 }, now: () => NOW });
  bq = await startBigQuery({
    warehouse: wh,
    projectId: PROJECT,
    faults,
    log: (e) => void paths.push(`${e.method} ${e.path}`),
  });
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

type Failure = { code: number; message: string; errors?: { reason: string }[] };
const failure = (query: string, params?: Record<string, unknown>) =>
  client.query({ query, ...(params ? { params } : {}) }).then(
    () => {
      throw new Error(`expected a 400 for: ${query}`);
    },
    (e: unknown) => e as Failure,
  );
const count = (where: string) =>
  scalar(wh.db, `SELECT count(*)::int FROM organizations.org_usage_quotas WHERE ${where}`);

describe("CONTRACT §3: BigQuery jobs.query", () => {
  it("query() is POST /bigquery/v2/projects/{p}/queries", async () => {
    paths.length = 0;
    await client.query({ query: "SELECT 1 AS one" });
    expect(paths[0]).toBe(`POST /bigquery/v2/projects/${PROJECT}/queries`);
  });

  it("DELETE … WHERE usage_date < @cutoff reports numDmlAffectedRows as a string", async () => {
    const older = await count("usage_date < '2025-12-01'");
    expect(older).toBeGreaterThan(0);
    const [, , response] = (await client.query({
      query: `DELETE FROM ${TABLE} WHERE usage_date < @cutoff`,
      params: { cutoff: client.date("2025-12-01") },
    })) as unknown as [unknown, unknown, { numDmlAffectedRows: unknown }];
    expect(response.numDmlAffectedRows).toBe(String(older));
    expect(await count("usage_date < '2025-12-01'")).toBe(0);
  });

  it("runs the old job's DELETE: DATE_SUB(CURRENT_DATE(), INTERVAL @days DAY) on the sandbox clock", async () => {
    const expected = await count("usage_date < date '2026-03-20' - 90");
    const [, , response] = (await client.query({
      query: `DELETE FROM ${TABLE} WHERE usage_date < DATE_SUB(CURRENT_DATE(), INTERVAL @days_to_keep DAY)`,
      params: { days_to_keep: 90 },
    })) as unknown as [unknown, unknown, { numDmlAffectedRows: string }];
    expect(response.numDmlAffectedRows).toBe(String(expected));
    expect(await count("usage_date < date '2026-03-20' - 90")).toBe(0);
    expect(await count("usage_date >= date '2026-03-20' - 90")).toBeGreaterThan(0);
  });

  it("evaluates the admin API's date and time expressions", async () => {
    const [rows] = await client.query({
      query: `SELECT CURRENT_DATE() AS today,
        DATE_SUB(CURRENT_DATE(), INTERVAL 1 DAY) AS yesterday,
        DATE_TRUNC(CURRENT_DATE(), MONTH) AS month_start,
        DATE_ADD(DATE_TRUNC(CURRENT_DATE(), MONTH), INTERVAL 1 MONTH) AS next_month,
        TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL 30 MINUTE) AS half_hour_ago,
        DATE_ADD(@d, INTERVAL (@n + 1) WEEK) AS later, IFNULL(NULL, 'x') AS fallback`,
      params: { d: client.date("2026-01-01"), n: 1 },
    });
    expect(rows).toHaveLength(1);
    const r = rows[0] as Record<string, { value: string }>;
    expect(r.today?.value).toBe("2026-03-20");
    expect(r.yesterday?.value).toBe("2026-03-19");
    expect(r.month_start?.value).toBe("2026-03-01");
    expect(r.next_month?.value).toBe("2026-04-01");
    expect(r.half_hour_ago?.value).toBe("2026-03-20T09:30:00.000Z");
    expect(r.later?.value).toBe("2026-01-15");
    expect(r.fallback).toBe("x");
  });

  it.each([
    [
      "a BigQuery-only function",
      "SELECT FORMAT_DATE('%Y', CURRENT_DATE()) AS y",
      /FORMAT_DATE is not supported/,
    ],
    [
      "an INTERVAL string literal",
      "SELECT DATE_SUB(CURRENT_DATE(), INTERVAL '1' DAY) AS d",
      /INTERVAL must be followed by/,
    ],
    [
      "an unsupported INTERVAL unit",
      "SELECT DATE_SUB(CURRENT_DATE(), INTERVAL 1 MICROSECOND) AS d",
      /unit MICROSECOND/,
    ],
    ["a SAFE. function", "SELECT SAFE.PARSE_DATE('%Y', '2026') AS d", /SAFE\./],
    [
      "a construct Postgres cannot parse",
      `SELECT * FROM ${TABLE} WHERE usage_date < @cutoff @cutoff`,
      /near "@cutoff"/,
    ],
  ])("answers %s with a 400 naming it, never a raw Postgres error", async (_case, query, expected) => {
    const error = await failure(
      query,
      query.includes("@cutoff") ? { cutoff: client.date("2026-01-01") } : undefined,
    );
    expect(error.code).toBe(400);
    expect(error.errors?.[0]?.reason).toBe("invalidQuery");
    expect(error.message).toMatch(expected);
    expect(error.message).not.toMatch(/\$\d|syntax error at or near/);
  });

  it("reports the streaming-buffer refusal of a DELETE (a fault) as a 400 with BigQuery's words", async () => {
    faults.set("bigquery", streamingBufferFault(PROJECT, "organizations.org_usage_quotas"));
    try {
      const error = await failure(`DELETE FROM ${TABLE} WHERE usage_date < CURRENT_DATE()`);
      expect(error.code).toBe(400);
      expect(error.message).toMatch(/streaming buffer, which is not supported/);
    } finally {
      faults.clear("bigquery");
    }
  });
});
