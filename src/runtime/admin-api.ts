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
import { z } from "zod";
import type { HttpClient } from "./http.ts";
import { routeBudgetMs } from "./retry-budget.ts";

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

const strings = z.array(z.string());
/** `errors` arrive as strings or objects depending on the route; keep them printable. */
const errorList = z.array(z.unknown()).default([]);
/** A table's column differences; a null entry (seen from some API versions) means none. */
const tableDiff = z
  .looseObject({ missing_columns: strings.default([]), extra_columns: strings.default([]) })
  .nullable()
  .transform((d) => d ?? { missing_columns: [], extra_columns: [] });

export const bootstrapStatusSchema = z.looseObject({
  status: z.string(),
  dataset_exists: z.boolean(),
  tables_expected: z.number().int().nonnegative(),
  tables_existing: strings,
  tables_missing: strings,
  tables_extra: strings.default([]),
  schema_diffs: z
    .record(z.string(), tableDiff)
    .nullish()
    .transform((d) => d ?? {}),
  message: z.string().default(""),
});
export const bootstrapResultSchema = z.looseObject({
  status: z.string(),
  tables_created: strings.default([]),
  tables_existed: strings.default([]),
  total_tables: z.number().int().nonnegative(),
  message: z.string().default(""),
});
export const syncResultSchema = z.looseObject({
  status: z.string(),
  tables_created: strings.default([]),
  columns_added: z.record(z.string(), strings).default({}),
  errors: errorList,
  message: z.string().default(""),
});
export const orgSyncResultSchema = syncResultSchema.extend({ org_slug: z.string() });
export const organizationSchema = z.looseObject({
  org_slug: z.string(),
  status: z.string(),
  created_at: z.string().nullish(),
});
export const organizationPageSchema = z.looseObject({
  organizations: z.array(organizationSchema),
  total: z.number().int().nonnegative(),
  page: z.number().int().positive(),
  page_size: z.number().int().positive(),
  has_next: z.boolean(),
});
export const quotaResultSchema = z.looseObject({
  success: z.boolean(),
  orgs_processed: z.number().int().nonnegative(),
  orgs_created: z.number().int().nonnegative().default(0),
  orgs_skipped: z.number().int().nonnegative().default(0),
  message: z.string().default(""),
});
export const alertsResultSchema = z.looseObject({
  success: z.boolean(),
  orgs_processed: z.number().int().nonnegative(),
  alerts_triggered: z.number().int().nonnegative().default(0),
  notifications_sent: z.number().int().nonnegative().default(0),
  /** A count (CONTRACT §1); the details are in org_errors (the first 10). */
  errors: z.number().int().nonnegative(),
  org_errors: z.array(z.unknown()).default([]),
  message: z.string().default(""),
});

export type BootstrapStatus = z.output<typeof bootstrapStatusSchema>;
export type BootstrapResult = z.output<typeof bootstrapResultSchema>;
export type SyncResult = z.output<typeof syncResultSchema>;
export type OrgSyncResult = z.output<typeof orgSyncResultSchema>;
export type Organization = z.output<typeof organizationSchema>;
export type OrganizationPage = z.output<typeof organizationPageSchema>;
export type QuotaResult = z.output<typeof quotaResultSchema>;
export type AlertsResult = z.output<typeof alertsResultSchema>;

export const ALERT_TYPES = [
  "cost_threshold",
  "absolute_threshold",
  "budget_percent",
  "budget_forecast",
  "hierarchy_budget",
  "anomaly_percent_change",
  "anomaly_std_deviation",
] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

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
