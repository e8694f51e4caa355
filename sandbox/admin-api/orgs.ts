/** Listing organisations (paged, filtered by status) and syncing one organisation's dataset. */
import { syncDataset } from "./datasets.ts";
import { flag, HttpError, ok, type Route } from "./http.ts";
import { DATASET, ORG_TABLES, orgDataset } from "./tables.ts";

const STATUSES = ["ACTIVE", "INACTIVE", "SUSPENDED"];
/** The API's slug format (its middleware's ORG_SLUG_PATTERN). */
export const ORG_SLUG = /^[a-z0-9_]{3,50}$/;

function positiveInt(query: URLSearchParams, name: string, fallback: number, max: number): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new HttpError(400, `query parameter ${name} must be an integer from 1 to ${max}, got "${raw}"`);
  }
  return n;
}

export const listOrganizations: Route = async ({ wh, query }) => {
  const status = query.get("status")?.toUpperCase() ?? null;
  if (status !== null && !STATUSES.includes(status)) {
    throw new HttpError(400, `query parameter status must be one of ${STATUSES.join(", ")}, got "${status}"`);
  }
  const page = positiveInt(query, "page", 1, 1_000_000);
  const pageSize = positiveInt(query, "page_size", 50, 100);
  const where = "WHERE ($1::text IS NULL OR status = $1)";
  const total = await wh.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${DATASET}.org_profiles ${where}`,
    [status],
  );
  const rows = await wh.db.query<{ row: Record<string, unknown> }>(
    // The real API: ORDER BY created_at DESC with LIMIT/OFFSET, so rows move when an org is created or
    // deactivated between two pages (CONTRACT §1). The slug only breaks exact ties, for a stable sandbox.
    // Whole rows as JSON: an older dataset may lack a column (the legacy state has no default_timezone).
    `SELECT to_jsonb(p) AS row FROM ${DATASET}.org_profiles p ${where}
     ORDER BY created_at DESC, org_slug LIMIT $2 OFFSET $3`,
    [status, pageSize, (page - 1) * pageSize],
  );
  const organizations = rows.rows.map(({ row }) => {
    const r = row as Record<string, unknown>;
    const field = (name: string) => r[name] ?? null;
    return {
      org_slug: r.org_slug,
      company_name: field("org_name"),
      admin_email: field("admin_email"),
      subscription_plan: field("subscription_plan"),
      status: r.status,
      default_currency: field("default_currency"),
      default_timezone: field("default_timezone"),
      created_at:
        r.created_at === null || r.created_at === undefined
          ? null
          : new Date(String(r.created_at)).toISOString(),
    };
  });
  const n = total.rows[0]?.n ?? 0;
  return ok({ organizations, total: n, page, page_size: pageSize, has_next: page * pageSize < n });
};

export const syncOrganization: Route = async ({ wh, params, body }) => {
  const slug = params.org_slug ?? "";
  if (!ORG_SLUG.test(slug)) {
    throw new HttpError(400, `org_slug "${slug}" is not valid: 3-50 characters of a-z, 0-9 and _`);
  }
  const found = await wh.db.query<{ status: string }>(
    `SELECT status FROM ${DATASET}.org_profiles WHERE org_slug = $1`,
    [slug],
  );
  const org = found.rows[0];
  if (!org) throw new HttpError(404, `organization ${slug} not found`);
  if (org.status !== "ACTIVE") {
    throw new HttpError(400, `organization ${slug} is ${org.status}, only ACTIVE organizations are synced`);
  }
  const r = await syncDataset(wh.db, orgDataset(slug), ORG_TABLES, {
    tables: flag(body, "sync_missing_tables", true),
    columns: flag(body, "sync_missing_columns", true),
  });
  const columns = Object.values(r.columns_added).flat().length;
  return ok({
    org_slug: slug,
    status: r.errors.length > 0 ? "PARTIAL" : "SUCCESS",
    ...r,
    message: `organization ${slug}: ${r.tables_created.length} table(s) created, ${columns} column(s) added`,
  });
};
