import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { JobContext } from "../../src/runtime/context.ts";
import { ConfigError } from "../../src/runtime/errors.ts";
import type { AnyJob, JobOutcome } from "../../src/runtime/job.ts";
import { type RunnerDeps, runEntrypoint, type StopSignal } from "../../src/runtime/runner.ts";
import { capture, fakeJob } from "./helpers/jobs.ts";
import { json, startServer, type TestServer } from "./helpers/server.ts";

const ENV = { ENVIRONMENT: "sandbox" };
const KEY = "root-key-0123456789";
let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const greet = fakeJob({
  name: "greet",
  description: "Says hello to an organisation.",
  flags: {
    loud: { type: "boolean", description: "Shout.", default: false },
    org: {
      type: "string",
      description: "Organisation slug.",
      schema: z.string().regex(/^[a-z]+$/, "must be lowercase letters"),
    },
    times: {
      type: "string",
      description: "How many times.",
      default: "1",
      schema: z.coerce.number().int().min(1),
    },
  },
  run: async (ctx) => ({
    status: "succeeded",
    message: `hello ${String(ctx.flags.org)} x${String(ctx.flags.times)}`,
    summary: { loud: ctx.flags.loud },
  }),
});
const other = fakeJob({ name: "other", description: "Another job." });

function deps(
  catalog: readonly AnyJob[],
  env: Record<string, string | undefined> = ENV,
  extra: Partial<RunnerDeps> = {},
) {
  const io = capture();
  return {
    io,
    deps: { catalog, env, stdout: io.stdout, stderr: io.stderr, entry: "job", ...extra } satisfies RunnerDeps,
  };
}

describe("invocation", () => {
  it.each([[["nope"]], [[]]])("lists the jobs and exits 2 for %j", async (argv) => {
    const { io, deps: d } = deps([greet, other]);
    expect(await runEntrypoint(argv, d)).toBe(2);
    expect(io.err).toContain("greet  Says hello to an organisation.");
    expect(io.err).toContain("other  Another job.");
    expect(io.err).toMatch(argv.length ? /Unknown job "nope"/ : /No job given/);
    expect(io.out).toBe("");
  });

  it("prints the job list on --help and exits 0", async () => {
    const { io, deps: d } = deps([greet, other]);
    expect(await runEntrypoint(["--help"], d)).toBe(0);
    expect(io.out).toContain("Usage: job <job> [flags]");
    expect(io.out).toContain("greet  Says hello");
  });

  it("prints a job's flags with descriptions and defaults on <job> --help", async () => {
    const { io, deps: d } = deps([greet]);
    expect(await runEntrypoint(["greet", "--help"], d)).toBe(0);
    expect(io.out).toContain("greet — Says hello to an organisation.");
    expect(io.out).toMatch(/--loud\s+Shout\. \(default: false\)/);
    expect(io.out).toMatch(/--org <value>\s+Organisation slug\.\n/);
    expect(io.out).toMatch(/--times <value>\s+How many times\. \(default: 1\)/);
  });

  it.each([
    [{}, "scheduler-jobs dev (commit dev)\n"],
    [{ RELEASE_VERSION: "1.2.3", GIT_COMMIT: "abc1234" }, "scheduler-jobs 1.2.3 (commit abc1234)\n"],
  ])("prints the version with %j", async (env, expected) => {
    const { io, deps: d } = deps([greet], env);
    expect(await runEntrypoint(["--version"], d)).toBe(0);
    expect(io.out).toBe(expected);
  });

  it("reports bad flags and bad config together, exits 2 and runs nothing", async () => {
    let ran = false;
    const job = fakeJob({
      ...greet,
      uses: ["admin-api"],
      run: async () => {
        ran = true;
        return { status: "succeeded", message: "" };
      },
    });
    const { io, deps: d } = deps([job], { ENVIRONMENT: "qa", CA_ROOT_API_KEY: KEY });
    expect(await runEntrypoint(["greet", "--shout", "--org", "ACME", "--times", "0"], d)).toBe(2);
    expect(ran).toBe(false);
    const [entry, ...rest] = io.lines();
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({ severity: "ERROR", status: "invalid", exit_code: 2 });
    const problems = entry?.problems as string[];
    expect(problems.map((p) => p.split(":")[0])).toEqual(["--shout", "--org", "--times", "ENVIRONMENT"]);
    expect(io.out).not.toContain(KEY);
  });
});

