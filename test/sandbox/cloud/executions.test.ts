/**
 * Executions really run: tasks are child processes of the fixture entry, with the container contract env,
 * secrets, timeout (SIGTERM then SIGKILL), retries, taskCount/parallelism and cancel; logs are served.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogEntry } from "../../../sandbox/cloud-run/logs.ts";
import { type Sandbox, startSandbox } from "../../../sandbox/index.ts";
import { FIXTURE_ENTRY, jobBody, PARENT, runClients, waitFor } from "./helpers.ts";

let sandbox: Sandbox;
let clients: ReturnType<typeof runClients>;

beforeAll(async () => {
  sandbox = await startSandbox({
    data: false,
    quiet: true,
    entry: FIXTURE_ENTRY,
    graceMs: 500,
    scheduler: { autoTick: false },
  });
  clients = runClients(sandbox.urls.cloudRun);
});
afterAll(async () => {
  await clients.jobs.close();
  await clients.executions.close();
  await sandbox.stop();
});

async function createJob(id: string, body: ReturnType<typeof jobBody>): Promise<string> {
  const [op] = await clients.jobs.createJob({ parent: PARENT, jobId: id, job: body });
  await op.promise();
  return `${PARENT}/jobs/${id}`;
}

/** Runs the job and waits for the execution to end; returns it as the REST API shows it (enum names). */
async function runToEnd(job: string, overrides?: object) {
  const [op] = await clients.jobs.runJob({ name: job, ...(overrides ? { overrides } : {}) });
  const name = (op.metadata as { name: string }).name;
  await op.promise().catch(() => undefined);
  const execution = await (await fetch(`${sandbox.urls.cloudRun}/v2/${name}`)).json();
  return { name, id: name.split("/").at(-1) as string, execution };
}

