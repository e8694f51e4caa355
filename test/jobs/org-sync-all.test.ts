import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import orgSyncAll from "../../jobs/manual/org-sync-all.ts";
import { parseFlags } from "../../src/runtime/flags.ts";
import { runJob } from "../helpers/context.ts";
import { FAKE_ROOT_KEY, type FakeAdminApi, makeOrgs, startFakeAdminApi } from "../helpers/fake-admin-api.ts";

const LIST = "GET /api/v1/organizations" as const;
const SYNC = "POST /api/v1/organizations/:slug/sync" as const;
let api: FakeAdminApi;
const env = (task = 0, tasks = 1) => ({
  API_SERVICE_URL: api.url,
  CA_ROOT_API_KEY: FAKE_ROOT_KEY,
  CLOUD_RUN_TASK_INDEX: String(task),
  CLOUD_RUN_TASK_COUNT: String(tasks),
});
const synced = () => api.calls(SYNC).map((r) => r.path.split("/")[4]);

beforeAll(async () => {
  api = await startFakeAdminApi();
});
afterAll(() => api.close());
beforeEach(() => api.reset({ orgs: makeOrgs(12) }));

describe("org-sync-all", () => {
  it("lists ACTIVE orgs page by page and syncs each one", async () => {
    api.reset({ orgs: makeOrgs(230) });
    const { outcome } = await runJob(orgSyncAll, { env: env() });
    expect(outcome?.status).toBe("succeeded");
    expect(api.calls(LIST).map((r) => r.query)).toEqual(
      [1, 2, 3].map((page) => ({ status: "ACTIVE", page: String(page), page_size: "100" })),
    );
    expect(new Set(synced()).size).toBe(230);
    expect(synced()).not.toContain("suspended_org");
    expect(outcome?.summary).toMatchObject({ total: 230, synced: 230, unchanged: 0, failed: [] });
  });

  it("reports every org unchanged on a second run", async () => {
    await runJob(orgSyncAll, { env: env() });
    const { outcome } = await runJob(orgSyncAll, { env: env() });
    expect(outcome?.summary).toMatchObject({ total: 12, synced: 0, unchanged: 12, failed: [] });
  });

  it.each([1, 2, 3, 5, 16])(
    "with %i tasks, the shards together sync every org exactly once",
    async (tasks) => {
      api.reset({ orgs: makeOrgs(40) });
      for (let task = 0; task < tasks; task++) {
        const { outcome } = await runJob(orgSyncAll, { env: env(task, tasks) });
        expect(outcome?.status).toBe("succeeded");
      }
      const all = synced();
      expect(all).toHaveLength(40);
      expect(new Set(all).size).toBe(40);
    },
  );

  it("keeps at most --concurrency syncs in flight at the server", async () => {
    api.reset({ orgs: makeOrgs(15) });
    api.always(SYNC, (req) => ({
      delayMs: 40,
      body: {
        org_slug: req.path.split("/")[4],
        status: "SUCCESS",
        tables_created: [],
        columns_added: {},
        errors: [],
        message: "",
      },
    }));
    const { outcome } = await runJob(orgSyncAll, { env: env(), argv: ["--concurrency", "3"] });
    expect(outcome?.status).toBe("succeeded");
    expect(api.maxInFlight).toBe(3);
  });

  it("continues past failing orgs and lists each failure with its reason", async () => {
    api.always(SYNC, (req) => {
      const slug = req.path.split("/")[4];
      if (slug === "org_002") return { status: 404, body: { detail: "Organization org_002 not found" } };
      if (slug === "org_003")
        return {
          body: {
            org_slug: slug,
            status: "PARTIAL",
            tables_created: [],
            columns_added: {},
            errors: ["org_costs: permission denied"],
            message: "partial",
          },
        };
      return undefined;
    });
    const { outcome } = await runJob(orgSyncAll, { env: env() });
    expect(outcome?.status).toBe("failed");
    expect(outcome?.summary).toMatchObject({ total: 12, synced: 10, unchanged: 0 });
    const failed = outcome?.summary?.failed as { org: string; reason: string }[];
    expect(failed.map((f) => f.org).sort()).toEqual(["org_002", "org_003"]);
    expect(failed.find((f) => f.org === "org_002")?.reason).toContain("status 404");
    expect(failed.find((f) => f.org === "org_003")?.reason).toContain(
      "PARTIAL: org_costs: permission denied",
    );
    expect(outcome?.message).toContain("10 synced, 0 unchanged, 2 failed");
  });

  it("--org syncs one org without listing", async () => {
    const { outcome } = await runJob(orgSyncAll, { env: env(), argv: ["--org", "org_007"] });
    expect(outcome?.status).toBe("succeeded");
    expect(api.calls(LIST)).toHaveLength(0);
    expect(synced()).toEqual(["org_007"]);
  });

  it.each([
    [["--org", ""], "--org: is empty"],
    [["--org", "org-007"], '--org: "org-007" is not an org slug'],
  ])("refuses %j before any request", (argv, problem) => {
    expect(parseFlags(orgSyncAll, argv).problems).toEqual([expect.stringContaining(problem)]);
  });

  it("on SIGTERM lets the syncs in flight finish, starts no new one and reports the orgs left undone", async () => {
    const controller = new AbortController();
    api.always(SYNC, () => {
      controller.abort();
      return undefined;
    });
    const { outcome, logs } = await runJob(orgSyncAll, {
      env: env(),
      argv: ["--concurrency", "2"],
      signal: controller.signal,
    });
    expect(outcome?.status).toBe("failed");
    expect(api.calls(SYNC)).toHaveLength(2);
    // The two requests in flight when SIGTERM came were allowed to finish; nothing else was started.
    expect(outcome?.summary).toMatchObject({ failed: [], interrupted: [] });
    const { synced, unchanged } = (outcome?.summary ?? {}) as { synced?: number; unchanged?: number };
    expect((synced ?? 0) + (unchanged ?? 0)).toBe(2);
    expect(outcome?.summary?.not_started).toHaveLength(10);
    expect(logs.some((l) => l.severity === "WARNING" && String(l.message).includes("termination"))).toBe(
      true,
    );
  });
});

