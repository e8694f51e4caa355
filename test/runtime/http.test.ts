import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError, PermanentError, RetryableError } from "../../src/runtime/errors.ts";
import { createHttpClient, type HttpClientOptions } from "../../src/runtime/http.ts";
import { createLogger } from "../../src/runtime/logger.ts";
import { json, startServer, type TestServer } from "./helpers/server.ts";

const KEY = "root-key-s3cr3t-value";
const okSchema = z.object({ ok: z.boolean() });
let server: TestServer;
let other: TestServer;
let delays: number[];
let logLines: string[];

beforeAll(async () => {
  [server, other] = await Promise.all([startServer(), startServer()]);
});
afterAll(async () => {
  await Promise.all([server.close(), other.close()]);
});
beforeEach(() => {
  server.reset();
  other.reset();
  delays = [];
  logLines = [];
});

function client(extra: Partial<HttpClientOptions> = {}) {
  return createHttpClient({
    baseUrl: server.url,
    headers: { "X-CA-Root-Key": KEY },
    sleep: async (ms) => {
      delays.push(ms);
    },
    log: createLogger({ write: (line) => logLines.push(line), level: "debug" }),
    ...extra,
  });
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the request to fail");
}

describe("retry policy", () => {
  it("does not retry a 404", async () => {
    server.handle((_req, res) => json(res, 404, { detail: "not found" }));
    const http = client();
    const error = await failure(http.request({ method: "GET", path: "/api/v1/x", schema: okSchema }));
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).status).toBe(404);
    expect(server.requests).toHaveLength(1);
    await http.close();
  });

  it("retries a 503 three times then fails", async () => {
    server.handle((_req, res) => json(res, 503, { detail: "down" }, { "x-request-id": "req-42" }));
    const http = client();
    const error = await failure(http.request({ method: "GET", path: "/api/v1/x", schema: okSchema }));
    expect(server.requests).toHaveLength(4);
    expect(delays).toHaveLength(3);
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.message).toContain(
      `Request failed with status 503: GET ${server.url}/api/v1/x (request id req-42)`,
    );
    expect(error.message).toContain("gave up after 4 attempts");
    const warnings = logLines.map((l) => JSON.parse(l)).filter((e) => e.severity === "WARNING");
    expect(warnings.map((w) => w.request_attempt)).toEqual([1, 2, 3]);
    expect(warnings.every((w) => w.status === 503 && typeof w.delay_ms === "number")).toBe(true);
    await http.close();
  });

  it("returns the data and the attempt count when a retry succeeds", async () => {
    server.handle((_req, res, _b, n) => (n < 3 ? json(res, 502, {}) : json(res, 200, { ok: true })));
    const http = client();
    const res = await http.request({ method: "GET", path: "/x", schema: okSchema });
    expect(res).toMatchObject({ status: 200, data: { ok: true }, attempts: 3 });
    await http.close();
  });

  it("backs off exponentially with jitter within the bounds", async () => {
    server.handle((_req, res) => json(res, 500, {}));
    const http = client({ minDelayMs: 100, maxDelayMs: 300, retries: 4 });
    await failure(http.request({ method: "GET", path: "/x", schema: okSchema }));
    const steps = [100, 200, 300, 300];
    delays.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual((steps[i] as number) / 2);
      expect(d).toBeLessThanOrEqual(steps[i] as number);
    });
    await http.close();
  });

  it.each([
    ["2", 2000, 2500],
    ["0", 0, 0],
    ["100000", 300_000, 300_000],
  ])(
    "honours Retry-After on 429 (Retry-After: %s → %i–%i ms: never shorter, a quarter more at most, within the clamp)",
    async (header, min, max) => {
      server.handle((_req, res, _b, n) =>
        n === 1 ? json(res, 429, {}, { "retry-after": header }) : json(res, 200, { ok: true }),
      );
      const http = client();
      const res = await http.request({ method: "GET", path: "/x", schema: okSchema });
      expect(res.attempts).toBe(2);
      expect(delays).toHaveLength(1);
      expect(delays[0]).toBeGreaterThanOrEqual(min);
      expect(delays[0]).toBeLessThanOrEqual(max);
      await http.close();
    },
  );

  it("spreads the retries of requests refused together with the same Retry-After", async () => {
    server.handle((_req, res, _b, n) =>
      n <= 8 ? json(res, 503, {}, { "retry-after": "1" }) : json(res, 200, { ok: true }),
    );
    const http = client();
    await Promise.all(
      Array.from({ length: 8 }, () => http.request({ method: "GET", path: "/x", schema: okSchema })),
    );
    expect(delays).toHaveLength(8);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(1250);
    expect(new Set(delays).size).toBeGreaterThan(1); // not all in the same instant
    await http.close();
  });

  it("honours Retry-After given as an HTTP date", async () => {
    const when = new Date(Date.now() + 30_000).toUTCString();
    server.handle((_req, res, _b, n) =>
      n === 1 ? json(res, 503, {}, { "retry-after": when }) : json(res, 200, { ok: true }),
    );
    const http = client();
    await http.request({ method: "GET", path: "/x", schema: okSchema });
    expect(delays[0]).toBeGreaterThan(25_000);
    expect(delays[0]).toBeLessThanOrEqual(35_000); // 30 s asked, up to 5 s of spread
    await http.close();
  });

  it("waits the default for a 429 without Retry-After (Supabase: a full minute)", async () => {
    server.handle((_req, res, _b, n) => (n === 1 ? json(res, 429, {}) : json(res, 200, { ok: true })));
    const http = client({ defaultRetryAfterMs: 60_000 });
    await http.request({ method: "POST", path: "/q", body: { query: "select 1" }, schema: okSchema });
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThanOrEqual(60_000);
    expect(delays[0]).toBeLessThanOrEqual(65_000);
    expect(server.requests).toHaveLength(2);
    await http.close();
  });

  it("does not retry a POST that is not idempotent", async () => {
    server.handle((_req, res) => json(res, 503, {}));
    const http = client();
    const error = await failure(http.request({ method: "POST", path: "/x", body: {}, schema: okSchema }));
    expect(error).toBeInstanceOf(RetryableError);
    expect(server.requests).toHaveLength(1);
    await http.close();
  });

  it("retries an idempotent POST and sends its Idempotency-Key every time", async () => {
    server.handle((_req, res, _b, n) => (n === 1 ? json(res, 500, {}) : json(res, 200, { ok: true })));
    const http = client();
    await http.request({
      method: "POST",
      path: "/x",
      body: { a: 1 },
      schema: okSchema,
      idempotent: true,
      idempotencyKey: "alerts:2026-11-22",
    });
    expect(server.requests.map((r) => r.headers["idempotency-key"])).toEqual([
      "alerts:2026-11-22",
      "alerts:2026-11-22",
    ]);
    expect(server.requests.map((r) => r.body)).toEqual(['{"a":1}', '{"a":1}']);
    expect(server.requests[0]?.headers["content-type"]).toBe("application/json");
    await http.close();
  });

  it.each([400, 401, 403, 409, 422])("does not retry a %i", async (status) => {
    server.handle((_req, res) => json(res, status, { detail: "no" }));
    const http = client();
    const error = await failure(http.request({ method: "GET", path: "/x", schema: okSchema }));
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).status).toBe(status);
    expect(server.requests).toHaveLength(1);
    await http.close();
  });

  it("retries a connection reset", async () => {
    server.handle((req, res, _b, n) => void (n === 1 ? req.socket.destroy() : json(res, 200, { ok: true })));
    const http = client();
    const res = await http.request({ method: "GET", path: "/x", schema: okSchema });
    expect(res.attempts).toBe(2);
    expect(server.requests).toHaveLength(2);
    await http.close();
  });

  it("retries a refused connection even for a POST (nothing reached a server)", async () => {
    const gone = await startServer();
    const url = gone.url;
    await gone.close();
    const http = client({ baseUrl: url, retries: 2 });
    const error = await failure(http.request({ method: "POST", path: "/x", schema: okSchema }));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.message).toContain(`POST ${url}/x`);
    expect(delays).toHaveLength(2);
    await http.close();
  });

  it("times out a slow response", async () => {
    server.handle((_req, res) => {
      setTimeout(() => json(res, 200, { ok: true }), 2_000).unref();
    });
    const http = client({ timeoutMs: 150, retries: 1 });
    const started = Date.now();
    const error = await failure(http.request({ method: "GET", path: "/slow", schema: okSchema }));
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.message).toContain(`Timed out after 150 ms: GET ${server.url}/slow`);
    expect(server.requests).toHaveLength(2);
    await http.close();
  });

  it("stops retrying when its signal aborts", async () => {
    server.handle((_req, res) => json(res, 503, {}));
    const controller = new AbortController();
    const http = client({
      signal: controller.signal,
      sleep: async () => {
        controller.abort();
        throw new DOMException("aborted", "AbortError");
      },
    });
    const error = await failure(http.request({ method: "GET", path: "/x", schema: okSchema }));
    expect(error.name).toBe("AbortError");
    expect(server.requests).toHaveLength(1);
    await http.close();
  });
  it("lets the request in flight finish when its signal aborts, and retries no more", async () => {
    const controller = new AbortController();
    server.handle((_req, res) => {
      controller.abort(); // SIGTERM arrives while the server is working on the request
      setTimeout(() => json(res, 200, { ok: true }), 100);
    });
    const http = client({ signal: controller.signal });
    const response = await http.request({
      method: "POST",
      path: "/sync",
      schema: okSchema,
      idempotent: true,
    });
    expect(response.data).toEqual({ ok: true });
    server.handle((_req, res) => json(res, 503, {}));
    const error = await failure(http.request({ method: "GET", path: "/x", schema: okSchema }));
    expect(error).toBeInstanceOf(RetryableError);
    expect(server.requests).toHaveLength(2); // one each: the second was not retried after the stop
    await http.close();
  });
});

