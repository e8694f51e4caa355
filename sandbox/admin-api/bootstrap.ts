/**
 * `bootstrap/status`, `bootstrap` (fresh) and `bootstrap/sync` on the `organizations` meta dataset.
 * The status is cached for 60 s (sandbox clock) like the real API's; `?force_refresh=true` bypasses it.
 */
import { diffDataset, syncDataset } from "./datasets.ts";
import { flag, HttpError, ok, type Route } from "./http.ts";
import { createTableSql, DATASET, ident, META_TABLES } from "./tables.ts";

export const STATUS_CACHE_MS = 60_000;
const statusCache = new WeakMap<object, { at: number; body: unknown }>();

export const bootstrapStatus: Route = async ({ wh, now, query }) => {
  const cached = statusCache.get(wh);
  const age = cached ? now.getTime() - cached.at : Number.POSITIVE_INFINITY;
  if (cached && query.get("force_refresh") !== "true" && age >= 0 && age < STATUS_CACHE_MS)
    return ok(cached.body);
  const body = await freshStatus(wh);
  statusCache.set(wh, { at: now.getTime(), body });
  return ok(body);
};

/** OUT_OF_SYNC when a table is missing or any table's columns differ (extra ones too); extra tables do not count. */
async function freshStatus(wh: Parameters<Route>[0]["wh"]) {
  const d = await diffDataset(wh.db, DATASET, META_TABLES);
  const clean = d.dataset_exists && d.tables_missing.length === 0 && Object.keys(d.schema_diffs).length === 0;
  const status = !d.dataset_exists ? "NOT_BOOTSTRAPPED" : clean ? "SYNCED" : "OUT_OF_SYNC";
  const message = !d.dataset_exists
    ? `dataset ${DATASET} does not exist: POST /api/v1/admin/bootstrap creates it`
    : clean
      ? `dataset ${DATASET} has all ${d.tables_expected} tables with every column`
      : `${d.tables_missing.length} table(s) missing, ${Object.keys(d.schema_diffs).length} table(s) with column differences`;
  return { status, ...d, message };
}

/** Fresh bootstrap: creates the dataset and every table; 409 when the dataset exists (unless forced). */
export const bootstrapFresh: Route = async ({ wh, body }) => {
  const recreateDataset = flag(body, "force_recreate_dataset", false);
  const recreateTables = flag(body, "force_recreate_tables", false);
  const d = await diffDataset(wh.db, DATASET, META_TABLES);
  if (d.dataset_exists && !recreateDataset && !recreateTables) {
    throw new HttpError(
      409,
      `dataset ${DATASET} already exists (${d.tables_existing.length} of ${d.tables_expected} tables): use POST /api/v1/admin/bootstrap/sync to add what is missing`,
    );
  }
  const created: string[] = [];
  const existed: string[] = [];
  await wh.db.transaction(async (tx) => {
    if (recreateDataset) await tx.exec(`DROP SCHEMA IF EXISTS ${ident(DATASET)} CASCADE`);
    await tx.exec(`CREATE SCHEMA IF NOT EXISTS ${ident(DATASET)}`);
    for (const def of META_TABLES) {
      const exists = !recreateDataset && d.tables_existing.includes(def.name);
      if (exists && !recreateTables) {
        existed.push(def.name);
        continue;
      }
      if (exists) await tx.exec(`DROP TABLE ${ident(DATASET)}.${ident(def.name)}`);
      await tx.exec(createTableSql(DATASET, def));
      created.push(def.name);
    }
  });
  return ok({
    status: "SUCCESS",
    tables_created: created,
    tables_existed: existed,
    total_tables: META_TABLES.length,
    message: `bootstrapped dataset ${DATASET}: ${created.length} table(s) created, ${existed.length} existed`,
  });
};

/** Sync: adds missing tables and missing columns, never drops; PARTIAL when a step failed. */
export const bootstrapSync: Route = async ({ wh, body }) => {
  const r = await syncDataset(wh.db, DATASET, META_TABLES, {
    tables: flag(body, "sync_missing_tables", true),
    columns: flag(body, "sync_missing_columns", true),
  });
  const columns = Object.values(r.columns_added).flat().length;
  return ok({
    status: r.errors.length > 0 ? "PARTIAL" : "SUCCESS",
    ...r,
    message: `dataset ${DATASET}: ${r.tables_created.length} table(s) created, ${columns} column(s) added, ${r.errors.length} error(s)`,
  });
};
