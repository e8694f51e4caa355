import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAdminApi } from "../../../sandbox/admin-api/server.ts";
import { LEGACY, startWarehouse, type Warehouse } from "../../../sandbox/admin-api/warehouse.ts";
import { createFaults } from "../../../sandbox/faults.ts";
import type { Service } from "../../../sandbox/service.ts";
import { call, fingerprint, ROOT_KEY, scalar } from "./helpers.ts";

// Mid-month, so month-to-date alert rules have data; fixed, so the run does not depend on the calendar.
const NOW = new Date("2026-03-20T10:00:00Z");
let wh: Warehouse;
let api: Service;
let unconfigured: Service;
let limited: Service;

beforeAll(async () => {
  wh = await startWarehouse({ orgs: { active: 105, inactive: 10 }, now: () => NOW });
  api = await startAdminApi({ warehouse: wh, rootKey: ROOT_KEY, faults: createFaults() });
  unconfigured = await startAdminApi({ warehouse: wh, rootKey: "", faults: createFaults() });
  limited = await startAdminApi({
    warehouse: wh,
    rootKey: ROOT_KEY,
    faults: createFaults(),
    rateLimits: true,
  });
});
afterAll(async () => {
  await Promise.all([api?.close(), unconfigured?.close(), limited?.close()]);
  await wh?.close();
});

const activeCount = () =>
  scalar(wh.db, "SELECT count(*)::int FROM organizations.org_profiles WHERE status = 'ACTIVE'");

describe("auth", () => {
  it.each([
    ["missing", null, 401],
    ["wrong", "not-the-key", 403],
    ["wrong length", `${ROOT_KEY}x`, 403],
  ])("answers a %s X-CA-Root-Key with %i", async (_name, key, status) => {
    const r = await call(api.url, "GET", "/api/v1/admin/bootstrap/status", { key });
    expect(r.status).toBe(status);
    expect(r.body.detail).toMatch(/X-CA-Root-Key/);
  });

  it("answers 503 when the server has no key configured", async () => {
    const r = await call(unconfigured.url, "GET", "/api/v1/organizations");
    expect(r.status).toBe(503);
  });

  it("refuses an unknown route with 404 after auth", async () => {
    expect((await call(api.url, "GET", "/api/v1/nope")).status).toBe(404);
  });
});

describe("bootstrap on an outdated dataset", () => {
  it("status reports the missing tables, the missing columns and the extra table", async () => {
    const r = await call(api.url, "GET", "/api/v1/admin/bootstrap/status");
    expect(r.status).toBe(200);
    expect(r.body.dataset_exists).toBe(true);
    expect(r.body.tables_expected).toBeGreaterThanOrEqual(21);
    expect([...r.body.tables_missing].sort()).toEqual([...LEGACY.missingTables].sort());
    expect(r.body.tables_extra).toEqual([LEGACY.extraTable]);
    expect(Object.keys(r.body.schema_diffs).sort()).toEqual(Object.keys(LEGACY.missingColumns).sort());
    expect(r.body.tables_existing.length + r.body.tables_missing.length).toBe(r.body.tables_expected);
  });

  it("refuses a fresh bootstrap with 409 when the dataset exists", async () => {
    const r = await call(api.url, "POST", "/api/v1/admin/bootstrap", {
      body: { force_recreate_dataset: false, force_recreate_tables: false },
    });
    expect(r.status).toBe(409);
    expect(r.body.detail).toMatch(/bootstrap\/sync/);
  });

  it("sync adds the missing tables and columns, never removes the extra column, and a second sync adds nothing", async () => {
    const body = { sync_missing_tables: true, sync_missing_columns: true };
    const first = await call(api.url, "POST", "/api/v1/admin/bootstrap/sync", { body });
    expect(first.status).toBe(200);
    expect(first.body.status).toBe("SUCCESS");
    expect([...first.body.tables_created].sort()).toEqual([...LEGACY.missingTables].sort());
    expect(first.body.columns_added).toEqual(LEGACY.missingColumns);
    const hasColumn = await scalar(
      wh.db,
      `SELECT count(*)::int FROM information_schema.columns
       WHERE table_schema = 'organizations' AND table_name = 'org_usage_quotas' AND column_name = 'concurrent_limit'`,
    );
    expect(hasColumn).toBe(1);
    const before = await fingerprint(wh.db, "organizations");
    const second = await call(api.url, "POST", "/api/v1/admin/bootstrap/sync", { body });
    expect(second.body).toMatchObject({
      status: "SUCCESS",
      tables_created: [],
      columns_added: {},
      errors: [],
    });
    expect(await fingerprint(wh.db, "organizations")).toEqual(before);
    // The legacy extra column stays (a sync never removes one): OUT_OF_SYNC, with nothing missing.
    const status = await call(api.url, "GET", "/api/v1/admin/bootstrap/status?force_refresh=true");
    const { table, column } = LEGACY.extraColumn;
    expect(status.body).toMatchObject({
      status: "OUT_OF_SYNC",
      tables_missing: [],
      schema_diffs: { [table]: { missing_columns: [], extra_columns: [column] } },
    });
  });

  it("rate-limits fresh bootstrap to 2 a minute with Retry-After when limits are on", async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 3; i++) {
      const r = await call(limited.url, "POST", "/api/v1/admin/bootstrap", { body: {} });
      statuses.push(r.status);
      retryAfter ??= r.headers.get("retry-after");
    }
    expect(statuses).toEqual([409, 409, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
  });
});

