import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import quotaReset from "../../jobs/daily/quota-reset.ts";
import staleCleanup from "../../jobs/daily/stale-cleanup.ts";
import quotaMonthly from "../../jobs/monthly/quota-monthly.ts";
import { runJob } from "../helpers/context.ts";
import {
  FAKE_ROOT_KEY,
  type FakeAdminApi,
  makeOrgs,
  type Route,
  startFakeAdminApi,
} from "../helpers/fake-admin-api.ts";

let api: FakeAdminApi;
const env = () => ({ API_SERVICE_URL: api.url, CA_ROOT_API_KEY: FAKE_ROOT_KEY });

beforeAll(async () => {
  api = await startFakeAdminApi();
});
afterAll(() => api.close());
beforeEach(() => api.reset({ orgs: makeOrgs(3) }));

const cases = [
  { name: "quota-reset", job: quotaReset, route: "POST /api/v1/quota/reset-daily" },
  { name: "stale-cleanup", job: staleCleanup, route: "POST /api/v1/quota/cleanup-stale" },
  { name: "quota-monthly", job: quotaMonthly, route: "POST /api/v1/quota/reset-monthly" },
] as const;
const firstOfMonth = new Date("2026-12-01T00:05:00Z");

describe.each(cases)("$name", ({ job, route }: { job: typeof quotaReset; route: Route }) => {
  it("makes one call to /api/v1/quota/* and succeeds", async () => {
    const { outcome } = await runJob(job, { env: env(), now: firstOfMonth });
    expect(outcome?.status).toBe("succeeded");
    expect(api.calls(route)).toHaveLength(1);
    expect(api.calls(route)[0]?.headers["x-ca-root-key"]).toBe(FAKE_ROOT_KEY);
  });

  it("fails on a 200 whose body says success:false, and logs it", async () => {
    api.script(route, { body: { success: false, orgs_processed: 0, message: "BigQuery unavailable" } });
    const { outcome, logs } = await runJob(job, { env: env(), now: firstOfMonth });
    expect(outcome?.status).toBe("failed");
    expect(outcome?.message).toContain("BigQuery unavailable");
    expect(logs.some((l) => l.severity === "ERROR" && String(l.message).includes("success:false"))).toBe(
      true,
    );
  });
});

describe("quota-monthly", () => {
  it.each(["2026-11-22T00:05:00Z", "2026-12-02T00:05:00Z", "2026-11-30T23:59:59Z"])(
    "skips cleanly on %s (not the 1st) without calling the API",
    async (now) => {
      const { outcome, logs } = await runJob(quotaMonthly, { env: env(), now: new Date(now) });
      expect(outcome?.status).toBe("skipped");
      expect(outcome?.message).toContain("--force");
      expect(api.requests).toHaveLength(0);
      expect(logs.some((l) => l.severity === "NOTICE" && String(l.message).startsWith("Skipped"))).toBe(true);
    },
  );

  it("reports the API's 'Skipped: Not the 1st' answer as a skip, also with --force on another day", async () => {
    api.script("POST /api/v1/quota/reset-monthly", {
      body: { success: true, orgs_processed: 0, message: "Skipped: Not the 1st of the month (day=22)" },
    });
    const { outcome, logs } = await runJob(quotaMonthly, {
      env: env(),
      argv: ["--force"],
      now: new Date("2026-11-22T10:00:00Z"),
    });
    expect(outcome?.status).toBe("skipped");
    expect(outcome?.message).toContain("Nothing reset: the API skipped the monthly reset");
    expect(api.calls("POST /api/v1/quota/reset-monthly")).toHaveLength(1);
    expect(
      logs.some((l) => l.severity === "WARNING" && String(l.message).includes("--force on day 22")),
    ).toBe(true);
  });

  it("runs at most once per day with no Cloud Run task retry (retries 0, once per day)", () => {
    expect([quotaMonthly.retries, quotaMonthly.oncePerDay]).toEqual([0, true]);
  });
});
