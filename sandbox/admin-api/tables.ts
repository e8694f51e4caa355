/**
 * The fixed table definitions of the reference admin API, in BigQuery's type vocabulary.
 *
 * `META_TABLES` are the bootstrap meta tables of the `organizations` dataset (a Postgres schema here);
 * `ORG_TABLES` are the tables of each organisation's own dataset (schema `org_<slug>`). Bootstrap, status,
 * sync and org sync all read these lists, so adding a column here is what "a new API version" means.
 */
export type ColumnType = "STRING" | "INT64" | "FLOAT64" | "BOOL" | "DATE" | "TIMESTAMP" | "JSON";
export interface TableDef {
  name: string;
  columns: [name: string, type: ColumnType][];
  /** Extra SQL inside CREATE TABLE (keys the routes rely on for idempotent writes). */
  constraints?: string[];
}

export const DATASET = "organizations";

/** The dataset (schema) of one organisation: its slug, which is already a safe identifier. */
export function orgDataset(orgSlug: string): string {
  return orgSlug;
}

const PG_TYPES: Record<ColumnType, string> = {
  STRING: "TEXT",
  INT64: "BIGINT",
  FLOAT64: "DOUBLE PRECISION",
  BOOL: "BOOLEAN",
  DATE: "DATE",
  TIMESTAMP: "TIMESTAMPTZ",
  JSON: "JSONB",
};

const created: [string, ColumnType] = ["created_at", "TIMESTAMP"];

export const META_TABLES: TableDef[] = [
  {
    name: "org_profiles",
    columns: [
      ["org_slug", "STRING"],
      ["org_name", "STRING"],
      ["status", "STRING"],
      ["admin_email", "STRING"],
      ["subscription_plan", "STRING"],
      ["default_currency", "STRING"],
      ["default_timezone", "STRING"],
      created,
      ["updated_at", "TIMESTAMP"],
    ],
    constraints: ["PRIMARY KEY (org_slug)"],
  },
  {
    name: "org_usage_quotas",
    columns: [
      ["org_slug", "STRING"],
      ["usage_date", "DATE"],
      ["pipelines_run_today", "INT64"],
      ["pipelines_failed_today", "INT64"],
      ["pipelines_succeeded_today", "INT64"],
      ["pipelines_run_month", "INT64"],
      ["concurrent_running", "INT64"],
      ["daily_limit", "INT64"],
      ["monthly_limit", "INT64"],
      ["concurrent_limit", "INT64"],
      created,
      ["last_updated", "TIMESTAMP"],
    ],
    constraints: ["PRIMARY KEY (org_slug, usage_date)"],
  },
  table("org_api_keys", ["api_key_id", "org_slug", "key_hash", "scopes"], [["is_active", "BOOL"]]),
  table(
    "org_subscriptions",
    ["subscription_id", "org_slug", "plan_name", "status"],
    [
      ["daily_limit", "INT64"],
      ["monthly_limit", "INT64"],
      ["concurrent_limit", "INT64"],
      ["ends_at", "TIMESTAMP"],
    ],
  ),
  table("org_integration_credentials", [
    "credential_id",
    "org_slug",
    "provider",
    "credential_name",
    "validation_status",
  ]),
  table(
    "org_pipeline_configs",
    ["config_id", "org_slug", "provider", "pipeline_name", "schedule"],
    [["is_active", "BOOL"]],
  ),
  table(
    "org_scheduled_pipeline_runs",
    ["run_id", "org_slug", "config_id", "state"],
    [["scheduled_at", "TIMESTAMP"]],
  ),
  table("org_pipeline_execution_queue", ["queue_id", "org_slug", "run_id", "state"], [["priority", "INT64"]]),
  table(
    "org_meta_pipeline_runs",
    ["pipeline_logging_id", "org_slug", "pipeline_id", "status", "trigger_type", "error_message"],
    [
      ["start_time", "TIMESTAMP"],
      ["end_time", "TIMESTAMP"],
      ["duration_ms", "INT64"],
    ],
  ),
  table(
    "org_meta_step_logs",
    ["step_logging_id", "pipeline_logging_id", "org_slug", "step_name", "status"],
    [
      ["start_time", "TIMESTAMP"],
      ["end_time", "TIMESTAMP"],
    ],
  ),
  table(
    "org_meta_dq_results",
    ["dq_id", "org_slug", "pipeline_logging_id", "check_name"],
    [["passed", "BOOL"]],
  ),
  table("org_audit_logs", ["audit_id", "org_slug", "actor", "action", "resource"], [["details", "JSON"]]),
  table(
    "org_cost_tracking",
    ["org_slug", "service"],
    [
      ["cost_date", "DATE"],
      ["cost_usd", "FLOAT64"],
    ],
  ),
  table(
    "org_budgets",
    ["budget_id", "org_slug", "scope", "parent_budget_id", "period"],
    [["amount_usd", "FLOAT64"]],
  ),
  table(
    "org_alert_rules",
    ["rule_id", "org_slug", "alert_type", "scope", "channel"],
    [
      ["threshold_value", "FLOAT64"],
      ["enabled", "BOOL"],
    ],
  ),
  table(
    "org_notification_channels",
    ["channel_id", "org_slug", "channel_type", "target"],
    [["is_active", "BOOL"]],
  ),
  {
    ...table(
      "org_notifications_sent",
      ["notification_id", "rule_id", "org_slug", "alert_type", "channel", "message"],
      [
        ["notify_date", "DATE"],
        ["value", "FLOAT64"],
        ["threshold_value", "FLOAT64"],
        ["sent_at", "TIMESTAMP"],
      ],
    ),
    // No uniqueness: like the real API, every call that triggers a rule sends (and records) again.
  },
  table("org_hierarchy", ["node_id", "org_slug", "parent_node_id", "name"], [["level", "INT64"]]),
  table("org_members", ["member_id", "org_slug", "email", "role"]),
  table(
    "org_invitations",
    ["invite_id", "org_slug", "email", "role", "status"],
    [["expires_at", "TIMESTAMP"]],
  ),
  {
    // One row per org per monthly reset call (a repeat on the 1st shows as a second row).
    ...table("org_quota_resets", ["org_slug", "reset_kind", "period"]),
  },
  table(
    "org_datasets",
    ["org_slug", "dataset_id"],
    [
      ["tables_count", "INT64"],
      ["last_synced_at", "TIMESTAMP"],
    ],
  ),
];

