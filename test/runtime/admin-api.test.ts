/**
 * Retries by route, not by header (CONTRACT §1): the typed admin API module against a real local server.
 * A route that is not repeatable (alerts, the monthly reset) is never sent twice once it may have reached
 * the server; repeatable routes are retried; every status read bypasses the API's 60 s cache.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { catalog } from "../../jobs/index.ts";
import { createAdminApi, ROUTES, type RouteName, routeBudgetMs } from "../../src/runtime/admin-api.ts";
import { OutcomeUnknownError, RetryableError } from "../../src/runtime/errors.ts";
import { createHttpClient } from "../../src/runtime/http.ts";
import { type AnyJob, defineJob, type JobSpec } from "../../src/runtime/job.ts";
import { JobDefinitionError, specProblems } from "../../src/runtime/job-checks.ts";
import { ADMIN_API_MAX_WAIT_MS } from "../../src/runtime/retry-budget.ts";
import { json, startServer, type TestServer } from "./helpers/server.ts";

let server: TestServer;
let delays: number[];
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  delays = [];
});

const api = (timeoutMs?: number) =>
  createAdminApi(
    createHttpClient({
      baseUrl: server.url,
      headers: { "X-CA-Root-Key": "k" },
      maxRetryAfterMs: ADMIN_API_MAX_WAIT_MS,
      sleep: async (ms) => void delays.push(ms),
    }),
    timeoutMs ? { timeoutMs } : {},
  );
const quota = { success: true, orgs_processed: 1, orgs_created: 1, orgs_skipped: 0, message: "ok" };
const alerts = { success: true, orgs_processed: 1, alerts_triggered: 0, notifications_sent: 0, errors: 0 };

const caught = async (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error("expected a failure");
    },
    (e: unknown) => e as Error,
  );

describe("routes that are not repeatable", () => {
  it.each([
    { what: "a 503", handle: () => server.handle((_q, res) => json(res, 503, { detail: "busy" })) },
    { what: "a 500", handle: () => server.handle((_q, res) => json(res, 500, { detail: "failed" })) },
    { what: "a timeout", handle: () => server.handle(() => {}) },
  ])("alerts: after $what the call is sent once and the outcome is unknown", async ({ handle }) => {
    handle();
    const error = await caught(api(200).processAlerts({}));
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(error.message).toContain("outcome unknown: the API may have sent notifications");
    expect(error.message).toContain("to check: look at the alert rules' last_triggered_at");
    expect(server.requests).toHaveLength(1);
  });

  it("monthly reset: a 503 is not retried either (a repeat on the 1st zeroes the counters again)", async () => {
    server.handle((_q, res) => json(res, 503, {}));
    const error = await caught(api().resetMonthlyQuota());
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(error.message).toContain("the API may have reset the monthly quota counters");
    expect(server.requests).toHaveLength(1);
  });

  it("alerts: a 429 (refused before any work) is retried after Retry-After, clamped to 2 min", async () => {
    server.handle((_q, res, _b, n) =>
      n === 1 ? json(res, 429, {}, { "retry-after": "3600" }) : json(res, 200, alerts),
    );
    expect((await api().processAlerts({})).errors).toBe(0);
    expect(server.requests).toHaveLength(2);
    expect(delays).toEqual([ADMIN_API_MAX_WAIT_MS]);
  });
});

describe("repeatable routes", () => {
  it.each<RouteName>(["resetDailyQuota", "cleanupStale"])(
    "%s: a 503 is retried up to its budget",
    async (name) => {
      server.handle((_q, res) => json(res, 503, {}));
      const client = api() as unknown as Record<RouteName, () => Promise<unknown>>;
      const error = await caught(client[name]());
      expect(error).toBeInstanceOf(RetryableError);
      expect(server.requests).toHaveLength(ROUTES[name].retries + 1);
      expect(server.requests[0]?.url).toBe(`/api/v1${ROUTES[name].path}`);
    },
  );

  it("reads the bootstrap status with force_refresh=true (the API caches it for 60 s)", async () => {
    server.handle((_q, res) =>
      json(res, 200, {
        status: "SYNCED",
        dataset_exists: true,
        tables_expected: 0,
        tables_existing: [],
        tables_missing: [],
      }),
    );
    await api().bootstrapStatus();
    expect(server.requests[0]?.url).toBe("/api/v1/admin/bootstrap/status?force_refresh=true");
  });

  it("posts the quota resets to /api/v1/quota/* (no admin/)", async () => {
    server.handle((_q, res) => json(res, 200, quota));
    const a = api();
    await a.resetDailyQuota();
    await a.resetMonthlyQuota();
    await a.cleanupStale();
    expect(server.requests.map((r) => r.url)).toEqual([
      "/api/v1/quota/reset-daily",
      "/api/v1/quota/reset-monthly",
      "/api/v1/quota/cleanup-stale",
    ]);
  });

  it("refuses an alerts answer whose errors is not an integer count", async () => {
    server.handle((_q, res) => json(res, 200, { ...alerts, errors: ["x"] }));
    expect((await caught(api().processAlerts({}))).message).toMatch(/errors/);
  });
});

/** A job as the catalog checks it at load (buildCatalog → specProblems): throws what the catalog would. */
function checkedJob(spec: JobSpec): AnyJob {
  const problems = specProblems(spec);
  if (problems.length) throw new JobDefinitionError(problems);
  return defineJob(spec) as AnyJob;
}

describe("retry budget", () => {
  it("fits every catalog job's task timeout for every route it declares", () => {
    for (const job of catalog)
      for (const route of job.routes)
        expect(routeBudgetMs(ROUTES[route]), `${job.name}: ${route}`).toBeLessThanOrEqual(
          job.timeoutSeconds * 1000,
        );
  });

  it("makes the catalog's check refuse a job whose route budget exceeds its timeout", () => {
    const define = (timeoutSeconds: number) => () =>
      checkedJob({
        name: "budget-check",
        description: "x",
        timeoutSeconds,
        retries: 0,
        uses: ["admin-api"],
        routes: ["bootstrap"],
        run: async () => ({ status: "succeeded", message: "" }),
      });
    expect(define(10 * 60)).toThrow(/retry budget of route bootstrap \(24 min.*task timeout \(10 min\)/);
    expect(define(30 * 60)).not.toThrow();
  });

  it("makes the catalog's check refuse task retries for a job that calls a route that is not repeatable", () => {
    const define = () =>
      checkedJob({
        name: "alerts-like",
        description: "x",
        timeoutSeconds: 1800,
        retries: 1,
        uses: ["admin-api"],
        routes: ["processAlerts"],
        run: async () => ({ status: "succeeded", message: "" }),
      });
    expect(define).toThrow(/retries: must be 0: route processAlerts is not repeatable/);
  });
});
