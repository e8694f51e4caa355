import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALERT_TYPES } from "../../../sandbox/admin-api/seed.ts";
import { startAdminApi } from "../../../sandbox/admin-api/server.ts";
import { startWarehouse, type Warehouse } from "../../../sandbox/admin-api/warehouse.ts";
import { createFaults } from "../../../sandbox/faults.ts";
import type { Service } from "../../../sandbox/service.ts";
import { call, fingerprint, scalar } from "./helpers.ts";

const NOW = new Date("2026-03-20T10:00:00Z");
const ALL_TYPES = [...ALERT_TYPES];
let wh: Warehouse;
let api: Service;

beforeAll(async () => {
  wh = await startWarehouse({ orgs: { active: 30, inactive: 5 }, now: () => NOW });
  api = await startAdminApi({ warehouse: wh, rootKey: "sandbox-test-root-key", faults: createFaults() });
});
afterAll(async () => {
  await api?.close();
  await wh?.close();
});

const active = () =>
  scalar(wh.db, "SELECT count(*)::int FROM organizations.org_profiles WHERE status = 'ACTIVE'");

describe("quota routes", () => {
  it("reset-daily creates today's row for every active org once; the second call changes nothing", async () => {
    const first = await call(api.url, "POST", "/api/v1/quota/reset-daily");
    const n = await active();
    expect(first.body).toMatchObject({ success: true, orgs_processed: n, orgs_created: n, orgs_skipped: 0 });
    const rows = await scalar(
      wh.db,
      "SELECT count(*)::int FROM organizations.org_usage_quotas WHERE usage_date = '2026-03-20'",
    );
    expect(rows).toBe(n);
    const before = await fingerprint(wh.db, "organizations");
    const second = await call(api.url, "POST", "/api/v1/quota/reset-daily");
    expect(second.body).toMatchObject({ orgs_processed: n, orgs_created: 0, orgs_skipped: n });
    expect(await fingerprint(wh.db, "organizations")).toEqual(before);
  });

  it("reset-monthly on the 20th does nothing and says Skipped: Not the 1st", async () => {
    const before = await fingerprint(wh.db, "organizations");
    const r = await call(api.url, "POST", "/api/v1/quota/reset-monthly");
    expect(r.body).toMatchObject({
      success: true,
      orgs_processed: 0,
      message: "Skipped: Not the 1st of the month (day=20)",
    });
    expect(await fingerprint(wh.db, "organizations")).toEqual(before);
  });

  it("cleanup-stale fails the stuck runs, keeps the live ones and repairs the counters, once", async () => {
    const stuckOrgs = await scalar(
      wh.db,
      `SELECT count(DISTINCT org_slug)::int FROM organizations.org_meta_pipeline_runs
       WHERE status = 'RUNNING' AND start_time < $1::timestamptz - interval '60 minutes'`,
      [NOW.toISOString()],
    );
    const live = await scalar(
      wh.db,
      "SELECT count(*)::int FROM organizations.org_meta_pipeline_runs WHERE status = 'RUNNING' AND start_time >= $1::timestamptz - interval '60 minutes'",
      [NOW.toISOString()],
    );
    expect(stuckOrgs).toBeGreaterThan(0);
    const first = await call(api.url, "POST", "/api/v1/quota/cleanup-stale");
    expect(first.body).toMatchObject({ success: true, orgs_created: stuckOrgs });
    expect(
      await scalar(
        wh.db,
        "SELECT count(*)::int FROM organizations.org_meta_pipeline_runs WHERE status = 'RUNNING'",
      ),
    ).toBe(live);
    const drift = await scalar(
      wh.db,
      `SELECT count(*)::int FROM organizations.org_usage_quotas q WHERE usage_date = '2026-03-20'
       AND concurrent_running <> (SELECT count(*) FROM organizations.org_meta_pipeline_runs r
                                  WHERE r.org_slug = q.org_slug AND r.status = 'RUNNING')`,
    );
    expect(drift).toBe(0);
    const before = await fingerprint(wh.db, "organizations");
    const second = await call(api.url, "POST", "/api/v1/quota/cleanup-stale");
    expect(second.body.orgs_created).toBe(0);
    expect(await fingerprint(wh.db, "organizations")).toEqual(before);
  });
});

describe("alerts/process-all", () => {
  const sent = () => scalar(wh.db, "SELECT count(*)::int FROM organizations.org_notifications_sent");

  it("a dry run evaluates every alert type and records nothing", async () => {
    const r = await call(api.url, "POST", "/api/v1/admin/alerts/process-all", {
      body: { alert_types: ALL_TYPES, send_notifications: true, dry_run: true },
    });
    expect(r.body).toMatchObject({ success: true, notifications_sent: 0, org_errors: [] });
    expect(r.body.alerts_triggered).toBeGreaterThan(0);
    expect(r.body.orgs_processed).toBe(await active());
    expect(await sent()).toBe(0);
  });

  it("notifies once per triggered rule, for each of the 7 alert types", async () => {
    const r = await call(api.url, "POST", "/api/v1/admin/alerts/process-all", {
      body: { alert_types: ALL_TYPES, send_notifications: true, dry_run: false },
    });
    expect(r.body.notifications_sent).toBe(r.body.alerts_triggered);
    expect(await sent()).toBe(r.body.notifications_sent);
    const types = await wh.db.query<{ alert_type: string }>(
      "SELECT DISTINCT alert_type FROM organizations.org_notifications_sent ORDER BY 1",
    );
    expect(types.rows.map((t) => t.alert_type)).toEqual([...ALL_TYPES].sort());
  });

  it("a second call the same day sends every notification again (no de-duplication, CONTRACT §1)", async () => {
    const before = await sent();
    const r = await call(api.url, "POST", "/api/v1/admin/alerts/process-all", {
      body: { alert_types: ALL_TYPES, send_notifications: true, dry_run: false },
    });
    expect(r.body.alerts_triggered).toBeGreaterThan(0);
    expect(r.body.notifications_sent).toBe(r.body.alerts_triggered);
    expect(await sent()).toBe(before + r.body.notifications_sent);
  });

  it("refuses an unknown alert type with 400", async () => {
    const r = await call(api.url, "POST", "/api/v1/admin/alerts/process-all", {
      body: { alert_types: ["nope"] },
    });
    expect(r.status).toBe(400);
    expect(r.body.detail).toMatch(/nope/);
  });
});

describe("Idempotency-Key", () => {
  it("is not read: the same key twice runs the route twice, with no replay header", async () => {
    await wh.db.query("DELETE FROM organizations.org_usage_quotas WHERE usage_date = '2026-03-20'");
    const key = "quota-reset:2026-03-20";
    const first = await call(api.url, "POST", "/api/v1/quota/reset-daily", { idempotencyKey: key });
    expect(first.body.orgs_created).toBe(await active());
    await wh.db.query("DELETE FROM organizations.org_usage_quotas WHERE usage_date = '2026-03-20'");
    const again = await call(api.url, "POST", "/api/v1/quota/reset-daily", { idempotencyKey: key });
    expect(again.headers.get("idempotent-replayed")).toBeNull();
    expect(again.body.orgs_created).toBe(await active()); // done again: the rows are back
  });
});
