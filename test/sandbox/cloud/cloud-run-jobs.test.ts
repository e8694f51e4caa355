/** The Cloud Run Admin API v2 emulator's job methods, through the real `@google-cloud/run` REST client. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../../sandbox/index.ts";
import { FIXTURE_ENTRY, jobBody, PARENT, runClients } from "./helpers.ts";

let sandbox: Sandbox;
let jobs: ReturnType<typeof runClients>["jobs"];

beforeAll(async () => {
  sandbox = await startSandbox({
    data: false,
    quiet: true,
    entry: FIXTURE_ENTRY,
    scheduler: { autoTick: false },
  });
  jobs = runClients(sandbox.urls.cloudRun).jobs;
});
afterAll(async () => {
  await jobs.close();
  await sandbox.stop();
});

const errorCode = async (promise: Promise<unknown>): Promise<number | undefined> =>
  promise.then(
    () => undefined,
    (error: { code?: number }) => error.code,
  );

describe("Cloud Run jobs", () => {
  it("creates a job and returns it with Google's defaults, generation and etag", async () => {
    const [op] = await jobs.createJob({ parent: PARENT, jobId: "create-get", job: jobBody(["--exit", "0"]) });
    const [job] = await op.promise();
    expect(job.name).toBe(`${PARENT}/jobs/create-get`);
    const [got] = await jobs.getJob({ name: `${PARENT}/jobs/create-get` });
    expect(got.uid).toBe(job.uid);
    expect(got.generation?.toString()).toBe("1");
    expect(got.etag).toMatch(/.+/);
    expect(Number(got.template?.template?.timeout?.seconds)).toBe(60);
    expect(got.template?.template?.maxRetries).toBe(0);
    expect(got.labels).toEqual({ env: "sandbox", "managed-by": "scheduler-jobs" });
    expect(got.terminalCondition?.type).toBe("Ready");
  });

  it("answers enums as numbers only when the request asks for enum-encoding=int", async () => {
    const name = `${PARENT}/jobs/create-get`;
    const asInt = await (
      await fetch(`${sandbox.urls.cloudRun}/v2/${name}?$alt=json;enum-encoding=int`)
    ).json();
    const asNames = await (await fetch(`${sandbox.urls.cloudRun}/v2/${name}`)).json();
    expect([asInt.launchStage, asInt.terminalCondition.state]).toEqual([4, 4]);
    expect([asNames.launchStage, asNames.terminalCondition.state]).toEqual(["GA", "CONDITION_SUCCEEDED"]);
    expect(asNames.template.template.timeout).toBe("60s");
  });

  it("fills Cloud Run's defaults (1 task, 3 retries, 600s) when the job leaves them out", async () => {
    const body = { template: { template: { containers: [{ image: "img" }] } } };
    const [op] = await jobs.createJob({ parent: PARENT, jobId: "defaults", job: body });
    const [job] = await op.promise();
    expect([
      job.template?.taskCount,
      job.template?.template?.maxRetries,
      Number(job.template?.template?.timeout?.seconds),
    ]).toEqual([1, 3, 600]);
  });

  it("refuses to create a job that exists with 409 ALREADY_EXISTS", async () => {
    expect(await errorCode(jobs.createJob({ parent: PARENT, jobId: "create-get", job: jobBody([]) }))).toBe(
      6,
    );
    const res = await fetch(`${sandbox.urls.cloudRun}/v2/${PARENT}/jobs?jobId=create-get`, {
      method: "POST",
      body: JSON.stringify(jobBody([])),
    });
    expect(res.status).toBe(409);
    expect((await res.json()).error.status).toBe("ALREADY_EXISTS");
  });

  it.each([
    ["an upper-case job id", "Bad_Name", {}],
    ["a job id longer than 63 characters", `j${"x".repeat(63)}`, {}],
    ["a job id ending with '-'", "ends-", {}],
    ["a missing image", "no-image", { template: { template: { containers: [{ args: [] }] } } }],
    [
      "a timeout over 168 h",
      "long-timeout",
      { template: { template: { timeout: { seconds: 168 * 3600 + 1 }, containers: [{ image: "i" }] } } },
    ],
    [
      "maxRetries over 10",
      "many-retries",
      { template: { template: { maxRetries: 11, containers: [{ image: "i" }] } } },
    ],
    [
      "taskCount over 10,000",
      "many-tasks",
      { template: { taskCount: 10_001, template: { containers: [{ image: "i" }] } } },
    ],
    [
      "an upper-case label value",
      "bad-label",
      { labels: { env: "Sandbox" }, template: { template: { containers: [{ image: "i" }] } } },
    ],
    [
      "a label key over 63 characters",
      "long-label",
      { labels: { [`k${"x".repeat(63)}`]: "v" }, template: { template: { containers: [{ image: "i" }] } } },
    ],
  ])("rejects %s with 400 INVALID_ARGUMENT", async (_what, jobId, override) => {
    const job = Object.keys(override).length ? override : jobBody([]);
    expect(await errorCode(jobs.createJob({ parent: PARENT, jobId, job }))).toBe(3);
    await expect(jobs.getJob({ name: `${PARENT}/jobs/${jobId}` })).rejects.toMatchObject({ code: 5 });
  });

  it("answers 404 NOT_FOUND for a job that does not exist", async () => {
    expect(await errorCode(jobs.getJob({ name: `${PARENT}/jobs/missing` }))).toBe(5);
    expect(await errorCode(jobs.runJob({ name: `${PARENT}/jobs/missing` }))).toBe(5);
    expect(await errorCode(jobs.deleteJob({ name: `${PARENT}/jobs/missing` }))).toBe(5);
  });

  it("updates a job, bumping generation and etag while keeping uid and createTime", async () => {
    const [before] = await jobs.getJob({ name: `${PARENT}/jobs/create-get` });
    const changed = jobBody(["--exit", "1"], { maxRetries: 2 });
    const [op] = await jobs.updateJob({ job: { ...changed, name: before.name } });
    const [after] = await op.promise();
    expect(after.generation?.toString()).toBe("2");
    expect(after.etag).not.toBe(before.etag);
    expect(after.uid).toBe(before.uid);
    expect(Number(after.createTime?.seconds)).toBe(Number(before.createTime?.seconds));
    expect(after.template?.template?.maxRetries).toBe(2);
  });

  it("validateOnly checks an update without applying it", async () => {
    const name = `${PARENT}/jobs/create-get`;
    const [op] = await jobs.updateJob({
      job: { ...jobBody(["--changed"], { maxRetries: 7 }), name },
      validateOnly: true,
    });
    await op.promise();
    const [job] = await jobs.getJob({ name });
    expect(job.template?.template?.maxRetries).toBe(2);
    expect(
      await errorCode(
        jobs.updateJob({ job: { name, template: { template: { containers: [{}] } } }, validateOnly: true }),
      ),
    ).toBe(3);
  });

  it("update of a missing job is 404, unless allowMissing creates it", async () => {
    const name = `${PARENT}/jobs/upserted`;
    expect(await errorCode(jobs.updateJob({ job: { ...jobBody([]), name } }))).toBe(5);
    const [op] = await jobs.updateJob({ job: { ...jobBody([]), name }, allowMissing: true });
    await op.promise();
    const [job] = await jobs.getJob({ name });
    expect(job.generation?.toString()).toBe("1");
  });

  it("refuses an update with a stale etag", async () => {
    const name = `${PARENT}/jobs/create-get`;
    expect(await errorCode(jobs.updateJob({ job: { ...jobBody([]), name, etag: '"stale"' } }))).toBe(10);
  });

  it("lists the jobs of a location, page by page", async () => {
    const [all] = await jobs.listJobs({ parent: PARENT });
    expect(all.map((j) => j.name?.split("/").at(-1))).toEqual(
      expect.arrayContaining(["create-get", "defaults", "upserted"]),
    );
    const [page, , response] = await jobs.listJobs({ parent: PARENT, pageSize: 1 }, { autoPaginate: false });
    expect(page).toHaveLength(1);
    expect(response?.nextPageToken).toBeTruthy();
    const [other] = await jobs.listJobs({ parent: "projects/sandbox-project/locations/europe-west1" });
    expect(other).toEqual([]);
  });

  it("deletes a job, which then is 404", async () => {
    const name = `${PARENT}/jobs/defaults`;
    const [op] = await jobs.deleteJob({ name });
    const [deleted] = await op.promise();
    expect(deleted.name).toBe(name);
    expect(await errorCode(jobs.getJob({ name }))).toBe(5);
  });

  it("answers create, update and delete with done:false, and the client's first poll finds them done", async () => {
    const name = `${PARENT}/jobs/polled`;
    const seen: [string, boolean | null | undefined, boolean | null | undefined][] = [];
    const [created] = await jobs.createJob({ parent: PARENT, jobId: "polled", job: jobBody([]) });
    const createdDone = created.done;
    expect((await created.promise())[0].name).toBe(name);
    seen.push(["create", createdDone, created.done]);
    const [updated] = await jobs.updateJob({ job: { ...jobBody(["--x"]), name } });
    const updatedDone = updated.done;
    expect((await updated.promise())[0].generation?.toString()).toBe("2");
    seen.push(["update", updatedDone, updated.done]);
    const [deleted] = await jobs.deleteJob({ name });
    const deletedDone = deleted.done;
    expect((await deleted.promise())[0].name).toBe(name);
    seen.push(["delete", deletedDone, deleted.done]);
    expect(seen).toEqual([
      ["create", false, true],
      ["update", false, true],
      ["delete", false, true],
    ]);
  });

  it("over the wire, a job write's operation carries the Job as metadata and is done on the next GET", async () => {
    const url = `${sandbox.urls.cloudRun}/v2/${PARENT}/jobs?jobId=wire-op`;
    const res = await fetch(url, { method: "POST", body: JSON.stringify(jobBody([])) });
    const op = await res.json();
    expect([res.status, op.done, op.metadata["@type"], op.metadata.name, op.response]).toEqual([
      200,
      false,
      "type.googleapis.com/google.cloud.run.v2.Job",
      `${PARENT}/jobs/wire-op`,
      undefined,
    ]);
    const polled = await (await fetch(`${sandbox.urls.cloudRun}/v2/${op.name}`)).json();
    expect([polled.done, polled.response.name]).toEqual([true, `${PARENT}/jobs/wire-op`]);
  });

  it("keeps every writable field (binaryAuthorization, client, launchStage…) and computes output-only ones", async () => {
    const name = `${PARENT}/jobs/all-fields`;
    const extra = {
      binaryAuthorization: { useDefault: true },
      client: "scheduler-jobs-ops",
      clientVersion: "1.2.3",
      launchStage: "BETA" as const,
      annotations: { "example.com/owner": "ops" },
    };
    const [created] = await jobs.createJob({
      parent: PARENT,
      jobId: "all-fields",
      job: { ...jobBody([]), ...extra },
    });
    await created.promise();
    const [before] = await jobs.getJob({ name });
    // A PATCH that repeats the fields (as provisioning does) plus forged output-only values.
    const forged = { uid: "forged", generation: 99, executionCount: 42, reconciling: true };
    const [updated] = await jobs.updateJob({
      job: { ...before, ...forged, template: jobBody(["--y"]).template },
    });
    await updated.promise();
    const [after] = await jobs.getJob({ name });
    expect({
      binaryAuthorization: after.binaryAuthorization?.useDefault,
      client: after.client,
      clientVersion: after.clientVersion,
      launchStage: after.launchStage,
      annotations: after.annotations,
      uid: after.uid,
      generation: after.generation?.toString(),
      executionCount: after.executionCount,
      reconciling: after.reconciling,
    }).toEqual({
      binaryAuthorization: true,
      client: "scheduler-jobs-ops",
      clientVersion: "1.2.3",
      launchStage: "BETA",
      annotations: { "example.com/owner": "ops" },
      uid: before.uid,
      generation: "2",
      executionCount: 0,
      reconciling: false,
    });
    // UpdateJob replaces the job: a field the body leaves out is gone, and the stage falls back to GA.
    const [replaced] = await jobs.updateJob({ job: { ...jobBody([]), name } });
    await replaced.promise();
    const [last] = await jobs.getJob({ name });
    expect([last.binaryAuthorization ?? null, last.client, last.launchStage]).toEqual([null, "", "GA"]);
  });

  it("answers with an injected fault, then normally once the fault is used up", async () => {
    sandbox.faults.set("cloudRun", { route: "GET /v2/*", status: 503, count: 1 });
    expect(await errorCode(jobs.getJob({ name: `${PARENT}/jobs/create-get` }))).toBe(14);
    const [job] = await jobs.getJob({ name: `${PARENT}/jobs/create-get` });
    expect(job.name).toBe(`${PARENT}/jobs/create-get`);
  });
});