describe("running a job", () => {
  it("passes parsed flags and logs one summary line with status, message, summary and duration", async () => {
    const { io, deps: d } = deps([greet], {
      ...ENV,
      RELEASE_VERSION: "2.0.0",
      CLOUD_RUN_EXECUTION: "greet-x1",
      CLOUD_RUN_TASK_INDEX: "1",
      CLOUD_RUN_TASK_COUNT: "2",
      CLOUD_RUN_TASK_ATTEMPT: "1",
    });
    expect(await runEntrypoint(["greet", "--org", "acme", "--times", "3", "--loud"], d)).toBe(0);
    const lines = io.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      severity: "NOTICE",
      message: "greet succeeded: hello acme x3",
      job: "greet",
      environment: "sandbox",
      execution: "greet-x1",
      task: 1,
      attempt: 1,
      release: "2.0.0",
      status: "succeeded",
      summary: { loud: true },
      exit_code: 0,
    });
    expect(typeof lines[0]?.duration_ms).toBe("number");
  });

  const boom = async (): Promise<JobOutcome> => {
    throw new Error("boom");
  };
  const badConfig = async (): Promise<JobOutcome> => {
    throw new ConfigError("DAYS_TO_KEEP: bad");
  };
  it.each([
    {
      outcome: "succeeded",
      code: 0,
      severity: "NOTICE",
      run: async (): Promise<JobOutcome> => ({ status: "succeeded", message: "ok" }),
    },
    {
      outcome: "skipped",
      code: 0,
      severity: "INFO",
      run: async (): Promise<JobOutcome> => ({ status: "skipped", message: "not the 1st" }),
    },
    {
      outcome: "failed",
      code: 1,
      severity: "ERROR",
      run: async (): Promise<JobOutcome> => ({ status: "failed", message: "2 orgs failed" }),
    },
    { outcome: "a thrown error", code: 1, severity: "ERROR", run: boom },
    { outcome: "a thrown ConfigError", code: 2, severity: "ERROR", run: badConfig },
  ])("maps $outcome to exit code $code", async ({ run, code, severity }) => {
    const { io, deps: d } = deps([fakeJob({ run })]);
    expect(await runEntrypoint(["fake-job"], d)).toBe(code);
    const lines = io.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ severity, exit_code: code });
  });

  it("gives the job a shard, a clock and a daily idempotency key", async () => {
    let seen: Partial<JobContext> & { key?: string } = {};
    const run = async (ctx: JobContext) => {
      seen = { shard: ctx.shard, key: ctx.idempotencyKey("acme") };
      return { status: "succeeded", message: ctx.idempotencyKey() } as const;
    };
    const { io, deps: d } = deps(
      [fakeJob({ run })],
      { ...ENV, CLOUD_RUN_TASK_INDEX: "2", CLOUD_RUN_TASK_COUNT: "5" },
      { now: () => new Date("2026-12-01T23:59:00Z") },
    );
    expect(await runEntrypoint(["fake-job"], d)).toBe(0);
    expect(seen.key).toBe("fake-job:2026-12-01:acme");
    expect([seen.shard?.index, seen.shard?.count, seen.shard?.attempt]).toEqual([2, 5, 0]);
    expect(io.lines()[0]?.message).toBe("fake-job succeeded: fake-job:2026-12-01");
  });

  it("refuses a client the job does not use (exit 2)", async () => {
    const run = async (ctx: JobContext) => {
      await ctx.api.resetDailyQuota();
      return { status: "succeeded", message: "" } as const;
    };
    const { io, deps: d } = deps([fakeJob({ run })], {
      ...ENV,
      API_SERVICE_URL: server.url,
      CA_ROOT_API_KEY: KEY,
    });
    expect(await runEntrypoint(["fake-job"], d)).toBe(2);
    expect(io.lines()[0]?.message).toMatch(/used ctx.api but does not declare it: add "admin-api"/);
    expect(server.requests).toHaveLength(0);
  });

  it("calls the admin API with the key, and never logs the key", async () => {
    server.handle((req, res) =>
      json(res, 200, {
        success: true,
        orgs_processed: 2,
        orgs_created: 0,
        orgs_skipped: 0,
        message: `done for ${req.headers["x-ca-root-key"]}`,
      }),
    );
    const run = async (ctx: JobContext) => {
      const result = await ctx.api.resetDailyQuota();
      ctx.log.info("API answered", { result });
      return { status: "succeeded", message: result.message } as const;
    };
    const job = fakeJob({ name: "quota-reset", uses: ["admin-api"], routes: ["resetDailyQuota"], run });
    const { io, deps: d } = deps(
      [job],
      { ...ENV, API_SERVICE_URL: server.url, CA_ROOT_API_KEY: KEY },
      { now: () => new Date("2026-11-22T00:00:05Z") },
    );
    expect(await runEntrypoint(["quota-reset"], d)).toBe(0);
    expect(server.requests.map((r) => [r.method, r.url, r.headers["x-ca-root-key"]])).toEqual([
      ["POST", "/api/v1/quota/reset-daily", KEY],
    ]);
    expect(io.out).toContain("done for [redacted]");
    expect(io.out).not.toContain(KEY);
  });

  it("accepts a plain-http API host name in the sandbox (a container network), as config does", async () => {
    const run = async (ctx: JobContext) =>
      ({ status: "succeeded", message: typeof ctx.api.bootstrapStatus }) as const;
    const job = fakeJob({ run, uses: ["admin-api"] });
    const env = { ENVIRONMENT: "sandbox", API_SERVICE_URL: "http://admin-api:8000", CA_ROOT_API_KEY: KEY };
    const { io, deps: d } = deps([job], env);
    expect(await runEntrypoint(["fake-job"], d)).toBe(0);
    expect(io.lines()[0]?.message).toBe("fake-job succeeded: function");
  });

  it("redacts secrets from a thrown error and its cause", async () => {
    const run = async () => {
      throw new Error(`outer ${KEY}`, { cause: new Error(`inner ${KEY}`) });
    };
    const { io, deps: d } = deps([fakeJob({ run, uses: ["admin-api"] })], {
      ...ENV,
      API_SERVICE_URL: server.url,
      CA_ROOT_API_KEY: KEY,
    });
    expect(await runEntrypoint(["fake-job"], d)).toBe(1);
    expect(io.out).not.toContain(KEY);
    expect(io.lines()[0]?.error).toMatchObject({
      message: "outer [redacted]",
      cause: { message: "inner [redacted]" },
    });
  });
});

