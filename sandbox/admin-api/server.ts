/**
 * The reference admin API (CONTRACT.md §1) over the warehouse: routing, `X-CA-Root-Key` and the optional
 * per-route rate limits. The work itself is in one file per concern. Like the real API it reads no
 * Idempotency-Key and replays nothing: a request sent twice is done twice.
 *
 * On PGlite, requests are handled one at a time (`wh.exclusive`): it is one connection, and serial handling
 * keeps check-then-write sequences safe without further locking. On a PostgreSQL server (warehouse-db.ts)
 * they run at once, as on the real API: two syncs of one org race as they would there (a table created by
 * the other is an error of this one: PARTIAL, as the real route reports it).
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Faults } from "../faults.ts";
import { BadJson, listen, parseUrl, readJson, type Service, sendJson } from "../service.ts";
import { processAll } from "./alerts.ts";
import { bootstrapFresh, bootstrapStatus, bootstrapSync } from "./bootstrap.ts";
import { HttpError, type Reply, type Route } from "./http.ts";
import { listOrganizations, syncOrganization } from "./orgs.ts";
import { cleanupStale, resetDaily, resetMonthly } from "./quotas.ts";
import type { Warehouse, WarehouseDb } from "./warehouse.ts";

export interface AdminApiOptions {
  warehouse: Warehouse<WarehouseDb>;
  /** The expected `X-CA-Root-Key`; empty means "not configured" and every call gets 503. */
  rootKey: string;
  faults: Faults;
  now?: () => Date;
  port?: number;
  /**
   * The contract's rate limits (bootstrap 2/min, sync 5/min; 429 with Retry-After). Off by default so that
   * tests and the demo are not throttled; `true` turns the contract's numbers on.
   */
  rateLimits?: boolean | { bootstrap?: number; sync?: number };
  /** One JSON object per request (method, path, status, ms); never headers or bodies. */
  log?: (event: Record<string, unknown>) => void;
}

interface RouteDef {
  method: string;
  pattern: RegExp;
  run: Route;
  limit?: "bootstrap" | "sync";
}

const ROUTES: RouteDef[] = [
  { method: "GET", pattern: /^\/api\/v1\/admin\/bootstrap\/status$/, run: bootstrapStatus },
  { method: "POST", pattern: /^\/api\/v1\/admin\/bootstrap$/, run: bootstrapFresh, limit: "bootstrap" },
  { method: "POST", pattern: /^\/api\/v1\/admin\/bootstrap\/sync$/, run: bootstrapSync, limit: "sync" },
  { method: "GET", pattern: /^\/api\/v1\/organizations$/, run: listOrganizations },
  { method: "POST", pattern: /^\/api\/v1\/organizations\/(?<org_slug>[^/]+)\/sync$/, run: syncOrganization },
  // Mounted at /api/v1/quota (no admin/), as the real API's router is.
  { method: "POST", pattern: /^\/api\/v1\/quota\/reset-daily$/, run: resetDaily },
  { method: "POST", pattern: /^\/api\/v1\/quota\/reset-monthly$/, run: resetMonthly },
  { method: "POST", pattern: /^\/api\/v1\/quota\/cleanup-stale$/, run: cleanupStale },
  { method: "POST", pattern: /^\/api\/v1\/admin\/alerts\/process-all$/, run: processAll },
];

/**
 * @example
 * const wh = await startWarehouse();
 * const api = await startAdminApi({ warehouse: wh, rootKey: "sandbox-root-key", faults: createFaults() });
 * await fetch(`${api.url}/api/v1/admin/bootstrap/status`, { headers: { "X-CA-Root-Key": "sandbox-root-key" } });
 */
export async function startAdminApi(opts: AdminApiOptions): Promise<Service> {
  const now = opts.now ?? opts.warehouse.now;
  const limits = rateLimits(opts.rateLimits);
  const calls = new Map<string, number[]>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = Date.now();
    const { path, query } = parseUrl(req);
    const reply = await answer(req, path, query).catch(toReply);
    sendJson(res, reply.status, reply.body, reply.headers);
    opts.log?.({
      service: "adminApi",
      method: req.method,
      path,
      status: reply.status,
      ms: Date.now() - started,
    });
  };

  const answer = async (req: IncomingMessage, path: string, query: URLSearchParams): Promise<Reply> => {
    checkKey(opts.rootKey, req.headers["x-ca-root-key"]);
    const candidates = ROUTES.filter((r) => r.pattern.test(path));
    if (candidates.length === 0)
      throw new HttpError(404, `no route ${path}: see CONTRACT.md §1 for the routes`);
    const route = candidates.find((r) => r.method === req.method);
    if (!route)
      throw new HttpError(405, `${req.method} ${path} is not allowed; use ${candidates[0]?.method}`);
    const params = (path.match(route.pattern)?.groups ?? {}) as Record<string, string>;
    const body = req.method === "POST" ? await readJson(req) : {};
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new HttpError(400, `${req.method} ${path}: the body must be a JSON object`);
    }
    return opts.warehouse.exclusive(async () => {
      if (route.limit && limits[route.limit])
        throttle(calls, route.limit, limits[route.limit] ?? 0, Date.now());
      const ctx = { wh: opts.warehouse, now: now(), body: body as Record<string, unknown>, query, params };
      return route.run(ctx).catch(toReply);
    });
  };

  return listen(opts.faults.wrap("adminApi", handle), { port: opts.port });
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function checkKey(expected: string, got: string | string[] | undefined) {
  if (!expected) {
    throw new HttpError(503, "the admin API has no CA_ROOT_API_KEY configured: start it with a root key");
  }
  const value = header(got);
  if (!value)
    throw new HttpError(401, "missing X-CA-Root-Key header: send the CA_ROOT_API_KEY of this environment");
  const a = Buffer.from(value);
  const b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    throw new HttpError(403, "X-CA-Root-Key is not valid for this API: check the CA_ROOT_API_KEY secret");
  }
}

function rateLimits(opt: AdminApiOptions["rateLimits"]): { bootstrap?: number; sync?: number } {
  if (opt === true) return { bootstrap: 2, sync: 5 };
  return opt || {};
}

/** Sliding one-minute window per limited route; over it: 429 with the seconds until a slot frees. */
function throttle(calls: Map<string, number[]>, name: string, perMinute: number, nowMs: number) {
  const recent = (calls.get(name) ?? []).filter((t) => t > nowMs - 60_000);
  if (recent.length >= perMinute) {
    const wait = Math.max(1, Math.ceil(((recent[0] ?? nowMs) + 60_000 - nowMs) / 1000));
    throw new HttpError(
      429,
      `rate limit of ${perMinute} ${name} call(s) per minute reached: retry in ${wait}s`,
      {
        "retry-after": String(wait),
      },
    );
  }
  recent.push(nowMs);
  calls.set(name, recent);
}

function toReply(error: unknown): Reply {
  if (error instanceof HttpError) {
    return {
      status: error.status,
      body: { detail: error.message, message: error.message },
      headers: error.headers,
    };
  }
  if (error instanceof BadJson)
    return { status: 400, body: { detail: error.message, message: error.message } };
  const pg = error as { code?: string; message?: string };
  if (pg.code === "42P01" || pg.code === "3F000") {
    // A table or schema of the meta dataset is missing: the environment was never bootstrapped.
    const message = `the organizations dataset is not bootstrapped (${pg.message}): POST /api/v1/admin/bootstrap first`;
    return { status: 412, body: { detail: message, message } };
  }
  const message = `internal error: ${pg.message ?? String(error)}`;
  return { status: 500, body: { detail: message, message } };
}
