/**
 * Fault injection for the sandbox servers, off by default.
 *
 * A rule matches requests by `route`: `"POST /api/v1/admin/bootstrap"` (exact), `"POST /api/v1/*"` (prefix),
 * `"/api/*"` (any method) or `"*"` (everything). For each matching rule, in the order they were set:
 * - `maxConcurrent`: requests beyond N in flight on that rule are answered 429 at once (they do not wait),
 *   with `Retry-After` when the rule has `retryAfter`. Always enforced, whatever `rate` says.
 * - `perMinute`: at most N requests per clock minute per caller (Authorization / X-CA-Root-Key header);
 *   the one over the limit gets 429 and the caller is blocked until the end of the NEXT full minute
 *   (the Supabase Management API's rule).
 * - the rule then "fires" on a deterministic share `rate` (default 1) of matching requests: 0.5 fires on
 *   every 2nd request, 0.3 on 3 of every 10. Firing means: wait `latencyMs`, then `drop` the socket, or
 *   answer `status` (JSON `{error:{code,message,status}}`, plus `Retry-After: retryAfter`), or go on to
 *   the real handler when neither is set (latency only). `count` limits how often a rule fires.
 *
 * Every server built with `withFaults` also answers `GET|POST|DELETE /__sandbox/faults`
 * (POST takes one rule or an array; DELETE clears that server's rules), and counts every request it
 * receives, faulted or not: `GET /__sandbox/requests` → `{service, total, routes: {"METHOD /path": n}}`,
 * `DELETE` resets the count (the reliability harness proves "no request reached any service" with it).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { type Handler, parseUrl, readJson, sendJson } from "./service.ts";

export type ServiceName =
  | "cloudRun"
  | "scheduler"
  | "secretManager"
  | "monitoring"
  | "bigquery"
  | "supabase"
  | "adminApi";

export interface FaultRule {
  /** `"METHOD /path"`, `"/path"`, either ending in `*` for a prefix, or `"*"`. */
  route: string;
  status?: number;
  /** Share of matching requests the rule fires on, 0..1 (default 1), spread deterministically. */
  rate?: number;
  latencyMs?: number;
  /** Seconds, sent as `Retry-After` on the fault's 429/503 answers. */
  retryAfter?: number;
  maxConcurrent?: number;
  /** Destroy the socket without answering. */
  drop?: boolean;
  /** Fire N times, then the rule removes itself. */
  count?: number;
  /** Requests per clock minute per caller; over it: 429 and blocked until the next full minute ends. */
  perMinute?: number;
  /** Error message of the injected answer (e.g. BigQuery's streaming-buffer refusal). */
  message?: string;
}

export interface Faults {
  /** Adds a rule (a rule with the same route replaces the older one). */
  set(service: ServiceName, rule: FaultRule): void;
  /** Clears one service's rules, or all. */
  clear(service?: ServiceName): void;
  list(): Partial<Record<ServiceName, FaultRule[]>>;
  /** Applies the rules to one request. `handled: true` means the fault answered (or dropped) it. */
  apply(service: ServiceName, req: IncomingMessage, res: ServerResponse): Promise<{ handled: boolean }>;
  /** Wraps a server's handler: control routes, then the rules, then the handler. */
  wrap(service: ServiceName, handler: Handler): Handler;
  /** Requests received per `"METHOD /path"` since start or the last reset (control routes excluded). */
  requests(service: ServiceName): Record<string, number>;
  resetRequests(service?: ServiceName): void;
}

interface LiveRule {
  rule: FaultRule;
  inFlight: number;
  acc: number;
  fired: number;
  windows: Map<string, { minute: number; n: number; blockedUntil: number }>;
}

const STATUS_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ALREADY_EXISTS",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  502: "UNAVAILABLE",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

/**
 * @example
 * const faults = createFaults({ adminApi: [{ route: "POST /api/v1/admin/bootstrap", status: 503, count: 1 }] });
 * faults.set("bigquery", { route: "*", latencyMs: 200 });
 * faults.clear();
 */