/** Tables of each organisation's dataset (`org_<slug>`). */
export const ORG_TABLES: TableDef[] = [
  table(
    "cost_data_focus_1_3",
    ["billing_account_id", "service_name", "resource_id", "region"],
    [
      ["charge_period_start", "TIMESTAMP"],
      ["billed_cost", "FLOAT64"],
      ["effective_cost", "FLOAT64"],
    ],
  ),
  table(
    "cloud_costs",
    ["provider", "service", "sku"],
    [
      ["usage_date", "DATE"],
      ["cost_usd", "FLOAT64"],
    ],
  ),
  table(
    "saas_subscription_costs",
    ["vendor", "plan"],
    [
      ["month", "DATE"],
      ["cost_usd", "FLOAT64"],
    ],
  ),
  table(
    "genai_usage",
    ["provider", "model"],
    [
      ["usage_date", "DATE"],
      ["input_tokens", "INT64"],
      ["output_tokens", "INT64"],
      ["cost_usd", "FLOAT64"],
    ],
  ),
  table("pipeline_logs", ["pipeline_logging_id", "step", "message", "severity"]),
];

function table(name: string, strings: string[], more: [string, ColumnType][] = []): TableDef {
  return { name, columns: [...strings.map((s): [string, ColumnType] => [s, "STRING"]), ...more, created] };
}

export function pgType(type: ColumnType): string {
  return PG_TYPES[type];
}

/** `CREATE TABLE schema.name (...)`, optionally without some columns (to build an older version). */
export function createTableSql(schema: string, def: TableDef, omit: string[] = []): string {
  const cols = def.columns.filter(([c]) => !omit.includes(c)).map(([c, t]) => `${ident(c)} ${pgType(t)}`);
  const constraints = def.constraints ?? [];
  return `CREATE TABLE ${ident(schema)}.${ident(def.name)} (${[...cols, ...constraints].join(", ")})`;
}

/** Quotes an identifier that comes from our own definitions or a validated slug. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
