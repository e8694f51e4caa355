/**
 * The admin API's answers (CONTRACT.md §1) as zod schemas, and the alert types. Loose objects: extra
 * fields pass, and only what the jobs read is listed. Re-exported by ./admin-api.ts, the one module jobs use.
 */
import { z } from "zod";

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
