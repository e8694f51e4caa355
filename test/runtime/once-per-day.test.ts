/**
 * At most once per scheduled day, from Cloud Run's own execution history (the admin API keeps none), and
 * manual jobs that refuse a second run while one is running: the guard against a real local server that
 * answers the Cloud Run Admin API v2 executions list.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type GuardOptions, guardRun } from "../../src/runtime/cloud-run.ts";
import { loadConfig } from "../../src/runtime/config.ts";
import { createLogger } from "../../src/runtime/logger.ts";
import { runEntrypoint } from "../../src/runtime/runner.ts";
import { capture, fakeJob } from "./helpers/jobs.ts";
import { json, startServer, type TestServer } from "./helpers/server.ts";

const JOB = "alerts-sandbox";
const EXEC = `${JOB}-new`;
const full = (n: string) => `projects/sandbox-project/locations/us-central1/jobs/${JOB}/executions/${n}`;
let server: TestServer;
let executions: Record<string, unknown>[];
let status: number;

beforeAll(async () => {
  server = await startServer((_req, res) =>
    status === 200
      ? json(res, 200, { executions })
      : json(res, status, { error: { message: "unavailable" } }),
  );
});
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  status = 200;
  executions = [];
});

const env = (extra: Record<string, string> = {}) => ({
  ENVIRONMENT: "sandbox",
  GCP_PROJECT_ID: "sandbox-project",
  CLOUD_RUN_API_URL: server.url,
  CLOUD_RUN_JOB: JOB,
  CLOUD_RUN_EXECUTION: EXEC,
  ...extra,
});
const once: GuardOptions["job"] = {
  name: "alerts",
  ifRunning: "skip",
  oncePerDay: true,
  schedule: { cron: "0 8 * * *", timeZone: "Etc/UTC" },
};
const manual: GuardOptions["job"] = {
  name: "org-sync-all",
  ifRunning: "refuse",
  oncePerDay: false,
  schedule: null,
};

const done = (name: string, createTime: string, args = ["alerts"]) => ({
  name: full(name),
  createTime,
  completionTime: createTime.replace(/:00Z$/, ":59Z"),
  taskCount: 1,
  succeededCount: 1,
  conditions: [{ type: "Completed", state: "CONDITION_SUCCEEDED" }],
  template: { containers: [{ args }] },
});
const failed = (name: string, createTime: string) => ({
  ...done(name, createTime),
  succeededCount: 0,
  conditions: [{ type: "Completed", state: "CONDITION_FAILED" }],
});
const me = {
  name: full(EXEC),
  createTime: "2026-11-22T08:00:30Z",
  template: { containers: [{ args: ["alerts"] }] },
};

async function guard(job: GuardOptions["job"], args: string[] = [], extra: Record<string, string> = {}) {
  const { config } = loadConfig(fakeJob({}), env(extra));
  return guardRun({
    job,
    args,
    config,
    log: createLogger({ write: () => {} }),
    now: () => new Date("2026-11-22T08:00:31Z"),
    sleep: async () => {},
  });
}

describe("once per scheduled day", () => {
  it("does nothing and fails when an earlier run of the day failed: it may have reached the API", async () => {
    executions = [me, failed("alerts-sandbox-killed", "2026-11-22T08:00:00Z")];
    const v = await guard(once);
    expect(v).toMatchObject({ action: "fail" });
    expect(v.reason).toContain("alerts-sandbox-killed");
    expect(v.reason).toContain("--rerun <label>");
  });

  it("runs when yesterday's run failed", async () => {
    executions = [me, failed("a", "2026-11-21T08:00:00Z")];
    expect((await guard(once)).action).toBe("run");
  });

  it("skips, naming the execution, when one succeeded for the same day", async () => {
    executions = [me, done("alerts-sandbox-early", "2026-11-22T08:00:00Z")];
    const v = await guard(once);
    expect(v).toMatchObject({ action: "skip", other: "alerts-sandbox-early" });
    expect(v.reason).toContain("already done for 2026-11-22");
    expect(v.reason).toContain("--rerun <label>");
  });

  it.each([
    { case: "the earlier success was yesterday's", list: [done("a", "2026-11-21T08:00:00Z")] },
    {
      case: "the earlier success was a dry run",
      list: [done("a", "2026-11-22T07:00:00Z", ["alerts", "--dry-run"])],
    },
    {
      case: "the earlier success covered one org only",
      list: [done("a", "2026-11-22T07:00:00Z", ["alerts", "--org", "acme"])],
    },
  ])("runs when $case", async ({ list }) => {
    executions = [me, ...list];
    expect((await guard(once)).action).toBe("run");
  });

  it("runs when only a NEWER execution of the day succeeded: it skipped because of this one", async () => {
    // Two deliveries at once: the newer one's task started first, saw this one running and skipped (exit 0,
    // so Cloud Run records a success). Counting that as "done" made both skip and no one sent the alerts.
    executions = [me, done("alerts-sandbox-newer", "2026-11-22T08:00:31Z")];
    expect((await guard(once)).action).toBe("run");
  });

  it("lets a run for one org skip after the day's full run", async () => {
    executions = [me, done("full", "2026-11-22T08:00:00Z")];
    expect((await guard(once, ["--org", "acme"])).action).toBe("skip");
  });

  it("lets a deliberate re-run (--rerun, IDEMPOTENCY_SCOPE) through", async () => {
    executions = [me, done("full", "2026-11-22T08:00:00Z")];
    expect((await guard(once, [], { IDEMPOTENCY_SCOPE: "fix-1" })).action).toBe("run");
  });

  it.each([503, 403])("fails closed when the history answers %i, saying why", async (code) => {
    status = code;
    const v = await guard(once);
    expect(v.action).toBe("fail");
    expect(v.reason).toContain("cannot read the execution history");
    expect(v.reason).toContain("at most once per day");
  });

  it("makes the runner exit 1 without calling run() when the history cannot be read", async () => {
    status = 503;
    let ran = false;
    const job = fakeJob({
      name: "alerts",
      oncePerDay: true,
      ifRunning: "skip",
      run: async () => {
        ran = true;
        return { status: "succeeded", message: "" };
      },
    });
    const io = capture();
    const code = await runEntrypoint(["alerts"], {
      catalog: [job],
      env: env(),
      stdout: io.stdout,
      stderr: io.stderr,
      sleep: async () => {},
    });
    expect([code, ran]).toEqual([1, false]);
    expect(io.lines().at(-1)?.message).toMatch(/alerts failed closed: cannot read the execution history/);
  });
});

describe("manual jobs started twice", () => {
  it("refuse the second run while an older one is running, naming it", async () => {
    executions = [me, { name: full("older"), createTime: "2026-11-22T07:59:00Z" }];
    const v = await guard(manual);
    expect(v).toMatchObject({ action: "refuse", other: "older" });
    expect(v.reason).toContain("a second org-sync-all at the same time is refused");
  });

  it("run when the older one has finished", async () => {
    executions = [me, done("older", "2026-11-22T07:59:00Z")];
    expect((await guard(manual)).action).toBe("run");
  });

  it("run (warning) when the history cannot be read: they are idempotent", async () => {
    status = 503;
    expect((await guard(manual)).action).toBe("run");
  });
});