describe("org-sync-all while the org list moves (created_at DESC, offset paging)", () => {
  it("an org created between two pages is synced once, and the run says the list moved", async () => {
    api.reset({ orgs: makeOrgs(150) });
    let inserted = false;
    api.always(LIST, (req) => {
      if (req.query.page === "2" && !inserted) {
        inserted = true; // newest first: the new org shifts every row down by one
        api.state.orgs.unshift({ org_slug: "org_new", status: "ACTIVE", pendingTables: ["org_costs"] });
      }
      return undefined;
    });
    const { outcome } = await runJob(orgSyncAll, { env: env() });
    expect(outcome?.status).toBe("succeeded");
    const slugs = api.calls(SYNC).map((r) => r.path.split("/")[4]);
    expect(slugs).toHaveLength(151);
    expect(new Set(slugs).size).toBe(151);
    expect(slugs).toContain("org_new");
    expect(outcome?.message).toContain("the org list moved during the listing and was read 2 times");
    expect(outcome?.summary?.listing).toMatchObject({ scans: 2, stable: true });
  });

  it("an org created while the pages are read pushes the last one past what page 1 announced: it is read too", async () => {
    api.reset({ orgs: makeOrgs(200) });
    let inserted = false;
    api.always(LIST, (req) => {
      if (req.query.page === "2" && !inserted) {
        inserted = true;
        api.state.orgs.unshift({ org_slug: "org_new", status: "ACTIVE", pendingTables: ["org_costs"] });
      }
      return undefined;
    });
    const { outcome } = await runJob(orgSyncAll, { env: env() });
    expect(outcome?.status).toBe("succeeded");
    const pages = api.calls(LIST).map((r) => Number(r.query.page));
    expect(pages.slice(0, 3).sort()).toEqual([1, 2, 3]);
    const slugs = api.calls(SYNC).map((r) => r.path.split("/")[4]);
    expect(slugs).toHaveLength(201);
    expect(new Set(slugs).size).toBe(201);
    expect(outcome?.summary?.listing).toMatchObject({ scans: 2, stable: true });
  });

  it("reads every announced page exactly once when the list holds still", async () => {
    api.reset({ orgs: makeOrgs(1000) });
    const { outcome } = await runJob(orgSyncAll, { env: env(), argv: ["--concurrency", "32"] });
    expect(outcome?.status).toBe("succeeded");
    expect(
      api
        .calls(LIST)
        .map((r) => Number(r.query.page))
        .sort((a, b) => a - b),
    ).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(outcome?.summary).toMatchObject({ total: 1000, synced: 1000, failed: [] });
  });

  it("an org deactivated between two pages does not make another one be skipped", async () => {
    api.reset({ orgs: makeOrgs(150) });
    let changed = false;
    api.always(LIST, (req) => {
      if (req.query.page === "2" && !changed) {
        changed = true; // one row fewer: every later row moves up one place
        const first = api.state.orgs[0];
        if (first) first.status = "SUSPENDED";
      }
      return undefined;
    });
    const { outcome } = await runJob(orgSyncAll, { env: env() });
    const slugs = new Set(api.calls(SYNC).map((r) => r.path.split("/")[4]));
    const active = api.state.orgs.filter((o) => o.status === "ACTIVE").map((o) => o.org_slug);
    expect(active.filter((s) => !slugs.has(s))).toEqual([]);
    expect(outcome?.summary?.listing).toMatchObject({ scans: 2, stable: true });
  });
});
