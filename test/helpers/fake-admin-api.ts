/**
 * A scripted, stateful fake of the admin API (CONTRACT.md §1) on a real local HTTP server.
 * By default it behaves like the real API and keeps state, so "a second run changes nothing" is a real
 * check. `script(route, ...replies)` queues one-shot answers (status, body, raw HTML, headers, delay)
 * for a route, consumed in order; `always(route, reply)` answers every call. Routes are written
 * "POST /api/v1/organizations/:slug/sync" (patterns) and matched against requests.
 */
import { type JsonServer, type RecordedRequest, type Reply, startJsonServer } from "./http-server.ts";

export const FAKE_ROOT_KEY = "fake-root-key-0123456789";
export const EXPECTED_TABLES = ["org_profiles", "org_usage_quotas", "org_subscriptions", "org_api_keys"];

export interface FakeOrg {
  org_slug: string;
  status: "ACTIVE" | "SUSPENDED";
  /** Tables the next sync creates (then empty: a second sync is "unchanged"). */
  pendingTables: string[];
}

export interface AdminState {
  datasetExists: boolean;
  tables: Set<string>;
  /** Columns the next bootstrap sync adds, by table. */
  missingColumns: Record<string, string[]>;
  orgs: FakeOrg[];
  /** Days (UTC) the daily reset already ran: a repeat skips every org, as the real API's does. */
  dailyResets: Set<string>;
  /** Calls of the monthly reset that reset something (the real API repeats it on the 1st). */
  monthlyResets: number;
  staleOrgs: number;
  notificationsSent: number;
}

export const ROUTES = [
  "GET /api/v1/admin/bootstrap/status",
  "POST /api/v1/admin/bootstrap",
  "POST /api/v1/admin/bootstrap/sync",
  "GET /api/v1/organizations",
  "POST /api/v1/organizations/:slug/sync",
  "POST /api/v1/quota/reset-daily",
  "POST /api/v1/quota/reset-monthly",
  "POST /api/v1/quota/cleanup-stale",
  "POST /api/v1/admin/alerts/process-all",
] as const;
export type Route = (typeof ROUTES)[number];

export interface FakeAdminApi extends JsonServer {
  state: AdminState;
  script(route: Route, ...replies: Reply[]): void;
  always(route: Route, reply: Reply | ((req: RecordedRequest) => Reply | undefined)): void;
  /** Requests to `route`, in order. */
  calls(route: Route): RecordedRequest[];
  reset(state?: Partial<AdminState>): void;
}

const toPattern = (route: string) => {
  const [method, path] = route.split(" ") as [string, string];
  return { method, re: new RegExp(`^${path.replace(/:[a-z]+/g, "([^/]+)")}$`) };
};
const patterns = ROUTES.map((r) => ({ route: r, ...toPattern(r) }));
const routeOf = (req: RecordedRequest): Route | undefined =>
  patterns.find((p) => p.method === req.method && p.re.test(req.path))?.route;

export function defaultState(): AdminState {
  return {
    datasetExists: false,
    tables: new Set(),
    missingColumns: {},
    orgs: [],
    dailyResets: new Set(),
    monthlyResets: 0,
    staleOrgs: 2,
    notificationsSent: 0,
  };
}

/** `n` ACTIVE orgs `org_001`… each with one table pending, plus one SUSPENDED org that must be skipped. */
export const makeOrgs = (n: number): FakeOrg[] => [
  ...Array.from({ length: n }, (_, i) => ({
    org_slug: `org_${String(i + 1).padStart(3, "0")}`,
    status: "ACTIVE" as const,
    pendingTables: ["org_costs"],
  })),
  { org_slug: "suspended_org", status: "SUSPENDED", pendingTables: [] },
];