describe("response validation", () => {
  it("reports an HTML page naming method, URL and status", async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end("<html><body>Sign in</body></html>");
    });
    const http = client();
    const error = await failure(http.request({ method: "GET", path: "/api/v1/orgs", schema: okSchema }));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain(
      `Expected JSON, got text/html from GET ${server.url}/api/v1/orgs (status 200)`,
    );
    expect(server.requests).toHaveLength(1);
    await http.close();
  });

  it("reports malformed JSON naming method, URL and status", async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"ok": tru');
    });
    const http = client();
    const error = await failure(
      http.request({ method: "POST", path: "/x", schema: okSchema, idempotent: true }),
    );
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain(`Malformed JSON from POST ${server.url}/x (status 200)`);
    expect(server.requests).toHaveLength(1);
    await http.close();
  });

  it("reports a schema mismatch naming the URL and the bad fields", async () => {
    server.handle((_req, res) => json(res, 200, { organizations: [{ org_slug: 7 }], has_next: "no" }));
    const schema = z.object({
      organizations: z.array(z.object({ org_slug: z.string() })),
      has_next: z.boolean(),
    });
    const http = client();
    const error = await failure(http.request({ method: "GET", path: "/orgs", query: { page: 1 }, schema }));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain(`GET ${server.url}/orgs?page=1 (status 200)`);
    expect(error.message).toContain("organizations.0.org_slug");
    expect(error.message).toContain("has_next");
    expect(server.requests).toHaveLength(1);
    await http.close();
  });

  it("includes the first 200 characters of an error body", async () => {
    server.handle((_req, res) => json(res, 400, { detail: "x".repeat(500) }));
    const http = client();
    const error = await failure(http.request({ method: "GET", path: "/x", schema: okSchema }));
    expect(error.message).toContain(`{"detail":"${"x".repeat(189)}…`);
    expect(error.message.length).toBeLessThan(400);
    await http.close();
  });
});