describe("organizations", () => {
  it("pages through every ACTIVE organization, 100 at a time, and never lists an inactive one", async () => {
    const slugs: string[] = [];
    let page = 1;
    let last: { organizations: { org_slug: string; status: string }[]; has_next: boolean; total: number };
    do {
      last = (await call(api.url, "GET", `/api/v1/organizations?status=ACTIVE&page=${page}&page_size=100`))
        .body;
      expect(last.organizations.length).toBeLessThanOrEqual(100);
      slugs.push(...last.organizations.map((o: { org_slug: string }) => o.org_slug));
      expect(last.organizations.every((o: { status: string }) => o.status === "ACTIVE")).toBe(true);
      page += 1;
    } while (last.has_next);
    expect(slugs.length).toBe(await activeCount());
    expect(new Set(slugs).size).toBe(slugs.length);
    expect(last.total).toBe(slugs.length);
  });

  it("filters by INACTIVE", async () => {
    const r = await call(api.url, "GET", "/api/v1/organizations?status=INACTIVE&page=1&page_size=100");
    const expected = await scalar(
      wh.db,
      "SELECT count(*)::int FROM organizations.org_profiles WHERE status = 'INACTIVE'",
    );
    expect(r.body.total).toBe(expected);
    expect(r.body.has_next).toBe(false);
    expect(r.body.organizations.every((o: { status: string }) => o.status === "INACTIVE")).toBe(true);
  });

  it.each([["page=0"], ["page_size=5000"], ["status=BOGUS"]])("refuses %s with 400", async (q) => {
    expect((await call(api.url, "GET", `/api/v1/organizations?${q}`)).status).toBe(400);
  });

  it("sync answers 404 for an unknown org and 400 for an inactive one", async () => {
    const inactive = await scalar<string>(
      wh.db,
      "SELECT org_slug FROM organizations.org_profiles WHERE status <> 'ACTIVE' LIMIT 1",
    );
    const body = { sync_missing_tables: true, sync_missing_columns: true };
    expect((await call(api.url, "POST", "/api/v1/organizations/no_such_org/sync", { body })).status).toBe(
      404,
    );
    expect((await call(api.url, "POST", `/api/v1/organizations/${inactive}/sync`, { body })).status).toBe(
      400,
    );
  });

  it("sync extends an outdated org dataset once, then has nothing left to do", async () => {
    const body = { sync_missing_tables: true, sync_missing_columns: true };
    const first = await call(api.url, "POST", "/api/v1/organizations/org_002/sync", { body });
    expect(first.body).toMatchObject({
      org_slug: "org_002",
      status: "SUCCESS",
      tables_created: ["genai_usage"],
      columns_added: { cloud_costs: ["sku"] },
    });
    const second = await call(api.url, "POST", "/api/v1/organizations/org_002/sync", { body });
    expect(second.body).toMatchObject({ tables_created: [], columns_added: {}, errors: [] });
  });

  it("sync creates the whole dataset of an org that has none", async () => {
    const r = await call(api.url, "POST", "/api/v1/organizations/org_004/sync", { body: {} });
    const tables = await scalar(
      wh.db,
      "SELECT count(*)::int FROM information_schema.tables WHERE table_schema = 'org_004'",
    );
    expect(r.body.tables_created.length).toBe(tables);
    expect(tables).toBeGreaterThan(0);
  });
});
