/**
 * The Cloud Scheduler v1 emulator through the real `@google-cloud/scheduler` REST client, and its clock:
 * a tick POSTs the job's target (the emulated Cloud Run `:run`) and starts an execution.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../../sandbox/index.ts";
import { nextRun } from "../../../sandbox/scheduler/model.ts";
import { FIXTURE_ENTRY, jobBody, PARENT, runClients, schedulerClient } from "./helpers.ts";

let sandbox: Sandbox;
let scheduler: ReturnType<typeof schedulerClient>;
let run: ReturnType<typeof runClients>;
const START = new Date("2026-03-28T00:00:00Z");

beforeAll(async () => {
  sandbox = await startSandbox({
    data: false,
    quiet: true,
    entry: FIXTURE_ENTRY,
    scheduler: { autoTick: false, start: START },
  });
  scheduler = schedulerClient(sandbox.urls.scheduler);
  run = runClients(sandbox.urls.cloudRun);
  const [op] = await run.jobs.createJob({ parent: PARENT, jobId: "nightly", job: jobBody(["--exit", "0"]) });
  await op.promise();
});
afterAll(async () => {
  await scheduler.close();
  await run.jobs.close();
  await sandbox.stop();
});

/** A trigger as provisioning writes it: POST to Cloud Run's :run with an OAuth token. */
const trigger = (
  id: string,
  schedule: string,
  timeZone = "Etc/UTC",
  uri = `https://run.googleapis.com/v2/${PARENT}/jobs/nightly:run`,
) => ({
  name: `${PARENT}/jobs/${id}`,
  schedule,
  timeZone,
  attemptDeadline: { seconds: 180 },
  retryConfig: { retryCount: 1 },
  httpTarget: {
    uri,
    httpMethod: "POST" as const,
    body: Buffer.from("{}"),
    headers: { "Content-Type": "application/json" },
    oauthToken: {
      serviceAccountEmail: "invoker@sandbox-project.iam.gserviceaccount.com",
      scope: "https://www.googleapis.com/auth/cloud-platform",
    },
  },
});

const executionCount = async () =>
  Number((await run.jobs.getJob({ name: `${PARENT}/jobs/nightly` }))[0].executionCount ?? 0);