describe("credentials", () => {
  it("does not carry X-CA-Root-Key to another origin on a redirect", async () => {
    server.handle((_req, res) => {
      res.writeHead(307, { location: `${other.url}/steal` });
      res.end();
    });
    const http = client();
    const error = await failure(http.request({ method: "GET", path: "/x", schema: okSchema }));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain("redirected to another origin");
    expect(server.requests[0]?.headers["x-ca-root-key"]).toBe(KEY);
    expect(other.requests.filter((r) => r.headers["x-ca-root-key"])).toHaveLength(0);
    await http.close();
  });

  it("follows a same-origin redirect with the key", async () => {
    server.handle((req, res) => {
      if (req.url === "/old") {
        res.writeHead(308, { location: "/new" });
        res.end();
      } else json(res, 200, { ok: true });
    });
    const http = client();
    const res = await http.request({ method: "GET", path: "/old", schema: okSchema });
    expect(res.data).toEqual({ ok: true });
    expect(server.requests.map((r) => [r.url, r.headers["x-ca-root-key"]])).toEqual([
      ["/old", KEY],
      ["/new", KEY],
    ]);
    await http.close();
  });

  it("never puts a header's secret value in errors or logs, even when the server echoes it", async () => {
    const http = client({
      headers: { "X-CA-Root-Key": KEY, Authorization: "Bearer tok-abcdef123456" },
      retries: 1,
    });
    server.handle((req, res) =>
      json(res, 500, {
        echoed: req.headers["x-ca-root-key"],
        auth: req.headers.authorization?.split(" ")[1],
      }),
    );
    const error = await failure(http.request({ method: "GET", path: "/x", schema: okSchema }));
    const output = `${error.message}\n${logLines.join("")}`;
    expect(output).toContain("[redacted]");
    expect(output).not.toContain(KEY);
    expect(output).not.toContain("tok-abcdef123456");
    await http.close();
  });

  it.each([
    ["http://api.example.com", false, true],
    ["http://127.0.0.1:9", false, false],
    ["http://localhost:9", false, false],
    ["http://metadata.google.internal", true, false],
    ["https://api.example.com", false, false],
  ])("base URL %s (allowInsecure %s) refused: %s", (baseUrl, allowInsecure, refused) => {
    const make = () => createHttpClient({ baseUrl, allowInsecure });
    if (refused) expect(make).toThrow(ConfigError);
    else void make().close();
  });
});