export async function startFakeAdminApi(initial: Partial<AdminState> = {}): Promise<FakeAdminApi> {
  const state: AdminState = { ...defaultState(), ...initial };
  const scripted = new Map<Route, Reply[]>();
  const fixed = new Map<Route, (req: RecordedRequest) => Reply | undefined>();

  const behave = (route: Route, req: RecordedRequest): Reply => {
    const active = state.orgs.filter((o) => o.status === "ACTIVE");
    switch (route) {
      case "GET /api/v1/admin/bootstrap/status": {
        const missing = state.datasetExists
          ? EXPECTED_TABLES.filter((t) => !state.tables.has(t))
          : EXPECTED_TABLES;
        const diffs = Object.fromEntries(
          Object.entries(state.missingColumns)
            .filter(([, c]) => c.length)
            .map(([t, c]) => [t, { missing_columns: c, extra_columns: [] }]),
        );
        return {
          body: {
            status: "OK",
            dataset_exists: state.datasetExists,
            tables_expected: EXPECTED_TABLES.length,
            tables_existing: [...state.tables],
            tables_missing: missing,
            tables_extra: [],
            schema_diffs: diffs,
            message: "",
          },
        };
      }
      case "POST /api/v1/admin/bootstrap": {
        if (state.datasetExists) return { status: 409, body: { detail: "Dataset already bootstrapped" } };
        state.datasetExists = true;
        const created = EXPECTED_TABLES.filter((t) => !state.tables.has(t));
        for (const t of created) state.tables.add(t);
        state.missingColumns = {};
        return {
          body: {
            status: "SUCCESS",
            tables_created: created,
            tables_existed: [],
            total_tables: EXPECTED_TABLES.length,
            message: "Bootstrapped",
          },
        };
      }
      case "POST /api/v1/admin/bootstrap/sync": {
        state.datasetExists = true;
        const created = EXPECTED_TABLES.filter((t) => !state.tables.has(t));
        for (const t of created) state.tables.add(t);
        const added = Object.fromEntries(Object.entries(state.missingColumns).filter(([, c]) => c.length));
        state.missingColumns = {};
        return {
          body: {
            status: "SUCCESS",
            tables_created: created,
            columns_added: added,
            errors: [],
            message: "Synced",
          },
        };
      }
      case "GET /api/v1/organizations": {
        const page = Number(req.query.page ?? 1);
        const size = Number(req.query.page_size ?? 100);
        const list = req.query.status ? state.orgs.filter((o) => o.status === req.query.status) : state.orgs;
        const slice = list
          .slice((page - 1) * size, page * size)
          .map((o) => ({ org_slug: o.org_slug, status: o.status, name: o.org_slug.toUpperCase() }));
        return {
          body: {
            organizations: slice,
            total: list.length,
            page,
            page_size: size,
            has_next: page * size < list.length,
          },
        };
      }
      case "POST /api/v1/organizations/:slug/sync": {
        const slug = decodeURIComponent(req.path.split("/")[4] ?? "");
        const org = state.orgs.find((o) => o.org_slug === slug);
        if (!org) return { status: 404, body: { detail: `Organization ${slug} not found` } };
        if (org.status !== "ACTIVE")
          return { status: 400, body: { detail: `Organization ${slug} is not active` } };
        const created = org.pendingTables;
        org.pendingTables = [];
        return {
          body: {
            org_slug: slug,
            status: "SUCCESS",
            tables_created: created,
            columns_added: {},
            errors: [],
            message: "ok",
          },
        };
      }
      case "POST /api/v1/quota/reset-monthly": {
        state.monthlyResets++;
        return {
          body: {
            success: true,
            orgs_processed: active.length,
            orgs_created: active.length,
            orgs_skipped: 0,
            message: "Monthly quotas reset",
          },
        };
      }
      case "POST /api/v1/quota/reset-daily": {
        const today = new Date().toISOString().slice(0, 10);
        const fresh = !state.dailyResets.has(today);
        state.dailyResets.add(today);
        return {
          body: {
            success: true,
            orgs_processed: active.length,
            orgs_created: fresh ? active.length : 0,
            orgs_skipped: fresh ? 0 : active.length,
            message: fresh ? "Reset" : "Already reset",
          },
        };
      }
      case "POST /api/v1/quota/cleanup-stale": {
        const fixedNow = state.staleOrgs;
        state.staleOrgs = 0;
        return {
          body: {
            success: true,
            orgs_processed: active.length,
            orgs_created: fixedNow,
            orgs_skipped: active.length - fixedNow,
            message: "Cleaned",
          },
        };
      }
      case "POST /api/v1/admin/alerts/process-all": {
        const body = req.body as { dry_run?: boolean; send_notifications?: boolean; org_slug?: string };
        const orgs = body.org_slug ? active.filter((o) => o.org_slug === body.org_slug) : active;
        // No de-duplication (CONTRACT §1): every call sends again.
        const sent = body.send_notifications && !body.dry_run ? orgs.length : 0;
        state.notificationsSent += sent;
        return {
          body: {
            success: true,
            orgs_processed: orgs.length,
            alerts_triggered: orgs.length,
            notifications_sent: sent,
            errors: 0,
            org_errors: [],
            message: "Processed",
          },
        };
      }
    }
  };

  const server = await startJsonServer((req) => {
    const route = routeOf(req);
    if (!route) return { status: 404, body: { detail: `no route ${req.method} ${req.path}` } };
    const key = req.headers["x-ca-root-key"];
    if (key === undefined) return { status: 401, body: { detail: "X-CA-Root-Key header required" } };
    if (key !== FAKE_ROOT_KEY) return { status: 403, body: { detail: "Invalid root key" } };
    const once = scripted.get(route)?.shift();
    if (once) return once;
    const reply = fixed.get(route)?.(req);
    return reply ?? behave(route, req);
  });

  return Object.assign(server, {
    state,
    script: (route: Route, ...replies: Reply[]) =>
      void scripted.set(route, [...(scripted.get(route) ?? []), ...replies]),
    always: (route: Route, reply: Reply | ((req: RecordedRequest) => Reply | undefined)) =>
      void fixed.set(route, typeof reply === "function" ? reply : () => reply),
    calls: (route: Route) => server.requests.filter((r) => routeOf(r) === route),
    reset(next: Partial<AdminState> = {}) {
      Object.assign(state, defaultState(), next);
      scripted.clear();
      fixed.clear();
      server.requests.length = 0;
      server.maxInFlight = 0;
    },
  });
}