describe("Cloud Scheduler jobs", () => {
  it("creates, gets and lists a job with state, scheduleTime and defaults", async () => {
    const [created] = await scheduler.createJob({ parent: PARENT, job: trigger("daily-reset", "0 0 * * *") });
    expect(String(created.state)).toMatch(/^(ENABLED|1)$/);
    const [got] = await scheduler.getJob({ name: `${PARENT}/jobs/daily-reset` });
    expect(new Date(Number(got.scheduleTime?.seconds) * 1000).toISOString()).toBe("2026-03-29T00:00:00.000Z");
    expect(got.timeZone).toBe("Etc/UTC");
    expect(got.userUpdateTime).toBeTruthy();
    const [list] = await scheduler.listJobs({ parent: PARENT });
    expect(list.map((j) => j.name)).toContain(`${PARENT}/jobs/daily-reset`);
  });

  it("refuses a second create with 409 and a missing job with 404", async () => {
    await expect(
      scheduler.createJob({ parent: PARENT, job: trigger("daily-reset", "0 0 * * *") }),
    ).rejects.toMatchObject({ code: 6 });
    await expect(scheduler.getJob({ name: `${PARENT}/jobs/none` })).rejects.toMatchObject({ code: 5 });
  });

  it.each([
    ["a bad cron", { schedule: "61 * * * *" }],
    ["a six-field cron", { schedule: "0 0 0 * * *" }],
    ["an unknown time zone", { timeZone: "Mars/Olympus" }],
    ["retryCount over 5", { retryConfig: { retryCount: 6 } }],
    ["attemptDeadline under 15s", { attemptDeadline: { seconds: 10 } }],
    ["attemptDeadline over 30 min", { attemptDeadline: { seconds: 1801 } }],
  ])("rejects %s with 400 INVALID_ARGUMENT", async (what, change) => {
    const job = { ...trigger(`bad-${what.replace(/\W+/g, "-")}`, "0 0 * * *"), ...change };
    await expect(scheduler.createJob({ parent: PARENT, job })).rejects.toMatchObject({ code: 3 });
  });

  it("patches only the fields in the update mask", async () => {
    const [updated] = await scheduler.updateJob({
      job: {
        name: `${PARENT}/jobs/daily-reset`,
        schedule: "0 2 * * *",
        description: "ignored: not in the mask",
      },
      updateMask: { paths: ["schedule"] },
    });
    expect(updated.schedule).toBe("0 2 * * *");
    expect(updated.description).toBeFalsy();
    expect(updated.httpTarget?.uri).toContain(":run");
    await expect(
      scheduler.updateJob({
        job: { name: `${PARENT}/jobs/daily-reset`, schedule: "nope" },
        updateMask: { paths: ["schedule"] },
      }),
    ).rejects.toMatchObject({ code: 3 });
  });

  it("a nested update mask replaces only that field and keeps its siblings", async () => {
    const name = `${PARENT}/jobs/masked`;
    await scheduler.createJob({ parent: PARENT, job: trigger("masked", "0 4 * * *") });
    // Out of band (another tool, the console): the backoff becomes 30s.
    await scheduler.updateJob({
      job: { name, retryConfig: { minBackoffDuration: { seconds: 30 } } },
      updateMask: { paths: ["retry_config.min_backoff_duration"] },
    });
    await scheduler.updateJob({
      job: { name, retryConfig: { retryCount: 3 } },
      updateMask: { paths: ["retry_config.retry_count"] },
    });
    const [job] = await scheduler.getJob({ name });
    expect([job.retryConfig?.retryCount, Number(job.retryConfig?.minBackoffDuration?.seconds)]).toEqual([
      3, 30,
    ]);
  });

  it("accepts the mask retryConfig,httpTarget.headers without repeating the target's uri", async () => {
    const name = `${PARENT}/jobs/masked`;
    const [updated] = await scheduler.updateJob({
      job: { name, retryConfig: { retryCount: 2 }, httpTarget: { headers: { "X-Run": "nightly" } } },
      updateMask: { paths: ["retryConfig", "httpTarget.headers"] },
    });
    expect({
      uri: updated.httpTarget?.uri,
      headers: updated.httpTarget?.headers,
      scope: updated.httpTarget?.oauthToken?.scope,
      retryCount: updated.retryConfig?.retryCount,
      minBackoff: Number(updated.retryConfig?.minBackoffDuration?.seconds),
    }).toEqual({
      uri: `https://run.googleapis.com/v2/${PARENT}/jobs/nightly:run`,
      headers: { "X-Run": "nightly" },
      scope: "https://www.googleapis.com/auth/cloud-platform",
      retryCount: 2,
      // The whole retryConfig was in the mask: what the body leaves out gets its default.
      minBackoff: 5,
    });
  });

  it("setting httpTarget.oidcToken by mask clears the oauthToken (they are one of)", async () => {
    const name = `${PARENT}/jobs/masked`;
    const oidcToken = {
      serviceAccountEmail: "invoker@sandbox-project.iam.gserviceaccount.com",
      audience: "x",
    };
    const [updated] = await scheduler.updateJob({
      job: { name, httpTarget: { oidcToken } },
      updateMask: { paths: ["http_target.oidc_token"] },
    });
    expect([updated.httpTarget?.oauthToken ?? null, updated.httpTarget?.oidcToken]).toEqual([
      null,
      oidcToken,
    ]);
  });

  it.each([["httpTarget.nope"], ["state"], ["schedule.minutes"], ["retry_config.retry_count.x"]])(
    "refuses the update mask path %s with 400 INVALID_ARGUMENT",
    async (path) => {
      await expect(
        scheduler.updateJob({ job: { name: `${PARENT}/jobs/masked` }, updateMask: { paths: [path] } }),
      ).rejects.toMatchObject({ code: 3 });
    },
  );

  it("computes the next run in the job's time zone across the DST change", () => {
    // Europe/Berlin moves to summer time on 2026-03-29: 09:00 local is 08:00Z before, 07:00Z after.
    expect(nextRun("0 9 * * *", "Europe/Berlin", new Date("2026-03-28T00:00:00Z")).toISOString()).toBe(
      "2026-03-28T08:00:00.000Z",
    );
    expect(nextRun("0 9 * * *", "Europe/Berlin", new Date("2026-03-28T12:00:00Z")).toISOString()).toBe(
      "2026-03-29T07:00:00.000Z",
    );
  });

  it("a clock tick POSTs the target with a bearer token, which starts an execution", async () => {
    await scheduler.createJob({
      parent: PARENT,
      job: trigger("berlin-morning", "0 9 * * *", "Europe/Berlin"),
    });
    sandbox.clock.set(new Date("2026-03-29T06:00:00Z"));
    const before = await executionCount();
    expect(await sandbox.clock.fireDue(new Date("2026-03-29T06:59:00Z"))).toEqual([]);
    const fired = await sandbox.clock.fireDue(new Date("2026-03-29T07:00:00Z"));
    expect(fired.map((f) => [f.job.split("/").at(-1), f.scheduleTime, f.httpStatus])).toEqual([
      ["berlin-morning", "2026-03-29T07:00:00.000Z", 200],
    ]);
    expect(await executionCount()).toBe(before + 1);
    const [job] = await scheduler.getJob({ name: `${PARENT}/jobs/berlin-morning` });
    expect(job.lastAttemptTime).toBeTruthy();
    expect(job.status?.code ?? 0).toBe(0);
  });

  it("paused jobs do not fire; resumed ones do", async () => {
    sandbox.clock.set(new Date("2026-03-30T06:00:00Z"));
    await scheduler.pauseJob({ name: `${PARENT}/jobs/berlin-morning` });
    const [paused] = await scheduler.getJob({ name: `${PARENT}/jobs/berlin-morning` });
    expect(String(paused.state)).toMatch(/^(PAUSED|2)$/);
    expect(await sandbox.clock.advance(3_600_000)).toEqual([]);
    await scheduler.resumeJob({ name: `${PARENT}/jobs/berlin-morning` });
    const fired = await sandbox.clock.advance(24 * 3_600_000);
    expect(fired.map((f) => f.job.split("/").at(-1))).toContain("berlin-morning");
  });

  it("records a failed attempt in status (the target answered 404)", async () => {
    const uri = `${sandbox.urls.cloudRun}/v2/${PARENT}/jobs/does-not-exist:run`;
    await scheduler.createJob({
      parent: PARENT,
      job: { ...trigger("broken", "*/5 * * * *", "Etc/UTC", uri), retryConfig: { retryCount: 0 } },
    });
    const [ran] = await scheduler.runJob({ name: `${PARENT}/jobs/broken` });
    expect(ran.status?.code).toBe(5);
    expect(ran.status?.message).toContain("404");
    await scheduler.deleteJob({ name: `${PARENT}/jobs/broken` });
    await expect(scheduler.getJob({ name: `${PARENT}/jobs/broken` })).rejects.toMatchObject({ code: 5 });
  });

  it.each([
    [
      "an oidcToken",
      { oidcToken: { serviceAccountEmail: "invoker@sandbox-project.iam.gserviceaccount.com" } },
      16,
      401,
    ],
    [
      "an oauthToken with a scope other than cloud-platform",
      { oauthToken: { scope: "https://www.googleapis.com/auth/devstorage.read_only" } },
      7,
      403,
    ],
  ])(
    "Cloud Run's :run refuses a trigger with %s, which the job's status records",
    async (_, token, code, http) => {
      const id = `auth-${code}`;
      const base = trigger(id, "0 5 * * *");
      const { oauthToken: _ignored, ...httpTarget } = base.httpTarget;
      const before = await executionCount();
      await scheduler.createJob({
        parent: PARENT,
        job: { ...base, retryConfig: { retryCount: 0 }, httpTarget: { ...httpTarget, ...token } },
      });
      const [ran] = await scheduler.runJob({ name: `${PARENT}/jobs/${id}` });
      expect([ran.status?.code, ran.status?.message?.includes(`answered ${http}`)]).toEqual([code, true]);
      expect(await executionCount()).toBe(before);
      await scheduler.deleteJob({ name: `${PARENT}/jobs/${id}` });
    },
  );

  it("runJob fires at once; the clock can also be moved over HTTP", async () => {
    const before = await executionCount();
    await scheduler.runJob({ name: `${PARENT}/jobs/daily-reset` });
    expect(await executionCount()).toBe(before + 1);
    const res = await fetch(`${sandbox.urls.scheduler}/sandbox/clock`, {
      method: "POST",
      body: JSON.stringify({ set: "2026-04-01T01:59:00Z" }),
    });
    expect((await res.json()).now).toMatch(/^2026-04-01T01:59/);
    const tick = await (
      await fetch(`${sandbox.urls.scheduler}/sandbox/clock`, {
        method: "POST",
        body: JSON.stringify({ advanceMs: 120_000 }),
      })
    ).json();
    expect(tick.fired.map((f: { job: string }) => f.job.split("/").at(-1))).toEqual(["daily-reset"]);
    expect(await executionCount()).toBe(before + 2);
  });

  it("calls the target with its method, headers, body and a bearer token for oauthToken", async () => {
    const seen: { method?: string; headers?: IncomingHttpHeaders; body?: string }[] = [];
    const target = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => {
        seen.push({ method: req.method as string, headers: req.headers, body });
        res.end("ok");
      });
    });
    await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
    try {
      const uri = `http://127.0.0.1:${(target.address() as AddressInfo).port}/hook`;
      const base = trigger("to-local", "0 3 * * *", "Etc/UTC", uri);
      const httpTarget = {
        ...base.httpTarget,
        httpMethod: "PUT" as const,
        body: Buffer.from("hello"),
        headers: { "X-Custom": "1" },
      };
      const job = { ...base, httpTarget };
      await scheduler.createJob({ parent: PARENT, job });
      await scheduler.runJob({ name: `${PARENT}/jobs/to-local` });
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ method: "PUT", body: "hello" });
      expect(seen[0]?.headers).toMatchObject({
        authorization: "Bearer sandbox-oauth-token",
        "x-custom": "1",
        "x-cloudscheduler": "true",
      });
    } finally {
      await new Promise((resolve) => target.close(resolve));
    }
  });
});