export function createFaults(
  initial: Partial<Record<ServiceName, FaultRule[]>> = {},
  opts: { now?: () => number } = {},
): Faults {
  const now = opts.now ?? Date.now;
  const rules = new Map<ServiceName, LiveRule[]>();
  const received = new Map<ServiceName, Map<string, number>>();

  const faults: Faults = {
    set(service, rule) {
      const checked = checkRule(rule);
      const list = (rules.get(service) ?? []).filter((r) => r.rule.route !== checked.route);
      list.push({ rule: checked, inFlight: 0, acc: 0, fired: 0, windows: new Map() });
      rules.set(service, list);
    },
    clear(service) {
      if (service) rules.delete(service);
      else rules.clear();
    },
    list() {
      const out: Partial<Record<ServiceName, FaultRule[]>> = {};
      for (const [service, list] of rules) if (list.length > 0) out[service] = list.map((r) => r.rule);
      return out;
    },
    async apply(service, req, res) {
      const key = `${req.method ?? "GET"} ${parseUrl(req).path}`;
      for (const live of [...(rules.get(service) ?? [])]) {
        if (!matches(live.rule.route, key)) continue;
        const { rule } = live;
        if (rule.maxConcurrent !== undefined) {
          if (live.inFlight >= rule.maxConcurrent) {
            answer(res, 429, `more than ${rule.maxConcurrent} concurrent requests on ${rule.route}`, rule);
            return { handled: true };
          }
          live.inFlight += 1;
          res.once("close", () => {
            live.inFlight -= 1;
          });
        }
        if (rule.perMinute !== undefined && overMinuteLimit(live, req, now())) {
          const w = live.windows.get(caller(req));
          const wait = Math.max(1, Math.ceil(((w?.blockedUntil ?? now()) - now()) / 1000));
          answer(res, 429, `rate limit of ${rule.perMinute} requests per minute exceeded`, {
            ...rule,
            retryAfter: wait,
          });
          return { handled: true };
        }
        if (rule.status === undefined && !rule.drop && rule.latencyMs === undefined) continue;
        live.acc += rule.rate ?? 1;
        if (live.acc < 1 - 1e-9) continue;
        live.acc -= 1;
        live.fired += 1;
        if (rule.count !== undefined && live.fired >= rule.count) {
          rules.set(
            service,
            (rules.get(service) ?? []).filter((r) => r !== live),
          );
        }
        if (rule.latencyMs) await new Promise((r) => setTimeout(r, rule.latencyMs));
        if (rule.drop) {
          req.socket.destroy();
          return { handled: true };
        }
        if (rule.status !== undefined) {
          answer(res, rule.status, rule.message ?? `sandbox fault injected on ${rule.route}`, rule);
          return { handled: true };
        }
      }
      return { handled: false };
    },
    requests(service) {
      return Object.fromEntries(received.get(service) ?? []);
    },
    resetRequests(service) {
      if (service) received.delete(service);
      else received.clear();
    },
    wrap(service, handler) {
      return async (req, res) => {
        const path = parseUrl(req).path;
        if (path === "/__sandbox/faults") return control(faults, service, req, res);
        if (path === "/__sandbox/requests") return counts(faults, service, req, res);
        const counted = received.get(service) ?? new Map<string, number>();
        received.set(service, counted);
        const key = `${req.method ?? "GET"} ${path}`;
        counted.set(key, (counted.get(key) ?? 0) + 1);
        if ((await faults.apply(service, req, res)).handled) return;
        await handler(req, res);
      };
    },
  };
  for (const [service, list] of Object.entries(initial) as [ServiceName, FaultRule[]][]) {
    for (const rule of list) faults.set(service, rule);
  }
  return faults;
}

