import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import bootstrap from "../../jobs/manual/bootstrap.ts";
import { ConfigError, PermanentError } from "../../src/runtime/errors.ts";
import { runJob } from "../helpers/context.ts";
import {
  EXPECTED_TABLES,
  FAKE_ROOT_KEY,
  type FakeAdminApi,
  startFakeAdminApi,
} from "../helpers/fake-admin-api.ts";

let api: FakeAdminApi;
const env = () => ({ API_SERVICE_URL: api.url, CA_ROOT_API_KEY: FAKE_ROOT_KEY });
const run = (argv: string[] = []) => runJob(bootstrap, { env: env(), argv });
const STATUS = "GET /api/v1/admin/bootstrap/status" as const;
const FRESH = "POST /api/v1/admin/bootstrap" as const;
const SYNC = "POST /api/v1/admin/bootstrap/sync" as const;
const posts = () => api.requests.filter((r) => r.method === "POST").map((r) => r.path);

beforeAll(async () => {
  api = await startFakeAdminApi();
});
afterAll(() => api.close());
beforeEach(() => api.reset());

describe("bootstrap (smart mode)", () => {
  it("bootstraps a fresh project, never destructively, and checks the status at the end", async () => {
    const { outcome } = await run();
    expect(outcome?.status).toBe("succeeded");
    expect(outcome?.summary).toMatchObject({
      mode: "fresh",
      tables_created: EXPECTED_TABLES,
      tables_missing: [],
    });
    expect(api.calls(FRESH)[0]?.body).toEqual({
      force_recreate_dataset: false,
      force_recreate_tables: false,
    });
    expect(api.calls(STATUS)).toHaveLength(2);
    // Every status read bypasses the API's 60 s cache: the final check must see the work just done.
    expect(api.calls(STATUS).map((c) => c.query.force_refresh)).toEqual(["true", "true"]);
  });

  it("does nothing on a second run", async () => {
    await run();
    api.requests.length = 0;
    const { outcome } = await run();
    expect(outcome?.status).toBe("succeeded");
    expect(outcome?.summary).toEqual({ mode: "nothing" });
    expect(posts()).toEqual([]);
  });

  it("syncs when the dataset exists but a table is missing, and reports tables and columns added", async () => {
    api.reset({
      datasetExists: true,
      tables: new Set(EXPECTED_TABLES.slice(1)),
      missingColumns: { org_profiles: ["region"] },
    });
    const { outcome } = await run();
    expect(outcome?.status).toBe("succeeded");
    expect(outcome?.summary).toMatchObject({
      mode: "sync",
      tables_created: [EXPECTED_TABLES[0]],
      columns_added: { org_profiles: ["region"] },
    });
    expect(outcome?.message).toContain("1 tables created, 1 columns added");
    expect(api.calls(SYNC)[0]?.body).toEqual({ sync_missing_tables: true, sync_missing_columns: true });
    expect(api.calls(FRESH)).toHaveLength(0);
  });

  it("syncs when a fresh bootstrap answers 409 (bootstrapped meanwhile)", async () => {
    api.script(FRESH, { status: 409, body: { detail: "already bootstrapped" } });
    const { outcome } = await run();
    expect(outcome?.status).toBe("succeeded");
    expect(outcome?.summary).toMatchObject({ mode: "sync" });
    expect(posts()).toEqual(["/api/v1/admin/bootstrap", "/api/v1/admin/bootstrap/sync"]);
  });

  it("fails on a PARTIAL sync, listing every error", async () => {
    api.reset({ datasetExists: true, tables: new Set(EXPECTED_TABLES.slice(1)) });
    api.script(SYNC, {
      body: {
        status: "PARTIAL",
        tables_created: [],
        columns_added: {},
        errors: ["table a: quota exceeded", "table b: denied"],
        message: "partial",
      },
    });
    const { outcome, logs } = await run();
    expect(outcome?.status).toBe("failed");
    expect(outcome?.message).toContain("table a: quota exceeded");
    expect(outcome?.message).toContain("table b: denied");
    expect(logs.filter((l) => l.message === "Bootstrap sync error")).toHaveLength(3);
  });

  it.each([
    [
      "an empty entry per table",
      "nothing",
      { org_profiles: { missing_columns: [] }, runs: { missing_columns: [] } },
    ],
    ["null entries", "nothing", { org_profiles: null }],
    ["a table with a missing column", "sync", { org_profiles: { missing_columns: ["plan"] } }],
    [
      "only extra columns (a sync never removes them)",
      "nothing",
      { org_profiles: { missing_columns: [], extra_columns: ["legacy_code"] } },
    ],
  ])("reads %s in schema_diffs as %s", async (_what, mode, schemaDiffs) => {
    api.always(STATUS, {
      body: {
        status: "OK",
        dataset_exists: true,
        tables_expected: EXPECTED_TABLES.length,
        tables_existing: EXPECTED_TABLES,
        tables_missing: [],
        schema_diffs: schemaDiffs,
      },
    });
    const { outcome } = await run();
    if (mode === "nothing") expect(outcome?.summary).toMatchObject({ mode: "nothing" });
    if (mode === "nothing") expect(outcome?.status).toBe("succeeded");
    expect(api.calls(SYNC)).toHaveLength(mode === "sync" ? 1 : 0);
  });

  it("fails when the status still shows missing tables after the work", async () => {
    api.always(STATUS, {
      body: {
        status: "OK",
        dataset_exists: true,
        tables_expected: 4,
        tables_existing: [],
        tables_missing: ["org_profiles"],
        schema_diffs: {},
      },
    });
    const { outcome } = await run();
    expect(outcome?.status).toBe("failed");
    expect(outcome?.message).toContain("missing tables org_profiles");
  });
});

