/**
 * Every admin API route the jobs call (CONTRACT.md §1), in one typed module: paths, bodies, per-call
 * timeouts and retries, whether the route may be sent again, and zod response schemas. Schemas are loose
 * (extra fields pass) and only list what we read; a missing field is a PermanentError from the client.
 *
 * The API keeps no Idempotency-Keys, so a retry is safe only where the route itself is repeatable
 * (`ROUTES[name].repeatable`). A request to a route that is not (alerts, the monthly reset) that may have
 * reached the server is never sent again: the call throws an OutcomeUnknownError instead.
 *
 * @example
 * const api = createAdminApi(http);
 * const status = await api.bootstrapStatus(); // always ?force_refresh=true
 */
import type { z } from "zod";
import {
  ALERT_TYPES,
  type AlertsResult,
  type AlertType,
  alertsResultSchema,
  type BootstrapResult,
  type BootstrapStatus,
  bootstrapResultSchema,
  bootstrapStatusSchema,
  type OrganizationPage,
  type OrgSyncResult,
  organizationPageSchema,
  orgSyncResultSchema,
  type QuotaResult,
  quotaResultSchema,
  type SyncResult,
  syncResultSchema,
} from "./admin-api-schemas.ts";
import type { HttpClient } from "./http.ts";
import { routeBudgetMs } from "./retry-budget.ts";

export * from "./admin-api-schemas.ts";

export { routeBudgetMs } from "./retry-budget.ts";

const BASE = "/api/v1";
const MINUTE = 60_000;

/** The API's org slug format (`ORG_SLUG_PATTERN` in the API's middleware/validation.py). */
export const ORG_SLUG = /^[a-z0-9_]{3,50}$/;

export interface RouteSpec {
  method: "GET" | "POST";
  path: string;
  /** True when sending the request again is harmless (CONTRACT §1): only then is it retried after it may have reached the server. */
  repeatable: boolean;
  /** Per attempt; longer than the server's work. */
  timeoutMs: number;
  /** Retries after the first attempt. */
  retries: number;
  /** What the call may have done, for the "outcome unknown" message of a route that is not repeatable. */
  effect?: string;
  /** How an operator finds out whether it did. */
  check?: string;
}

/**
 * The routes, with what CONTRACT §1 says about repeating them. Timeouts × attempts plus waits must fit
 * the task timeout of every job that calls the route: `defineJob` checks it (see ./retry-budget.ts).
 */
export const ROUTES = {
  bootstrapStatus: {
    method: "GET",
    path: "/admin/bootstrap/status",
    repeatable: true,
    timeoutMs: 2 * MINUTE,
    retries: 3,
  },
  // The server's bootstrap may take up to 10 min: wait longer than that so we never cut it off. 409 once done.
  bootstrap: {
    method: "POST",
    path: "/admin/bootstrap",
    repeatable: true,
    timeoutMs: 11 * MINUTE,
    retries: 1,
  },
  bootstrapSync: {
    method: "POST",
    path: "/admin/bootstrap/sync",
    repeatable: true,
    timeoutMs: 11 * MINUTE,
    retries: 1,
  },
  listOrganizations: {
    method: "GET",
    path: "/organizations",
    repeatable: true,
    timeoutMs: MINUTE,
    retries: 3,
  },
  syncOrganization: {
    method: "POST",
    path: "/organizations/{org_slug}/sync",
    repeatable: true,
    timeoutMs: 5 * MINUTE,
    retries: 2,
  },
  // Creates today's row only where missing.
  resetDailyQuota: {
    method: "POST",
    path: "/quota/reset-daily",
    repeatable: true,
    timeoutMs: 2 * MINUTE,
    retries: 2,
  },
  // Zeroes the month's counters again if repeated on the 1st: usage counted since the first call is lost.
  resetMonthlyQuota: {
    method: "POST",
    path: "/quota/reset-monthly",
    repeatable: false,
    timeoutMs: 3 * MINUTE,
    retries: 2,
    effect: "the API may have reset the monthly quota counters",
    check:
      "look at this month's pipelines_run_month in org_usage_quotas (BigQuery, dataset organizations): near 0 for every active org means the reset happened; re-run only if it did not",
  },
  // Sets counters to the observed truth.
  cleanupStale: {
    method: "POST",
    path: "/quota/cleanup-stale",
    repeatable: true,
    timeoutMs: 2 * MINUTE,
    retries: 2,
  },
  // No de-duplication: a second call sends every triggered notification again.
  processAlerts: {
    method: "POST",
    path: "/admin/alerts/process-all",
    repeatable: false,
    timeoutMs: 10 * MINUTE,
    retries: 1,
    effect: "the API may have sent notifications",
    check:
      "look at the alert rules' last_triggered_at (the API sets it on every rule it notifies for) and the notification channels; re-run only if nothing went out",
  },
} as const satisfies Record<string, RouteSpec>;
export type RouteName = keyof typeof ROUTES;
export const ROUTE_NAMES = Object.keys(ROUTES) as RouteName[];

