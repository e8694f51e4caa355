import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createFaults, type FaultRule } from "../../../sandbox/faults.ts";
import { listen, type Service, sendJson } from "../../../sandbox/service.ts";

let clock = Date.parse("2026-03-20T10:00:30Z");
const faults = createFaults({}, { now: () => clock });
let reached = 0;
let svc: Service;

beforeAll(async () => {
  // A real server whose handler counts what gets through the faults (slow enough to overlap requests).
  svc = await listen(
    faults.wrap("adminApi", async (_req, res) => {
      reached += 1;
      await new Promise((r) => setTimeout(r, 60));
      sendJson(res, 200, { ok: true });
    }),
  );
});
afterAll(async () => {
  await svc?.close();
});
beforeEach(() => {
  faults.clear();
  reached = 0;
});

const hit = (path = "/api/v1/quota/reset-daily", method = "POST", headers: Record<string, string> = {}) =>
  fetch(`${svc.url}${path}`, { method, headers });

describe("fault rules", () => {
  it("fails a deterministic share of requests with the given status", async () => {
    faults.set("adminApi", { route: "POST /api/v1/*", status: 503, rate: 0.5 });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await hit()).status);
    expect(statuses.filter((s) => s === 503)).toHaveLength(5);
    expect(reached).toBe(5);
  });

  it("applies a counted rule N times, then removes it", async () => {
    faults.set("adminApi", { route: "*", status: 500, count: 2 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await hit()).status);
    expect(statuses).toEqual([500, 500, 200, 200]);
    expect(faults.list()).toEqual({});
  });

  it("adds latency and still reaches the handler", async () => {
    faults.set("adminApi", { route: "POST /api/v1/quota/reset-daily", latencyMs: 200 });
    const started = Date.now();
    expect((await hit()).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect(reached).toBe(1);
  });

  it.each([429, 503])("sends Retry-After on an injected %i", async (status) => {
    faults.set("adminApi", { route: "*", status, retryAfter: 7 });
    const res = await hit();
    expect(res.status).toBe(status);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(status);
    expect(reached).toBe(0);
  });

  it("drops the connection without an answer", async () => {
    faults.set("adminApi", { route: "*", drop: true, count: 1 });
    await expect(hit()).rejects.toThrow();
    expect(reached).toBe(0);
    expect((await hit()).status).toBe(200);
  });

  it("answers 429 at once to requests beyond maxConcurrent", async () => {
    faults.set("adminApi", { route: "*", maxConcurrent: 2, retryAfter: 1 });
    const statuses = (await Promise.all(Array.from({ length: 5 }, () => hit()))).map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(2);
    expect(statuses.filter((s) => s === 429)).toHaveLength(3);
    expect(reached).toBe(2);
    // The slots are released once the answers are out.
    expect((await hit()).status).toBe(200);
  });

  it("limits requests per minute per caller and blocks the next full minute after a 429", async () => {
    faults.set("adminApi", { route: "*", perMinute: 3 });
    const auth = { authorization: "Bearer one" };
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await hit(undefined, "POST", auth)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect((await hit(undefined, "POST", { authorization: "Bearer two" })).status).toBe(200);
    clock += 60_000;
    const blocked = await hit(undefined, "POST", auth);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    clock += 60_000;
    expect((await hit(undefined, "POST", auth)).status).toBe(200);
  });

  it.each<[string, string, string, boolean]>([
    ["POST /api/v1/admin/bootstrap", "POST", "/api/v1/admin/bootstrap", true],
    ["POST /api/v1/admin/bootstrap", "POST", "/api/v1/admin/bootstrap/sync", false],
    ["POST /api/v1/admin/bootstrap", "GET", "/api/v1/admin/bootstrap", false],
    ["POST /api/v1/admin/*", "POST", "/api/v1/admin/bootstrap/sync", true],
    ["/api/v1/organizations", "GET", "/api/v1/organizations", true],
    ["*", "DELETE", "/anything", true],
  ])("route %s matches %s %s: %s", async (route, method, path, matched) => {
    faults.set("adminApi", { route, status: 418 });
    expect((await hit(path, method)).status === 418).toBe(matched);
  });
});

describe("control routes and set-up", () => {
  it("listens on loopback only", () => {
    expect(svc.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("sets, lists and clears rules over HTTP on /__sandbox/faults", async () => {
    const rule: FaultRule = { route: "POST /api/v1/*", status: 503, retryAfter: 2 };
    const set = await fetch(`${svc.url}/__sandbox/faults`, { method: "POST", body: JSON.stringify(rule) });
    expect(((await set.json()) as { rules: FaultRule[] }).rules).toEqual([rule]);
    expect((await hit()).status).toBe(503);
    const listed = await fetch(`${svc.url}/__sandbox/faults`);
    expect(((await listed.json()) as { rules: FaultRule[] }).rules).toEqual([rule]);
    await fetch(`${svc.url}/__sandbox/faults`, { method: "DELETE" });
    expect((await hit()).status).toBe(200);
  });

  it("counts every request received, faulted or not, on /__sandbox/requests (control routes excluded)", async () => {
    await fetch(`${svc.url}/__sandbox/requests`, { method: "DELETE" });
    faults.set("adminApi", { route: "GET /api/v1/organizations", status: 503 });
    await hit();
    await hit();
    await hit("/api/v1/organizations", "GET");
    const res = await fetch(`${svc.url}/__sandbox/requests`);
    expect(await res.json()).toEqual({
      service: "adminApi",
      total: 3,
      routes: { "POST /api/v1/quota/reset-daily": 2, "GET /api/v1/organizations": 1 },
    });
    await fetch(`${svc.url}/__sandbox/requests`, { method: "DELETE" });
    expect(faults.requests("adminApi")).toEqual({});
  });

  it("refuses an invalid rule with 400 and a message naming the field", async () => {
    const res = await fetch(`${svc.url}/__sandbox/faults`, {
      method: "POST",
      body: JSON.stringify({ route: "*", rate: 2 }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/rate/);
    expect(faults.list()).toEqual({});
  });

  it("takes initial rules at creation and keeps services apart", () => {
    const f = createFaults({ supabase: [{ route: "*", perMinute: 60 }] });
    expect(f.list()).toEqual({ supabase: [{ route: "*", perMinute: 60 }] });
    f.set("bigquery", { route: "*", latencyMs: 5 });
    f.clear("supabase");
    expect(Object.keys(f.list())).toEqual(["bigquery"]);
  });
});
