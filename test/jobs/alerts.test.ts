import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import alerts from "../../jobs/daily/alerts.ts";
import { ALERT_TYPES } from "../../src/runtime/admin-api.ts";
import { parseFlags } from "../../src/runtime/flags.ts";
import { runJob } from "../helpers/context.ts";
import { FAKE_ROOT_KEY, type FakeAdminApi, makeOrgs, startFakeAdminApi } from "../helpers/fake-admin-api.ts";

const ROUTE = "POST /api/v1/admin/alerts/process-all" as const;
let api: FakeAdminApi;
const run = (argv: string[] = [], now = new Date("2026-11-22T08:00:00Z")) =>
  runJob(alerts, { env: { API_SERVICE_URL: api.url, CA_ROOT_API_KEY: FAKE_ROOT_KEY }, argv, now });

beforeAll(async () => {
  api = await startFakeAdminApi();
});
afterAll(() => api.close());
beforeEach(() => api.reset({ orgs: makeOrgs(4) }));

describe("alerts", () => {
  it("processes every alert type for every org and sends notifications", async () => {
    const { outcome } = await run();
    expect(outcome?.status).toBe("succeeded");
    expect(api.calls(ROUTE)[0]?.body).toEqual({
      alert_types: [...ALERT_TYPES],
      send_notifications: true,
      dry_run: false,
    });
    expect(api.calls(ROUTE)[0]?.headers["idempotency-key"]).toBe("alerts:2026-11-22");
    expect(api.state.notificationsSent).toBe(4);
  });

  it("sends no second notification when re-run the same day (one Idempotency-Key per day)", async () => {
    await run();
    const { outcome } = await run([], new Date("2026-11-22T09:30:00Z"));
    expect(outcome?.summary?.notifications_sent).toBe(0);
    expect(api.state.notificationsSent).toBe(4);
  });

  it("says a replayed answer is the first run's, not new notifications", async () => {
    api.script(ROUTE, {
      status: 200,
      headers: { "idempotent-replayed": "true" },
      body: {
        success: true,
        orgs_processed: 4,
        alerts_triggered: 4,
        notifications_sent: 4,
        errors: [],
        org_errors: [],
        message: "done",
      },
    });
    const { outcome } = await run();
    expect(outcome?.status).toBe("succeeded");
    expect(outcome?.summary?.replayed).toBe(true);
    expect(outcome?.message).toContain("already processed today");
    expect(outcome?.message).toContain("none sent now");
  });

  it("a run limited to some alert types does not use up the day's key for the full run", async () => {
    await run(["--types", "cost_threshold,budget_percent"]);
    await run([], new Date("2026-11-22T08:00:05Z"));
    expect(api.calls(ROUTE).map((r) => r.headers["idempotency-key"])).toEqual([
      "alerts:2026-11-22:types=budget_percent,cost_threshold",
      "alerts:2026-11-22",
    ]);
    expect(api.calls(ROUTE)[1]?.body).toMatchObject({ alert_types: [...ALERT_TYPES] });
  });

  it("IDEMPOTENCY_SCOPE gives a deliberate same-day re-run a fresh key", async () => {
    await runJob(alerts, {
      env: { API_SERVICE_URL: api.url, CA_ROOT_API_KEY: FAKE_ROOT_KEY, IDEMPOTENCY_SCOPE: "rerun-1" },
      now: new Date("2026-11-22T08:00:00Z"),
    });
    expect(api.calls(ROUTE)[0]?.headers["idempotency-key"]).toBe("alerts:2026-11-22:rerun-1");
  });

  it("refuses an IDEMPOTENCY_SCOPE that would make a malformed key, before any call", async () => {
    const error = await runJob(alerts, {
      env: { API_SERVICE_URL: api.url, CA_ROOT_API_KEY: FAKE_ROOT_KEY, IDEMPOTENCY_SCOPE: "re run" },
    }).catch((e: unknown) => e);
    expect(String(error)).toContain("IDEMPOTENCY_SCOPE");
    expect(api.calls(ROUTE)).toHaveLength(0);
  });

  it("uses a new Idempotency-Key the next day", async () => {
    await run();
    await run([], new Date("2026-11-23T08:00:00Z"));
    expect(api.calls(ROUTE).map((r) => r.headers["idempotency-key"])).toEqual([
      "alerts:2026-11-22",
      "alerts:2026-11-23",
    ]);
    expect(api.state.notificationsSent).toBe(8);
  });

  it("--dry-run evaluates without notifications and does not use up the day's key", async () => {
    const { outcome } = await run(["--dry-run"]);
    expect(outcome?.message).toContain("(dry run)");
    expect(api.calls(ROUTE)[0]?.body).toMatchObject({ dry_run: true, send_notifications: false });
    expect(api.calls(ROUTE)[0]?.headers["idempotency-key"]).toBe("alerts:2026-11-22:dry-run");
    await run();
    expect(api.state.notificationsSent).toBe(4);
  });

  it("--org limits the run to one org, with a key of its own", async () => {
    const { outcome } = await run(["--org", "org-002", "--types", "budget_percent,cost_threshold"]);
    expect(outcome?.summary?.orgs_processed).toBe(1);
    expect(api.calls(ROUTE)[0]?.body).toEqual({
      alert_types: ["budget_percent", "cost_threshold"],
      send_notifications: true,
      dry_run: false,
      org_slug: "org-002",
    });
    expect(api.calls(ROUTE)[0]?.headers["idempotency-key"]).toBe(
      "alerts:2026-11-22:org-002:types=budget_percent,cost_threshold",
    );
  });

  it("refuses an unknown alert type as a flag problem", () => {
    expect(parseFlags(alerts, ["--types", "cost_threshold,typo"]).problems).toEqual([
      expect.stringContaining("--types: unknown alert type(s) typo"),
    ]);
  });

  it("fails and logs every error when the API reports org errors", async () => {
    api.script(ROUTE, {
      body: {
        success: true,
        orgs_processed: 4,
        alerts_triggered: 2,
        notifications_sent: 1,
        errors: 2,
        org_errors: [
          { org_slug: "org-001", error: "SMTP down" },
          { org_slug: "org-003", error: "no budget" },
        ],
        message: "done with errors",
      },
    });
    const { outcome, logs } = await run();
    expect(outcome?.status).toBe("failed");
    expect(outcome?.message).toContain("2 errors, 2 org errors");
    expect(logs.filter((l) => l.message === "Alert processing error")).toHaveLength(2);
  });

  it("fails on success:false", async () => {
    api.script(ROUTE, { body: { success: false, orgs_processed: 0, message: "alert engine down" } });
    const { outcome } = await run();
    expect(outcome?.status).toBe("failed");
    expect(outcome?.message).toContain("alert engine down");
  });
});
