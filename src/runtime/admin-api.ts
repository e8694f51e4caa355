/**
 * Every admin API route the jobs call (CONTRACT.md §1), in one typed module: paths, bodies, per-call
 * timeouts and zod response schemas. Schemas are loose (extra fields pass) and only list what we read,
 * so an API that grows a field does not break a job; a missing field is a PermanentError from the client.
 *
 * POSTs carry an Idempotency-Key (job + logical date) so the http client may retry them safely.
 *
 * @example
 * const api = createAdminApi(http);
 * const status = await api.bootstrapStatus();
 * if (!status.dataset_exists) await api.bootstrap({ idempotencyKey: ctx.idempotencyKey() });
 */
import { z } from "zod";
import type { HttpClient } from "./http.ts";

const BASE = "/api/v1";
const MINUTE = 60_000;
/** The server's bootstrap may take up to 10 min; wait longer than that so we never cut it off. */
const BOOTSTRAP_TIMEOUT_MS = 11 * MINUTE;
const SYNC_TIMEOUT_MS = 5 * MINUTE;
const QUOTA_TIMEOUT_MS = 3 * MINUTE;
const ALERTS_TIMEOUT_MS = 10 * MINUTE;

const strings = z.array(z.string());
/** `errors` arrive as strings or objects depending on the route; keep them printable. */
const errorList = z.array(z.unknown()).default([]);

export const bootstrapStatusSchema = z.looseObject({
  status: z.string(),
  dataset_exists: z.boolean(),
  tables_expected: z.number().int().nonnegative(),
  tables_existing: strings,
  tables_missing: strings,
  tables_extra: strings.default([]),
  schema_diffs: z
    .record(z.string(), z.unknown())
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
export const organizationSchema = z.looseObject({ org_slug: z.string(), status: z.string() });
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
  // `errors` is a count on this route in some API versions and a list in others.
  errors: z.union([z.number(), z.array(z.unknown())]).default(0),
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

export interface Keyed {
  /** Sent as the Idempotency-Key header, e.g. `bootstrap:2026-11-22`. */
  idempotencyKey: string;
}

export interface ProcessAlertsInput extends Keyed {
  alertTypes?: readonly AlertType[];
  sendNotifications?: boolean;
  dryRun?: boolean;
  orgSlug?: string;
}

/** POST results say whether the API replayed a stored answer for the Idempotency-Key (no new work done). */
export type Replayable<T> = T & { replayed: boolean };

export interface AdminApi {
  bootstrapStatus(): Promise<BootstrapStatus>;
  /** Never destructive: force_recreate_* are always false. A 409 (already bootstrapped) throws with status 409. */
  bootstrap(opts: Keyed): Promise<Replayable<BootstrapResult>>;
  bootstrapSync(opts: Keyed): Promise<Replayable<SyncResult>>;
  listOrganizations(opts: { page: number; pageSize?: number; status?: string }): Promise<OrganizationPage>;
  syncOrganization(orgSlug: string, opts: Keyed): Promise<Replayable<OrgSyncResult>>;
  resetDailyQuota(opts: Keyed): Promise<Replayable<QuotaResult>>;
  resetMonthlyQuota(opts: Keyed): Promise<Replayable<QuotaResult>>;
  cleanupStale(opts: Keyed): Promise<Replayable<QuotaResult>>;
  processAlerts(opts: ProcessAlertsInput): Promise<Replayable<AlertsResult>>;
}

/**
 * The admin API over an http client whose base URL is the API origin (`API_SERVICE_URL`).
 * `options.timeoutMs` replaces every per-call timeout (tests use it to exercise timeouts quickly).
 */
export function createAdminApi(http: HttpClient, options: { timeoutMs?: number } = {}): AdminApi {
  const post = async <T>(
    path: string,
    schema: z.ZodType<T>,
    key: string,
    callTimeoutMs: number,
    body?: unknown,
  ): Promise<Replayable<T>> => {
    const response = await http.request({
      method: "POST",
      path: `${BASE}${path}`,
      body,
      schema,
      idempotent: true,
      idempotencyKey: key,
      timeoutMs: options.timeoutMs ?? callTimeoutMs,
    });
    return { ...response.data, replayed: response.replayed };
  };
  const syncBody = { sync_missing_tables: true, sync_missing_columns: true };

  return {
    bootstrapStatus: async () =>
      (
        await http.request({
          method: "GET",
          path: `${BASE}/admin/bootstrap/status`,
          schema: bootstrapStatusSchema,
        })
      ).data,
    bootstrap: ({ idempotencyKey }) =>
      post("/admin/bootstrap", bootstrapResultSchema, idempotencyKey, BOOTSTRAP_TIMEOUT_MS, {
        force_recreate_dataset: false,
        force_recreate_tables: false,
      }),
    bootstrapSync: ({ idempotencyKey }) =>
      post("/admin/bootstrap/sync", syncResultSchema, idempotencyKey, BOOTSTRAP_TIMEOUT_MS, syncBody),
    listOrganizations: async ({ page, pageSize = 100, status = "ACTIVE" }) =>
      (
        await http.request({
          method: "GET",
          path: `${BASE}/organizations`,
          query: { status, page: String(page), page_size: String(pageSize) },
          schema: organizationPageSchema,
        })
      ).data,
    syncOrganization: (orgSlug, { idempotencyKey }) =>
      post(
        `/organizations/${encodeURIComponent(orgSlug)}/sync`,
        orgSyncResultSchema,
        idempotencyKey,
        SYNC_TIMEOUT_MS,
        syncBody,
      ),
    resetDailyQuota: ({ idempotencyKey }) =>
      post("/admin/quota/reset-daily", quotaResultSchema, idempotencyKey, QUOTA_TIMEOUT_MS),
    resetMonthlyQuota: ({ idempotencyKey }) =>
      post("/admin/quota/reset-monthly", quotaResultSchema, idempotencyKey, QUOTA_TIMEOUT_MS),
    cleanupStale: ({ idempotencyKey }) =>
      post("/admin/quota/cleanup-stale", quotaResultSchema, idempotencyKey, QUOTA_TIMEOUT_MS),
    processAlerts: ({
      idempotencyKey,
      alertTypes = ALERT_TYPES,
      sendNotifications = true,
      dryRun = false,
      orgSlug,
    }) =>
      post("/admin/alerts/process-all", alertsResultSchema, idempotencyKey, ALERTS_TIMEOUT_MS, {
        alert_types: [...alertTypes],
        send_notifications: sendNotifications,
        dry_run: dryRun,
        ...(orgSlug ? { org_slug: orgSlug } : {}),
      }),
  };
}
