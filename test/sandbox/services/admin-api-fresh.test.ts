import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startAdminApi } from "../../../sandbox/admin-api/server.ts";
import { startWarehouse, type Warehouse } from "../../../sandbox/admin-api/warehouse.ts";
import { createFaults } from "../../../sandbox/faults.ts";
import type { Service } from "../../../sandbox/service.ts";
import { call, scalar } from "./helpers.ts";

let wh: Warehouse;
let api: Service;
let dataDir: string;

beforeAll(async () => {
  // Persisted, so the last test can reopen the same database.
  dataDir = await mkdtemp(join(tmpdir(), "warehouse-"));
  wh = await startWarehouse({ state: "empty", dataDir });
  api = await startAdminApi({ warehouse: wh, rootKey: "sandbox-test-root-key", faults: createFaults() });
});
afterAll(async () => {
  await api?.close();
  await wh?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const metaTables = () =>
  scalar(wh.db, "SELECT count(*)::int FROM information_schema.tables WHERE table_schema = 'organizations'");

it("reports a new environment as not bootstrapped", async () => {
  const r = await call(api.url, "GET", "/api/v1/admin/bootstrap/status");
  expect(r.body).toMatchObject({ status: "NOT_BOOTSTRAPPED", dataset_exists: false, tables_existing: [] });
  expect(r.body.tables_missing.length).toBe(r.body.tables_expected);
});

it("answers 412 with the fix on routes that need the dataset", async () => {
  const r = await call(api.url, "POST", "/api/v1/quota/reset-daily");
  expect(r.status).toBe(412);
  expect(r.body.detail).toMatch(/POST \/api\/v1\/admin\/bootstrap/);
});

it("a fresh bootstrap creates 21 or more meta tables and leaves status clean", async () => {
  const r = await call(api.url, "POST", "/api/v1/admin/bootstrap", {
    body: { force_recreate_dataset: false, force_recreate_tables: false },
  });
  expect(r.status).toBe(200);
  expect(r.body.status).toBe("SUCCESS");
  expect(r.body.tables_created.length).toBeGreaterThanOrEqual(21);
  expect(r.body.total_tables).toBe(r.body.tables_created.length);
  expect(await metaTables()).toBe(r.body.tables_created.length);
  // force_refresh: the not-bootstrapped answer read above is still in the API's 60 s cache.
  const status = await call(api.url, "GET", "/api/v1/admin/bootstrap/status?force_refresh=true");
  expect(status.body).toMatchObject({
    status: "SYNCED",
    dataset_exists: true,
    tables_missing: [],
    tables_extra: [],
    schema_diffs: {},
  });
});

it("a second fresh bootstrap is 409 and changes nothing; sync then has nothing to do", async () => {
  const tables = await metaTables();
  expect((await call(api.url, "POST", "/api/v1/admin/bootstrap", { body: {} })).status).toBe(409);
  const sync = await call(api.url, "POST", "/api/v1/admin/bootstrap/sync", { body: {} });
  expect(sync.body).toMatchObject({ status: "SUCCESS", tables_created: [], columns_added: {} });
  expect(await metaTables()).toBe(tables);
});

it("routes work on the new, empty dataset", async () => {
  const r = await call(api.url, "GET", "/api/v1/organizations?status=ACTIVE&page=1&page_size=100");
  expect(r.body).toMatchObject({ organizations: [], total: 0, has_next: false });
});

it("keeps a persisted warehouse across a restart, without seeding it again", async () => {
  await api.close();
  await wh.close();
  wh = await startWarehouse({ dataDir, state: "legacy", orgs: { active: 5, inactive: 0 } });
  api = await startAdminApi({ warehouse: wh, rootKey: "sandbox-test-root-key", faults: createFaults() });
  const status = await call(api.url, "GET", "/api/v1/admin/bootstrap/status");
  expect(status.body).toMatchObject({ status: "SYNCED", tables_extra: [] });
  expect(await scalar(wh.db, "SELECT count(*)::int FROM organizations.org_profiles")).toBe(0);
});