describe("bootstrap flags", () => {
  it("--force-fresh runs a fresh bootstrap on a new project", async () => {
    const { outcome } = await run(["--force-fresh"]);
    expect(outcome?.summary).toMatchObject({ mode: "fresh" });
    expect(posts()).toEqual(["/api/v1/admin/bootstrap"]);
  });

  it("--force-fresh fails loudly on a bootstrapped project (409) and does not sync", async () => {
    await run();
    api.requests.length = 0;
    const { error } = await run(["--force-fresh"]);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toContain("--force-sync");
    expect(posts()).toEqual(["/api/v1/admin/bootstrap"]);
  });

  it("--force-sync syncs even when the status says nothing to do", async () => {
    await run();
    api.requests.length = 0;
    const { outcome } = await run(["--force-sync"]);
    expect(outcome?.summary).toMatchObject({ mode: "sync" });
    expect(posts()).toEqual(["/api/v1/admin/bootstrap/sync"]);
  });

  it("refuses --force-fresh with --force-sync before any call", async () => {
    const { error } = await run(["--force-fresh", "--force-sync"]);
    expect(error).toBeInstanceOf(ConfigError);
    expect(api.requests).toHaveLength(0);
  });
});

describe("bootstrap with extra tables and columns", () => {
  it("succeeds with a warning naming them (OUT_OF_SYNC only because of extras is not work)", async () => {
    api.always(STATUS, {
      body: {
        status: "OUT_OF_SYNC",
        dataset_exists: true,
        tables_expected: EXPECTED_TABLES.length,
        tables_existing: EXPECTED_TABLES,
        tables_missing: [],
        tables_extra: ["org_usage_legacy"],
        schema_diffs: { org_profiles: { missing_columns: [], extra_columns: ["legacy_plan_code"] } },
      },
    });
    const { outcome } = await run();
    expect(outcome?.status).toBe("succeeded");
    expect(outcome?.message).toMatch(
      /warning: .*extra tables: org_usage_legacy; extra columns in: org_profiles/,
    );
    expect(outcome?.summary).toMatchObject({
      extra: { tables: ["org_usage_legacy"], columns: { org_profiles: ["legacy_plan_code"] } },
    });
    expect(posts()).toEqual([]);
  });
});