async function entries(filter: string, orderBy = "timestamp asc"): Promise<LogEntry[]> {
  const res = await fetch(`${sandbox.urls.cloudRun}/v2/entries:list`, {
    method: "POST",
    body: JSON.stringify({ resourceNames: ["projects/sandbox-project"], filter, orderBy, pageSize: 1000 }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { entries: LogEntry[] }).entries;
}
const byExecution = (id: string) =>
  entries(`resource.type="cloud_run_job" AND labels."run.googleapis.com/execution_name"="${id}"`);
const payloads = (list: LogEntry[], message: string) =>
  list.filter((e) => e.jsonPayload?.message === message).map((e) => e.jsonPayload ?? {});

describe("executions", () => {
  it("runs every task with the container contract env and resolves runJob's operation with the execution", async () => {
    const job = await createJob("contract", jobBody(["--exit", "0"], { taskCount: 3 }));
    const [op] = await clients.jobs.runJob({ name: job });
    const [execution] = await op.promise();
    expect([execution.taskCount, execution.succeededCount, execution.failedCount]).toEqual([3, 3, 0]);
    expect(execution.completionTime).toBeTruthy();
    const id = execution.name?.split("/").at(-1) as string;
    const started = payloads(await byExecution(id), "task started");
    expect(started.map((p) => p.task).sort()).toEqual([0, 1, 2]);
    expect(
      started.every(
        (p) => p.job === "contract" && p.execution === id && p.taskCount === 3 && p.attempt === 0,
      ),
    ).toBe(true);
    const [jobNow] = await clients.jobs.getJob({ name: job });
    expect(jobNow.executionCount).toBe(1);
    expect(jobNow.latestCreatedExecution?.name).toBe(execution.name);
  });

  it("gives a task only its job's env, not the sandbox's keys or URLs (as on Cloud Run)", async () => {
    const job = await createJob(
      "isolated",
      jobBody(["--env", "CA_ROOT_API_KEY", "--env", "API_SERVICE_URL", "--env", "PATH"]),
    );
    const { id } = await runToEnd(job);
    const env = payloads(await byExecution(id), "task started")[0]?.env as Record<string, string | null>;
    expect([env.CA_ROOT_API_KEY, env.API_SERVICE_URL]).toEqual([null, null]);
    expect(env.PATH).toBeTruthy();
  });

  it("applies overrides: container args and env win, taskCount replaced", async () => {
    const job = await createJob(
      "overrides",
      jobBody(["--exit", "1"], {
        env: [
          { name: "MODE", value: "job" },
          { name: "KEEP", value: "kept" },
        ],
      }),
    );
    const { id, execution } = await runToEnd(job, {
      containerOverrides: [
        {
          args: ["--exit", "0", "--env", "MODE", "--env", "KEEP"],
          env: [{ name: "MODE", value: "override" }],
        },
      ],
      taskCount: 2,
      timeout: { seconds: 30 },
    });
    expect([execution.taskCount, execution.succeededCount]).toEqual([2, 2]);
    expect(execution.template.timeout).toBe("30s");
    expect(payloads(await byExecution(id), "task started")[0]?.env).toEqual({
      MODE: "override",
      KEEP: "kept",
    });
  });

  it("resolves secret env from the emulated Secret Manager", async () => {
    const secretEnv = {
      name: "CA_KEY",
      valueSource: { secretKeyRef: { secret: "ca-root-api-key-sandbox", version: "latest" } },
    };
    const job = await createJob("secrets", jobBody(["--env", "CA_KEY"], { env: [secretEnv] }));
    const { id, execution } = await runToEnd(job);
    expect(execution.succeededCount).toBe(1);
    expect(payloads(await byExecution(id), "task started")[0]?.env).toEqual({
      CA_KEY: sandbox.env.CA_ROOT_API_KEY,
    });
  });

  it("fails a task whose secret does not exist, with a log line naming it, and spawns nothing", async () => {
    const secretEnv = {
      name: "X",
      valueSource: { secretKeyRef: { secret: "no-such-secret", version: "latest" } },
    };
    const job = await createJob("missing-secret", jobBody([], { env: [secretEnv], maxRetries: 3 }));
    const { id, execution } = await runToEnd(job);
    expect([execution.failedCount, execution.retriedCount]).toEqual([1, 0]);
    const logs = await byExecution(id);
    expect(payloads(logs, "task started")).toEqual([]);
    expect(logs.map((e) => e.textPayload).join("\n")).toMatch(/no-such-secret.*not found in Secret Manager/);
    const completed = execution.conditions.find((c: { type: string }) => c.type === "Completed");
    expect(completed).toMatchObject({ state: "CONDITION_FAILED", executionReason: "NON_ZERO_EXIT_CODE" });
  });

  it("retries a failing task up to maxRetries and reports retriedCount", async () => {
    const job = await createJob("retries", jobBody(["--fail-attempts", "2"], { maxRetries: 3 }));
    const { id, execution } = await runToEnd(job);
    expect([execution.succeededCount, execution.failedCount, execution.retriedCount]).toEqual([1, 0, 2]);
    expect(payloads(await byExecution(id), "task started").map((p) => p.attempt)).toEqual([0, 1, 2]);
  });

  it("fails the execution when retries run out, and the operation rejects", async () => {
    const job = await createJob("exhausted", jobBody(["--exit", "3"], { maxRetries: 1 }));
    const [op] = await clients.jobs.runJob({ name: job });
    await expect(op.promise()).rejects.toThrow(/exit\(3\)/);
    const [execution] = await clients.executions.getExecution({
      name: (op.metadata as { name: string }).name,
    });
    expect([execution.failedCount, execution.retriedCount]).toEqual([1, 1]);
    const [jobNow] = await clients.jobs.getJob({ name: job });
    expect(String(jobNow.latestCreatedExecution?.completionStatus)).toMatch(/EXECUTION_FAILED|2/);
  });

  it("runs no more than `parallelism` tasks at once", async () => {
    const job = await createJob("parallel", jobBody(["--sleep", "1500"], { taskCount: 4, parallelism: 2 }));
    const { id, execution } = await runToEnd(job);
    expect(execution.succeededCount).toBe(4);
    const logs = await byExecution(id);
    const events = logs
      .filter((e) => e.jsonPayload?.message === "task started" || e.jsonPayload?.message === "task finished")
      .map((e) => ({
        at: Date.parse(e.timestamp),
        delta: e.jsonPayload?.message === "task started" ? 1 : -1,
      }))
      .sort((a, b) => a.at - b.at || a.delta - b.delta);
    let running = 0;
    let peak = 0;
    for (const e of events) {
      running += e.delta;
      peak = Math.max(peak, running);
    }
    expect(peak).toBe(2);
  });

  it("stops a task at its timeout with SIGTERM", async () => {
    const job = await createJob("timeout-term", jobBody(["--sleep", "20000"], { timeoutSeconds: 1 }));
    const started = Date.now();
    const { id, execution } = await runToEnd(job);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(execution.failedCount).toBe(1);
    const logs = await byExecution(id);
    expect(payloads(logs, "SIGTERM received: stopping")).toHaveLength(1);
    expect(logs.map((e) => e.textPayload ?? "").join("\n")).toMatch(/timed out/);
  });

  it("SIGKILLs a task that ignores SIGTERM once the grace period ends", async () => {
    const job = await createJob(
      "timeout-kill",
      jobBody(["--sleep", "20000", "--ignore-sigterm"], { timeoutSeconds: 1 }),
    );
    const { id, execution } = await runToEnd(job);
    expect(execution.failedCount).toBe(1);
    const logs = await byExecution(id);
    expect(payloads(logs, "SIGTERM ignored")).toHaveLength(1);
    expect(logs.map((e) => e.textPayload ?? "").join("\n")).toMatch(/SIGKILL/);
  });

  it("cancels a running execution: running tasks get SIGTERM, pending ones never start", async () => {
    const job = await createJob("cancel", jobBody(["--sleep", "20000"], { taskCount: 3, parallelism: 1 }));
    const [runOp] = await clients.jobs.runJob({ name: job });
    const name = (runOp.metadata as { name: string }).name;
    // Wait until the first task has started (and installed its SIGTERM handler).
    await waitFor(async () =>
      payloads(await byExecution(name.split("/").at(-1) as string), "task started").length ? true : undefined,
    );
    expect((await clients.executions.getExecution({ name }))[0].runningCount).toBe(1);
    const [cancelOp] = await clients.executions.cancelExecution({ name });
    await expect(cancelOp.promise()).rejects.toThrow(/cancelled/);
    const execution = await (await fetch(`${sandbox.urls.cloudRun}/v2/${name}`)).json();
    expect([execution.cancelledCount, execution.succeededCount, execution.runningCount]).toEqual([3, 0, 0]);
    expect(execution.conditions.find((c: { type: string }) => c.type === "Completed")).toMatchObject({
      executionReason: "CANCELLED",
    });
    const logs = await byExecution(name.split("/").at(-1) as string);
    expect(payloads(logs, "task started")).toHaveLength(1);
    expect(payloads(logs, "SIGTERM received: stopping")).toHaveLength(1);
  });

  it("lists a job's executions newest first, and deletes a finished one", async () => {
    const job = `${PARENT}/jobs/contract`;
    const { name } = await runToEnd(job);
    const [list] = await clients.executions.listExecutions({ parent: job });
    expect(list.map((e) => e.name)[0]).toBe(name);
    expect(list).toHaveLength(2);
    const [op] = await clients.executions.deleteExecution({ name });
    await op.promise();
    await expect(clients.executions.getExecution({ name })).rejects.toMatchObject({ code: 5 });
  });

  it("lists executions newest first, also when they start within the same millisecond", async () => {
    const job = await createJob("burst", jobBody(["--exit", "0"]));
    const started: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${sandbox.urls.cloudRun}/v2/${job}:run`, { method: "POST", body: "{}" });
      started.push(((await res.json()) as { metadata: { name: string } }).metadata.name);
    }
    await Promise.all(started.map((name) => sandbox.cloudRun.executions.settled(name)));
    // Make the same-millisecond case certain: give all three the first one's createTime.
    const store = sandbox.cloudRun.executions.deps.executions;
    const first = store.get(started[0] as string)?.createTime as string;
    for (const name of started) Object.assign(store.get(name) ?? {}, { createTime: first });
    const [list] = await clients.executions.listExecutions({ parent: job });
    expect(list.map((e) => e.name)).toEqual([...started].reverse());
  });

  it("deleting a job deletes its finished executions", async () => {
    const job = `${PARENT}/jobs/overrides`;
    const [list] = await clients.executions.listExecutions({ parent: job });
    expect(list.length).toBeGreaterThan(0);
    const [op] = await clients.jobs.deleteJob({ name: job });
    await op.promise();
    for (const execution of list)
      await expect(clients.executions.getExecution({ name: execution.name as string })).rejects.toMatchObject(
        { code: 5 },
      );
  });
});

describe("execution logs", () => {
  it("entries:list returns only the named execution's entries, with Cloud Run's labels and resource", async () => {
    const job = await createJob("logs", jobBody(["--text", "plain text line"], { taskCount: 2 }));
    const first = await runToEnd(job);
    const second = await runToEnd(job);
    const logs = await byExecution(first.id);
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.every((e) => e.labels["run.googleapis.com/execution_name"] === first.id)).toBe(true);
    expect(logs.some((e) => e.labels["run.googleapis.com/execution_name"] === second.id)).toBe(false);
    const started = logs.find((e) => e.jsonPayload?.message === "task started");
    expect(started).toMatchObject({
      severity: "INFO",
      resource: {
        type: "cloud_run_job",
        labels: { job_name: "logs", location: "us-central1", project_id: "sandbox-project" },
      },
      labels: { "run.googleapis.com/job_name": "logs", "run.googleapis.com/task_attempt": "0" },
    });
    expect(started?.jsonPayload).not.toHaveProperty("severity");
    expect(logs.filter((e) => e.textPayload === "plain text line")).toHaveLength(2);
  });

  it("narrows by task index and pages with nextPageToken", async () => {
    const { id } = await runToEnd(`${PARENT}/jobs/logs`);
    const filter = `resource.type="cloud_run_job" AND labels."run.googleapis.com/execution_name"="${id}" AND labels."run.googleapis.com/task_index"="1"`;
    const task1 = await entries(filter);
    expect(task1.length).toBeGreaterThan(0);
    expect(task1.every((e) => e.labels["run.googleapis.com/task_index"] === "1")).toBe(true);
    const res = await fetch(`${sandbox.urls.cloudRun}/v2/entries:list`, {
      method: "POST",
      body: JSON.stringify({ resourceNames: ["projects/sandbox-project"], filter, pageSize: 1 }),
    });
    const page = await res.json();
    expect(page.entries).toHaveLength(1);
    expect(page.nextPageToken).toBeTruthy();
  });

  it.each([
    ['textPayload:"x"', "an unsupported field"],
    ['labels."k8s-pod/app"="x"', "an unknown label"],
    ["resource.type=cloud_run_job OR severity=ERROR", "an OR"],
  ])("answers 400 for the filter %s (%s)", async (filter) => {
    const res = await fetch(`${sandbox.urls.cloudRun}/v2/entries:list`, {
      method: "POST",
      body: JSON.stringify({ resourceNames: ["projects/sandbox-project"], filter }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.status).toBe("INVALID_ARGUMENT");
  });

  it("serves the execution's log page at its logUri", async () => {
    const { execution, id } = await runToEnd(`${PARENT}/jobs/logs`);
    expect(execution.logUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    const page = await (await fetch(execution.logUri)).text();
    expect(page).toContain(id);
    expect(page).toContain("plain text line");
    expect(page).toContain("task started");
  });
});