export interface ProcessAlertsInput {
  alertTypes?: readonly AlertType[];
  sendNotifications?: boolean;
  dryRun?: boolean;
  orgSlug?: string;
}

/** The monthly reset's answer on any day but the 1st (UTC): the API did nothing. */
export const isMonthlySkip = (r: QuotaResult): boolean => /^Skipped: Not the 1st/i.test(r.message);

export interface AdminApi {
  /** Always with `force_refresh=true`: the API caches the status for 60 s. */
  bootstrapStatus(): Promise<BootstrapStatus>;
  /** Never destructive: force_recreate_* are always false. A 409 (already bootstrapped) throws with status 409. */
  bootstrap(): Promise<BootstrapResult>;
  bootstrapSync(): Promise<SyncResult>;
  listOrganizations(opts: { page: number; pageSize?: number; status?: string }): Promise<OrganizationPage>;
  syncOrganization(orgSlug: string): Promise<OrgSyncResult>;
  resetDailyQuota(): Promise<QuotaResult>;
  /** Not repeatable: a call that may have reached the API and failed throws OutcomeUnknownError. */
  resetMonthlyQuota(): Promise<QuotaResult>;
  cleanupStale(): Promise<QuotaResult>;
  /** Not repeatable: a call that may have reached the API and failed throws OutcomeUnknownError. */
  processAlerts(opts: ProcessAlertsInput): Promise<AlertsResult>;
}

/**
 * The admin API over an http client whose base URL is the API origin (`API_SERVICE_URL`).
 * `options.timeoutMs` replaces every per-call timeout (tests use it to exercise timeouts quickly);
 * `options.allowed` limits the routes to those the job declared (another route throws).
 */
export function createAdminApi(
  http: HttpClient,
  options: {
    timeoutMs?: number;
    allowed?: readonly RouteName[];
    onUndeclared?: (r: RouteName) => Error;
  } = {},
): AdminApi {
  const call = async <T>(
    name: RouteName,
    schema: z.ZodType<T>,
    extra: { params?: Record<string, string>; query?: Record<string, string>; body?: unknown } = {},
  ): Promise<T> => {
    if (options.allowed && !options.allowed.includes(name)) {
      throw options.onUndeclared?.(name) ?? new Error(`admin API route ${name} was not declared`);
    }
    const route: RouteSpec = ROUTES[name];
    const path = route.path.replace(/\{(\w+)\}/g, (_, p: string) =>
      encodeURIComponent(extra.params?.[p] ?? ""),
    );
    const response = await http.request({
      method: route.method,
      path: `${BASE}${path}`,
      schema,
      idempotent: route.repeatable,
      retries: route.retries,
      timeoutMs: options.timeoutMs ?? route.timeoutMs,
      ...(route.effect ? { unknownOutcome: `${route.effect} (to check: ${route.check})` } : {}),
      ...(extra.query ? { query: extra.query } : {}),
      ...(extra.body !== undefined ? { body: extra.body } : {}),
    });
    return response.data;
  };
  const syncBody = { sync_missing_tables: true, sync_missing_columns: true };

  return {
    bootstrapStatus: () =>
      call("bootstrapStatus", bootstrapStatusSchema, { query: { force_refresh: "true" } }),
    bootstrap: () =>
      call("bootstrap", bootstrapResultSchema, {
        body: { force_recreate_dataset: false, force_recreate_tables: false },
      }),
    bootstrapSync: () => call("bootstrapSync", syncResultSchema, { body: syncBody }),
    listOrganizations: ({ page, pageSize = 100, status = "ACTIVE" }) =>
      call("listOrganizations", organizationPageSchema, {
        query: { status, page: String(page), page_size: String(pageSize) },
      }),
    syncOrganization: (orgSlug) =>
      call("syncOrganization", orgSyncResultSchema, {
        params: { org_slug: orgSlug },
        body: { ...syncBody, recreate_views: false },
      }),
    resetDailyQuota: () => call("resetDailyQuota", quotaResultSchema),
    resetMonthlyQuota: () => call("resetMonthlyQuota", quotaResultSchema),
    cleanupStale: () => call("cleanupStale", quotaResultSchema),
    processAlerts: ({ alertTypes = ALERT_TYPES, sendNotifications = true, dryRun = false, orgSlug }) =>
      call("processAlerts", alertsResultSchema, {
        body: {
          alert_types: [...alertTypes],
          send_notifications: sendNotifications,
          dry_run: dryRun,
          ...(orgSlug !== undefined ? { org_slug: orgSlug } : {}),
        },
      }),
  };
}

/** Worst-case time of every attempt of `name` (timeouts plus waits). */
export const budgetOf = (name: RouteName): number => routeBudgetMs(ROUTES[name]);
