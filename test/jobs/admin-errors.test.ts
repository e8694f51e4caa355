import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import quotaReset from "../../jobs/daily/quota-reset.ts";
import { PermanentError, RetryableError } from "../../src/runtime/errors.ts";
import { runJob } from "../helpers/context.ts";
import { FAKE_ROOT_KEY, type FakeAdminApi, makeOrgs, startFakeAdminApi } from "../helpers/fake-admin-api.ts";

const ROUTE = "POST /api/v1/quota/reset-daily" as const;
let api: FakeAdminApi;
const env = (key = FAKE_ROOT_KEY) => ({ API_SERVICE_URL: api.url, CA_ROOT_API_KEY: key });

beforeAll(async () => {
  api = await startFakeAdminApi();
});
afterAll(() => api.close());
beforeEach(() => api.reset({ orgs: makeOrgs(2) }));

describe("admin API failures, seen through quota-reset", () => {
  it.each([
    [401, { detail: "X-CA-Root-Key header required" }],
    [404, { detail: "Not Found" }],
    [409, { detail: "Conflict" }],
    [400, { detail: "Bad request" }],
  ])("does not retry a %i and fails with the status, method and URL", async (status, body) => {
    api.script(ROUTE, { status, body });
    const { error } = await runJob(quotaReset, { env: env() });
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).status).toBe(status);
    expect((error as Error).message).toContain(`status ${status}`);
    expect((error as Error).message).toContain("/api/v1/quota/reset-daily");
    expect(api.calls(ROUTE)).toHaveLength(1);
  });

  it("fails with 403 on a wrong key and never prints the key", async () => {
    const wrong = "wrong-key-abcdefghijkl";
    const { error, logs } = await runJob(quotaReset, { env: env(wrong) });
    expect((error as PermanentError).status).toBe(403);
    expect(JSON.stringify(logs) + String((error as Error).message)).not.toContain(wrong);
    expect(api.calls(ROUTE)).toHaveLength(1);
  });

  it("waits as Retry-After asks on a 429, then succeeds", async () => {
    api.script(ROUTE, { status: 429, body: { detail: "slow down" }, headers: { "retry-after": "7" } });
    const { outcome, sleeps } = await runJob(quotaReset, { env: env() });
    expect(outcome?.status).toBe("succeeded");
    expect(sleeps).toHaveLength(1); // 7 s asked: never less, at most a quarter more
    expect(sleeps[0]).toBeGreaterThanOrEqual(7000);
    expect(sleeps[0]).toBeLessThanOrEqual(8750);
    expect(api.calls(ROUTE)).toHaveLength(2);
  });

  it("retries a 503 twice (the route's retries), then fails", async () => {
    api.always(ROUTE, { status: 503, body: { detail: "unavailable" } });
    const { error, sleeps } = await runJob(quotaReset, { env: env() });
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).message).toContain("gave up after 3 attempts");
    expect(api.calls(ROUTE)).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
  });

  it("retries a 500 (reset-daily is repeatable: it creates a day's row only where missing) and succeeds", async () => {
    api.script(ROUTE, { status: 500, body: { detail: "boom" } });
    const { outcome } = await runJob(quotaReset, { env: env() });
    expect(outcome?.status).toBe("succeeded");
    expect(api.calls(ROUTE)).toHaveLength(2);
  });

  it("times out a call that takes longer than the per-call timeout, and retries it", async () => {
    api.script(ROUTE, { delayMs: 1_000, body: {} });
    const { outcome } = await runJob(quotaReset, { env: env(), timeoutMs: 200 });
    expect(outcome?.status).toBe("succeeded");
    expect(api.calls(ROUTE)).toHaveLength(2);
  });

  it("turns an HTML page into an error naming method, URL and status", async () => {
    api.script(ROUTE, { status: 200, raw: "<html><body>Login</body></html>" });
    const { error } = await runJob(quotaReset, { env: env() });
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toMatch(/POST .*\/api\/v1\/quota\/reset-daily/);
    expect(api.calls(ROUTE)).toHaveLength(1);
  });

  it("refuses a 200 body without the fields the job reads", async () => {
    api.script(ROUTE, { body: { ok: true } });
    const { error } = await runJob(quotaReset, { env: env() });
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toMatch(/success|orgs_processed/);
  });
});
