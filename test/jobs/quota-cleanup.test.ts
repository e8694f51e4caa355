import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import quotaCleanup, { cutoffDate, daysToKeep } from "../../jobs/daily/quota-cleanup.ts";
import { catalog } from "../../jobs/index.ts";
import { ConfigError, PermanentError } from "../../src/runtime/errors.ts";
import { runEntrypoint } from "../../src/runtime/runner.ts";
import { runJob } from "../helpers/context.ts";
import { type FakeBigQuery, startFakeBigQuery } from "../helpers/fake-bigquery.ts";

let bq: FakeBigQuery;
const env = (extra: Record<string, string> = {}) => ({
  BIGQUERY_API_URL: bq.url,
  GCP_PROJECT_ID: "cloudact-testing-1",
  ...extra,
});
const NOW = new Date("2026-11-22T01:00:00Z");
const TABLE = "`cloudact-testing-1.organizations.org_usage_quotas`";

beforeAll(async () => {
  bq = await startFakeBigQuery();
});
afterAll(() => bq.close());
beforeEach(() => {
  bq.queries.length = 0;
  bq.answer(() => ({ affected: 0 }));
});

describe("quota-cleanup", () => {
  it("deletes rows older than 90 days by default with a DATE parameter and reports the affected rows", async () => {
    bq.answer(() => ({ affected: 1234 }));
    const { outcome } = await runJob(quotaCleanup, { env: env(), now: NOW });
    expect(bq.queries).toEqual([
      {
        project: "cloudact-testing-1",
        sql: `DELETE FROM ${TABLE} WHERE usage_date < @cutoff`,
        params: { cutoff: { type: "DATE", value: "2026-08-24" } },
      },
    ]);
    expect(outcome?.status).toBe("succeeded");
    expect(outcome?.summary).toMatchObject({ rows_deleted: 1234, cutoff: "2026-08-24", days_to_keep: 90 });
  });

  it("reports zero rows on a second run", async () => {
    bq.answer(() => ({ affected: 0 }));
    const { outcome } = await runJob(quotaCleanup, { env: env(), now: NOW });
    expect(outcome?.message).toBe(`Deleted 0 rows older than 2026-08-24 from ${TABLE}`);
  });

  it("--dry-run counts the rows with the same predicate and deletes nothing", async () => {
    bq.answer(() => ({ rows: [{ row_count: 42 }] }));
    const { outcome } = await runJob(quotaCleanup, {
      env: env({ DAYS_TO_KEEP: "30" }),
      argv: ["--dry-run"],
      now: NOW,
    });
    expect(bq.queries.map((q) => q.sql)).toEqual([
      `SELECT COUNT(*) AS row_count FROM ${TABLE} WHERE usage_date < @cutoff`,
    ]);
    expect(bq.queries[0]?.params).toEqual({ cutoff: { type: "DATE", value: "2026-10-23" } });
    expect(outcome?.summary).toMatchObject({ dry_run: true, rows: 42 });
  });

  it.each([
    ["2026-11-22T00:00:00Z", 1, "2026-11-21"],
    ["2026-11-22T23:59:59Z", 1, "2026-11-21"],
    ["2026-03-01T01:00:00Z", 1, "2026-02-28"],
    ["2024-03-01T01:00:00Z", 1, "2024-02-29"],
    ["2026-01-01T01:00:00Z", 90, "2025-10-03"],
  ])("at %s with DAYS_TO_KEEP=%i the cutoff is %s", (now, days, expected) => {
    expect(cutoffDate(new Date(now), days)).toBe(expected);
  });

  it.each(["0", "-1", "1.5", "abc", "1e3", "0x10"])("refuses DAYS_TO_KEEP=%j in the env schema", (value) => {
    expect(daysToKeep.safeParse(value).error?.issues[0]?.message).toContain(`got "${value}"`);
  });

  it.each([
    [undefined, 90],
    ["1", 1],
    ["365", 365],
  ])("reads DAYS_TO_KEEP=%s as %i", (value, days) => {
    expect(daysToKeep.parse(value)).toBe(days);
  });

  it.each([
    ["0", "must be a whole number"],
    ["-1", "must be a whole number"],
    ["1.5", "must be a whole number"],
    ["abc", "must be a whole number"],
    ["", "is set but empty"],
    [" 30", "has leading or trailing whitespace"],
    ["30 ", "has leading or trailing whitespace"],
  ])("refuses DAYS_TO_KEEP=%j at the entrypoint before any query, naming it (exit 2)", async (value, why) => {
    let out = "";
    const code = await runEntrypoint(["quota-cleanup"], {
      catalog,
      env: { ENVIRONMENT: "sandbox", ...env({ DAYS_TO_KEEP: value }) },
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (out += s) },
    });
    expect(code).toBe(2);
    expect(out).toContain(`DAYS_TO_KEEP: ${why}`);
    expect(bq.queries).toHaveLength(0);
  });

  it("refuses a bad DAYS_TO_KEEP handed straight to run() before any query", async () => {
    const { harness } = await import("../helpers/context.ts");
    const h = await harness(quotaCleanup, { env: env(), now: NOW });
    (h.ctx.env as { DAYS_TO_KEEP: number }).DAYS_TO_KEEP = 0;
    await expect(h.run()).rejects.toBeInstanceOf(ConfigError);
    await h.close();
    expect(bq.queries).toHaveLength(0);
  });

  it("reports a streaming-buffer refusal as a permanent error with the fix", async () => {
    bq.answer(() => ({
      error: {
        status: 400,
        message:
          "UPDATE or DELETE statement over table x would affect rows in the streaming buffer, which is not supported",
      },
    }));
    const { error } = await runJob(quotaCleanup, { env: env(), now: NOW });
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toContain("streaming buffer");
    expect((error as Error).message).toContain("raise DAYS_TO_KEEP or run again later");
  });

  it("names BigQuery and the status on another error", async () => {
    bq.answer(() => ({
      error: { status: 403, message: "Access Denied: Table org_usage_quotas", reason: "accessDenied" },
    }));
    const { error } = await runJob(quotaCleanup, { env: env(), now: NOW });
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toMatch(/BigQuery jobs\.query .* failed with status 403: Access Denied/);
  });
});