describe("SIGTERM", () => {
  /** A job working through 10 items, one "request" (50 ms) at a time, that stops starting items on abort. */
  function worker(state: { started: number; finished: number; abortSeen: boolean }, honourSignal = true) {
    return fakeJob({
      run: async (ctx) => {
        for (let i = 0; i < 10; i++) {
          if (honourSignal && ctx.signal.aborted) {
            state.abortSeen = true;
            return {
              status: "failed",
              message: `stopped: ${10 - i} items left undone`,
              summary: { done: i, left: 10 - i },
            };
          }
          state.started++;
          await new Promise((r) => setTimeout(r, 50));
          state.finished++;
        }
        if (!honourSignal) await new Promise((r) => setTimeout(r, 5_000));
        return { status: "succeeded", message: "all 10 done" };
      },
    });
  }

  it("aborts the signal, lets the in-flight item finish, logs what was left undone and exits 143", async () => {
    const state = { started: 0, finished: 0, abortSeen: false };
    let fire: (s: StopSignal) => void = () => {};
    const { io, deps: d } = deps([worker(state)], ENV, { onSignal: (h) => (fire = h), graceMs: 2_000 });
    const exit = runEntrypoint(["fake-job"], d);
    await new Promise((r) => setTimeout(r, 120));
    fire("SIGTERM");
    expect(await exit).toBe(143);
    expect(state.abortSeen).toBe(true);
    expect(state.finished).toBe(state.started);
    expect(state.started).toBeLessThan(10);
    const lines = io.lines();
    expect(lines[0]).toMatchObject({ severity: "WARNING", signal: "SIGTERM" });
    expect(lines.at(-1)).toMatchObject({
      status: "interrupted",
      outcome: "failed",
      exit_code: 143,
      summary: { left: 10 - state.started },
    });
    expect(lines.at(-1)?.message).toMatch(/interrupted by SIGTERM.*items left undone/);
  });

  it("gives up after the grace period when run() does not settle", async () => {
    const state = { started: 0, finished: 0, abortSeen: false };
    let fire: (s: StopSignal) => void = () => {};
    const { io, deps: d } = deps([worker(state, false)], ENV, { onSignal: (h) => (fire = h), graceMs: 150 });
    const started = Date.now();
    const exit = runEntrypoint(["fake-job"], d);
    await new Promise((r) => setTimeout(r, 60));
    fire("SIGINT");
    expect(await exit).toBe(130);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(io.lines().at(-1)).toMatchObject({ status: "interrupted", signal: "SIGINT", exit_code: 130 });
    expect(io.lines().at(-1)?.message).toMatch(
      /did not finish within 150 ms\. No request was in flight\..*left undone/,
    );
  });

  it("exits 0 with the summary when the work had already finished as the signal arrived (nothing for Cloud Run to retry)", async () => {
    let fire: (s: StopSignal) => void = () => {};
    const job = fakeJob({
      run: async () => {
        fire("SIGTERM"); // arrives while run() is wrapping up: every item is done
        await new Promise((r) => setTimeout(r, 30));
        return { status: "succeeded", message: "3 notifications sent", summary: { notifications_sent: 3 } };
      },
    });
    const { io, deps: d } = deps([job], ENV, { onSignal: (h) => (fire = h), graceMs: 2_000 });
    expect(await runEntrypoint(["fake-job"], d)).toBe(0);
    expect(io.lines().at(-1)).toMatchObject({
      status: "succeeded",
      signal: "SIGTERM",
      exit_code: 0,
      summary: { notifications_sent: 3 },
    });
    expect(io.lines().at(-1)?.message).toMatch(
      /3 notifications sent .*SIGTERM arrived, but the work had already finished/,
    );
  });

  it("names each request still in flight at the end of the grace period as outcome unknown", async () => {
    server.handle(async (_req, res) => {
      await new Promise((r) => setTimeout(r, 1_500));
      json(res, 200, {});
    });
    let fire: (s: StopSignal) => void = () => {};
    const job = fakeJob({
      uses: ["admin-api"],
      routes: ["syncOrganization"],
      run: async (ctx) => {
        await Promise.all(["a", "b"].map((o) => ctx.api.syncOrganization(o)));
        return { status: "succeeded", message: "synced" };
      },
    });
    const env = { ...ENV, API_SERVICE_URL: server.url, CA_ROOT_API_KEY: KEY };
    const { io, deps: d } = deps([job], env, { onSignal: (h) => (fire = h), graceMs: 200 });
    const exit = runEntrypoint(["fake-job"], d);
    await new Promise((r) => setTimeout(r, 150));
    fire("SIGTERM");
    expect(await exit).toBe(143);
    const last = io.lines().at(-1);
    expect(last?.outcome_unknown).toEqual([
      `POST ${server.url}/api/v1/organizations/a/sync`,
      `POST ${server.url}/api/v1/organizations/b/sync`,
    ]);
    expect(last?.message).toMatch(
      /organizations\/a\/sync \(outcome unknown\); POST .*organizations\/b\/sync \(outcome unknown\)/,
    );
  });
});
