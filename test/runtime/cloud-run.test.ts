import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type GuardOptions, guardRun } from "../../src/runtime/cloud-run.ts";
import { loadConfig } from "../../src/runtime/config.ts";
import { createLogger } from "../../src/runtime/logger.ts";
import { runEntrypoint } from "../../src/runtime/runner.ts";
import { capture, fakeJob } from "./helpers/jobs.ts";
import { json, startServer, type TestServer } from "./helpers/server.ts";

const JOB = "quota-reset-sandbox";
const EXEC = `${JOB}-b2`;
const path = `/v2/projects/sandbox-project/locations/us-central1/jobs/${JOB}/executions`;
const full = (name: string) =>
  `projects/sandbox-project/locations/us-central1/jobs/${JOB}/executions/${name}`;

let cloudRun: TestServer;
let executions: Record<string, unknown>[];

beforeAll(async () => {
  cloudRun = await startServer((req, res) =>
    req.url?.startsWith(path)
      ? json(res, 200, { executions })
      : json(res, 404, { error: { message: "no such job" } }),
  );
});
afterAll(() => cloudRun.close());
beforeEach(() => {
  cloudRun.reset();
  executions = [];
});

const env = () => ({
  ENVIRONMENT: "sandbox",
  GCP_PROJECT_ID: "sandbox-project",
  CLOUD_RUN_API_URL: cloudRun.url,
  CLOUD_RUN_JOB: JOB,
  CLOUD_RUN_EXECUTION: EXEC,
});

const skipping: GuardOptions["job"] = {
  name: "quota-reset",
  ifRunning: "skip",
  oncePerDay: false,
  schedule: null,
};
const checkOverlap = (options: Omit<GuardOptions, "job" | "args">) =>
  guardRun({ ...options, job: skipping, args: [] });

async function verdict(extraEnv: Record<string, string> = {}, job = skipping, args: string[] = []) {
  const lines: string[] = [];
  const { config } = loadConfig(fakeJob({}), { ...env(), ...extraEnv });
  const result = await guardRun({
    job,
    args,
    config,
    log: createLogger({ write: (l) => lines.push(l) }),
    now: () => new Date("2026-11-22T00:10:00Z"),
    sleep: async () => {},
  });
  return { result, lines };
}

describe("overlap guard", () => {
  it.each([
    {
      case: "an older execution is still running",
      list: [{ name: full("quota-reset-sandbox-a1"), createTime: "2026-11-22T00:00:00Z" }],
      skip: true,
    },
    {
      case: "the older execution has completed",
      list: [
        {
          name: full("quota-reset-sandbox-a1"),
          createTime: "2026-11-22T00:00:00Z",
          completionTime: "2026-11-22T00:03:00Z",
        },
      ],
      skip: false,
    },
    {
      case: "only a newer execution is running",
      list: [{ name: full("quota-reset-sandbox-c3"), createTime: "2026-11-22T00:09:00Z" }],
      skip: false,
    },
    { case: "no other execution exists", list: [], skip: false },
  ])("skip=$skip when $case", async ({ list, skip }) => {
    executions = [{ name: full(EXEC), createTime: "2026-11-22T00:05:00Z" }, ...list];
    const { result } = await verdict();
    expect(result.action === "skip").toBe(skip);
    if (result.action === "skip") expect(result.other).toBe("quota-reset-sandbox-a1");
    expect(cloudRun.requests).toHaveLength(1);
    // Against CLOUD_RUN_API_URL no token is fetched or sent.
    expect(cloudRun.requests[0]?.headers.authorization).toBeUndefined();
  });

  it("compares with the clock when its own execution is not listed yet", async () => {
    executions = [{ name: full("quota-reset-sandbox-a1"), createTime: "2026-11-22T00:09:59Z" }];
    expect((await verdict()).result.action).toBe("skip");
  });

  it("does not call the API outside a Cloud Run execution", async () => {
    const { config } = loadConfig(fakeJob({}), { ENVIRONMENT: "sandbox", CLOUD_RUN_API_URL: cloudRun.url });
    const result = await checkOverlap({
      config,
      log: createLogger({ write: () => {} }),
      now: () => new Date(),
    });
    expect(result.action).toBe("run");
    expect(cloudRun.requests).toHaveLength(0);
  });

  it("never asks the metadata server in the sandbox when CLOUD_RUN_API_URL is missing", async () => {
    const lines: string[] = [];
    const { CLOUD_RUN_API_URL: _unset, ...rest } = env();
    const { config } = loadConfig(fakeJob({}), rest);
    const result = await checkOverlap({
      config,
      log: createLogger({ write: (l) => lines.push(l) }),
      now: () => new Date(),
    });
    expect(result).toEqual({ action: "run", reason: "overlap check failed" });
    expect(JSON.parse(lines[0] ?? "{}").severity).toBe("WARNING");
    expect(cloudRun.requests).toHaveLength(0);
  });

  it("warns and proceeds when the check itself fails", async () => {
    const { result, lines } = await verdict({ CLOUD_RUN_JOB: "missing-job" });
    expect(result.action).toBe("run");
    expect(cloudRun.requests).toHaveLength(1); // a 404 is not retried
    const warning = JSON.parse(lines.at(-1) ?? "{}");
    expect(warning.severity).toBe("WARNING");
    expect(warning.message).toMatch(/Overlap check failed, running anyway.*status 404/);
  });

  it("makes the runner skip cleanly (exit 0, run() not called, the other execution named)", async () => {
    executions = [
      { name: full(EXEC), createTime: "2026-11-22T00:05:00Z" },
      { name: full("quota-reset-sandbox-a1"), createTime: "2026-11-22T00:00:00Z" },
    ];
    let ran = false;
    const job = fakeJob({
      ifRunning: "skip",
      run: async () => {
        ran = true;
        return { status: "succeeded", message: "" };
      },
    });
    const io = capture();
    const code = await runEntrypoint(["fake-job"], {
      catalog: [job],
      env: env(),
      stdout: io.stdout,
      stderr: io.stderr,
    });
    expect(code).toBe(0);
    expect(ran).toBe(false);
    expect(io.lines()).toEqual([
      expect.objectContaining({ status: "skipped", other_execution: "quota-reset-sandbox-a1", exit_code: 0 }),
    ]);
  });

  it("is not consulted for a job that runs whatever is running", async () => {
    executions = [{ name: full("quota-reset-sandbox-a1"), createTime: "2026-11-22T00:00:00Z" }];
    const io = capture();
    const code = await runEntrypoint(["fake-job"], {
      catalog: [fakeJob({})],
      env: env(),
      stdout: io.stdout,
      stderr: io.stderr,
    });
    expect(code).toBe(0);
    expect(cloudRun.requests).toHaveLength(0);
  });
});
