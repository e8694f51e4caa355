/**
 * Conformance of the sandbox's reference admin API with CONTRACT.md §1: one test per behaviour the
 * contract states, so the sandbox cannot drift from it (and so that the jobs' tests against it mean
 * something). Plain HTTP, as any client would send it. The warehouse clock is settable per test.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAdminApi } from "../../../sandbox/admin-api/server.ts";
import { LEGACY, startWarehouse, type Warehouse } from "../../../sandbox/admin-api/warehouse.ts";
import { createFaults } from "../../../sandbox/faults.ts";
import type { Service } from "../../../sandbox/service.ts";
import { call, ROOT_KEY, scalar } from "../services/helpers.ts";

let now = new Date("2026-03-20T10:00:00Z");
let wh: Warehouse;
let api: Service;
const STATUS = "/api/v1/admin/bootstrap/status";
const ACTIVE = "SELECT count(*)::int FROM organizations.org_profiles WHERE status = 'ACTIVE'";

beforeAll(async () => {
  wh = await startWarehouse({ orgs: { active: 12, inactive: 2 }, now: () => now });
  api = await startAdminApi({ warehouse: wh, rootKey: ROOT_KEY, faults: createFaults(), now: () => now });
});
afterAll(async () => {
  await api?.close();
  await wh?.close();
});

describe("CONTRACT §1: the admin API", () => {
  it("auth: 401 without X-CA-Root-Key, 403 with a wrong one", async () => {
    expect((await call(api.url, "GET", STATUS, { key: null })).status).toBe(401);
    expect((await call(api.url, "GET", STATUS, { key: "wrong" })).status).toBe(403);
  });

  it("quota routes live at /api/v1/quota/* (no admin/); /api/v1/admin/quota/* is a 404", async () => {
    for (const route of ["reset-daily", "cleanup-stale"]) {
      expect((await call(api.url, "POST", `/api/v1/quota/${route}`)).status).toBe(200);
      expect((await call(api.url, "POST", `/api/v1/admin/quota/${route}`)).status).toBe(404);
    }
  });

  it("status: cached for 60 s; force_refresh=true bypasses the cache", async () => {
    const before = (await call(api.url, "GET", STATUS)).body;
    await wh.db.exec("CREATE TABLE organizations.conformance_extra (x TEXT)");
    now = new Date(now.getTime() + 30_000);
    expect((await call(api.url, "GET", STATUS)).body).toEqual(before); // stale, from the cache
    const fresh = (await call(api.url, "GET", `${STATUS}?force_refresh=true`)).body;
    expect(fresh.tables_extra).toContain("conformance_extra");
    await wh.db.exec("DROP TABLE organizations.conformance_extra");
  });

  it("status: extra_columns are reported (OUT_OF_SYNC) and a sync never removes them", async () => {
    const { table, column } = LEGACY.extraColumn;
    await call(api.url, "POST", "/api/v1/admin/bootstrap/sync", {
      body: { sync_missing_tables: true, sync_missing_columns: true },
    });
    const after = (await call(api.url, "GET", `${STATUS}?force_refresh=true`)).body;
    expect(after.tables_missing).toEqual([]);
    expect(after.schema_diffs[table]).toEqual({ missing_columns: [], extra_columns: [column] });
    expect(after.status).toBe("OUT_OF_SYNC");
  });

  it("no Idempotency-Key replay: the same key twice is done twice, with no replay header", async () => {
    const first = await call(api.url, "POST", "/api/v1/admin/alerts/process-all", {
      body: { alert_types: ["cost_threshold", "absolute_threshold"] },
      idempotencyKey: "alerts:2026-03-20",
    });
    const second = await call(api.url, "POST", "/api/v1/admin/alerts/process-all", {
      body: { alert_types: ["cost_threshold", "absolute_threshold"] },
      idempotencyKey: "alerts:2026-03-20",
    });
    expect(second.headers.get("idempotent-replayed")).toBeNull();
    expect(first.body.notifications_sent).toBeGreaterThan(0);
    // alerts/process-all has no de-duplication: the second call sends every notification again.
    expect(second.body.notifications_sent).toBe(first.body.notifications_sent);
  });

  it("alerts: errors is an integer count", async () => {
    const r = await call(api.url, "POST", "/api/v1/admin/alerts/process-all", {
      body: { alert_types: ["budget_percent"], dry_run: true },
    });
    expect(Number.isInteger(r.body.errors)).toBe(true);
  });

  it("reset-monthly: on any day but the 1st (UTC) it does nothing and says Skipped: Not the 1st", async () => {
    now = new Date("2026-03-20T10:00:00Z");
    const resets = () => scalar(wh.db, "SELECT count(*)::int FROM organizations.org_quota_resets");
    const before = await resets();
    const r = await call(api.url, "POST", "/api/v1/quota/reset-monthly");
    expect(r.body).toMatchObject({
      success: true,
      orgs_processed: 0,
      message: "Skipped: Not the 1st of the month (day=20)",
    });
    expect(await resets()).toBe(before);
  });

  it("reset-monthly: repeated on the 1st it resets again (not repeatable)", async () => {
    now = new Date("2026-04-01T00:05:00Z");
    const resets = () => scalar(wh.db, "SELECT count(*)::int FROM organizations.org_quota_resets");
    const before = await resets();
    await call(api.url, "POST", "/api/v1/quota/reset-monthly");
    await call(api.url, "POST", "/api/v1/quota/reset-monthly");
    expect((await resets()) - before).toBe(2 * (await scalar(wh.db, ACTIVE)));
    now = new Date("2026-03-20T10:00:00Z");
  });

  it("reset-daily is repeatable: a second call the same day changes nothing", async () => {
    await call(api.url, "POST", "/api/v1/quota/reset-daily");
    const again = await call(api.url, "POST", "/api/v1/quota/reset-daily");
    expect(again.body.orgs_created).toBe(0);
  });

  it("organizations: ordered by created_at DESC with offset paging, page_size 1-100 (default 50)", async () => {
    const p1 = await call(api.url, "GET", "/api/v1/organizations?status=ACTIVE&page=1&page_size=5");
    const p2 = await call(api.url, "GET", "/api/v1/organizations?status=ACTIVE&page=2&page_size=5");
    const rows = [...p1.body.organizations, ...p2.body.organizations];
    const times = rows.map((o: { created_at: string }) => Date.parse(o.created_at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(Object.keys(rows[0]).sort()).toEqual(
      [
        "admin_email",
        "company_name",
        "created_at",
        "default_currency",
        "default_timezone",
        "org_slug",
        "status",
        "subscription_plan",
      ].sort(),
    );
    expect((await call(api.url, "GET", "/api/v1/organizations")).body.page_size).toBe(50);
    expect((await call(api.url, "GET", "/api/v1/organizations?page_size=101")).status).toBe(400);
  });

  it("organizations: a new org shifts the next page (offset paging over created_at DESC)", async () => {
    const p1 = await call(api.url, "GET", "/api/v1/organizations?status=ACTIVE&page=1&page_size=5");
    await wh.db.query(
      `INSERT INTO organizations.org_profiles (org_slug, org_name, status, created_at) VALUES ('conformance_new', 'New', 'ACTIVE', $1)`,
      [now.toISOString()],
    );
    const p2 = await call(api.url, "GET", "/api/v1/organizations?status=ACTIVE&page=2&page_size=5");
    expect(p2.body.organizations[0].org_slug).toBe(p1.body.organizations.at(-1).org_slug);
    expect(p2.body.total).toBe(p1.body.total + 1);
    await wh.db.exec("DELETE FROM organizations.org_profiles WHERE org_slug = 'conformance_new'");
  });

  it("org sync: slugs outside ^[a-z0-9_]{3,50}$ are refused with 400", async () => {
    expect((await call(api.url, "POST", "/api/v1/organizations/Bad-Slug/sync", { body: {} })).status).toBe(
      400,
    );
  });
});