function checkRule(rule: FaultRule): FaultRule {
  if (typeof rule?.route !== "string" || rule.route.trim() === "") {
    throw new Error('fault rule needs a route, e.g. {"route":"POST /api/v1/admin/bootstrap","status":503}');
  }
  if (rule.rate !== undefined && !(rule.rate >= 0 && rule.rate <= 1)) {
    throw new Error(`fault rule rate must be between 0 and 1, got ${rule.rate} (route ${rule.route})`);
  }
  if (
    rule.status !== undefined &&
    !(Number.isInteger(rule.status) && rule.status >= 100 && rule.status < 600)
  ) {
    throw new Error(`fault rule status must be an HTTP status, got ${rule.status} (route ${rule.route})`);
  }
  return { ...rule, route: rule.route.trim() };
}

function matches(route: string, key: string): boolean {
  if (route === "*") return true;
  const pattern = route.includes(" ") ? route : `* ${route}`;
  const [method = "*", path = ""] = pattern.split(/\s+/, 2);
  const [reqMethod = "", reqPath = ""] = key.split(" ", 2);
  if (method !== "*" && method.toUpperCase() !== reqMethod) return false;
  return path.endsWith("*") ? reqPath.startsWith(path.slice(0, -1)) : reqPath === path;
}

function caller(req: IncomingMessage): string {
  const h = req.headers.authorization ?? req.headers["x-ca-root-key"] ?? "";
  return Array.isArray(h) ? h.join(",") : h;
}

function overMinuteLimit(live: LiveRule, req: IncomingMessage, nowMs: number): boolean {
  const key = caller(req);
  const minute = Math.floor(nowMs / 60_000);
  const w = live.windows.get(key) ?? { minute, n: 0, blockedUntil: 0 };
  live.windows.set(key, w);
  if (nowMs < w.blockedUntil) return true;
  if (w.minute !== minute) Object.assign(w, { minute, n: 0 });
  w.n += 1;
  if (w.n <= (live.rule.perMinute ?? Number.POSITIVE_INFINITY)) return false;
  // "A 429 blocks the next full minute": blocked through the end of the minute after this one.
  w.blockedUntil = (minute + 2) * 60_000;
  return true;
}

function answer(res: ServerResponse, status: number, message: string, rule: FaultRule) {
  const headers: Record<string, string> = {};
  if (rule.retryAfter !== undefined && (status === 429 || status === 503)) {
    headers["retry-after"] = String(rule.retryAfter);
  }
  const reason = status === 400 ? "invalidQuery" : status === 429 ? "rateLimitExceeded" : "backendError";
  const error = {
    code: status,
    message,
    status: STATUS_NAMES[status] ?? "UNKNOWN",
    errors: [{ reason, message }],
  };
  const body = { error, message };
  sendJson(res, status, body, headers);
}

function counts(faults: Faults, service: ServiceName, req: IncomingMessage, res: ServerResponse) {
  if (req.method === "DELETE") faults.resetRequests(service);
  else if (req.method !== "GET")
    return sendJson(res, 405, { error: { code: 405, message: "use GET or DELETE /__sandbox/requests" } });
  const routes = faults.requests(service);
  const total = Object.values(routes).reduce((n, v) => n + v, 0);
  sendJson(res, 200, { service, total, routes });
}

async function control(faults: Faults, service: ServiceName, req: IncomingMessage, res: ServerResponse) {
  try {
    if (req.method === "DELETE") faults.clear(service);
    else if (req.method === "POST") {
      const body = await readJson(req);
      for (const rule of Array.isArray(body) ? body : [body]) faults.set(service, rule as FaultRule);
    } else if (req.method !== "GET") {
      return sendJson(res, 405, {
        error: { code: 405, message: "use GET, POST or DELETE /__sandbox/faults" },
      });
    }
    sendJson(res, 200, { service, rules: faults.list()[service] ?? [] });
  } catch (error) {
    sendJson(res, 400, {
      error: { code: 400, message: (error as Error).message, status: "INVALID_ARGUMENT" },
    });
  }
}
