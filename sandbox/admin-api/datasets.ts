/**
 * Compare a dataset (a Postgres schema) with its table definitions, and bring it up to date without
 * ever dropping anything: shared by bootstrap status/sync and by the per-organisation sync.
 */

import { createTableSql, ident, pgType, type TableDef } from "./tables.ts";
import type { WarehouseQueries } from "./warehouse-db.ts";

export interface DatasetDiff {
  dataset_exists: boolean;
  tables_expected: number;
  tables_existing: string[];
  tables_missing: string[];
  tables_extra: string[];
  /**
   * `{table: {missing_columns, extra_columns}}` for every table whose columns differ either way; extra
   * columns (BigQuery has them, the config does not) are never removed by a sync, so they stay listed.
   */
  schema_diffs: Record<string, { missing_columns: string[]; extra_columns: string[] }>;
}

export interface SyncResult {
  tables_created: string[];
  columns_added: Record<string, string[]>;
  errors: string[];
}

export async function datasetExists(db: WarehouseQueries, schema: string): Promise<boolean> {
  const r = await db.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = $1", [schema]);
  return r.rows.length > 0;
}

async function columnsBySchema(db: WarehouseQueries, schema: string): Promise<Map<string, Set<string>>> {
  const r = await db.query<{ table_name: string; column_name: string }>(
    `SELECT t.table_name, c.column_name FROM information_schema.tables t
     LEFT JOIN information_schema.columns c ON c.table_schema = t.table_schema AND c.table_name = t.table_name
     WHERE t.table_schema = $1`,
    [schema],
  );
  const out = new Map<string, Set<string>>();
  for (const row of r.rows) {
    const cols = out.get(row.table_name) ?? new Set<string>();
    if (row.column_name) cols.add(row.column_name);
    out.set(row.table_name, cols);
  }
  return out;
}

/** What `bootstrap/status` reports for a dataset. */
export async function diffDataset(
  db: WarehouseQueries,
  schema: string,
  defs: TableDef[],
): Promise<DatasetDiff> {
  const exists = await datasetExists(db, schema);
  const actual = exists ? await columnsBySchema(db, schema) : new Map<string, Set<string>>();
  const expected = new Set(defs.map((d) => d.name));
  const schema_diffs: DatasetDiff["schema_diffs"] = {};
  for (const def of defs) {
    const cols = actual.get(def.name);
    if (!cols) continue;
    const missing = def.columns.map(([c]) => c).filter((c) => !cols.has(c));
    const known = new Set(def.columns.map(([c]) => c));
    const extra = [...cols].filter((c) => !known.has(c)).sort();
    if (missing.length > 0 || extra.length > 0)
      schema_diffs[def.name] = { missing_columns: missing, extra_columns: extra };
  }
  return {
    dataset_exists: exists,
    tables_expected: defs.length,
    tables_existing: [...actual.keys()].filter((t) => expected.has(t)).sort(),
    tables_missing: defs.map((d) => d.name).filter((t) => !actual.has(t)),
    tables_extra: [...actual.keys()].filter((t) => !expected.has(t)).sort(),
    schema_diffs,
  };
}

/**
 * Creates the schema if needed, then missing tables and/or missing columns. Each table is its own step,
 * so one failure becomes an entry in `errors` (status PARTIAL) instead of hiding the rest.
 */
export async function syncDataset(
  db: WarehouseQueries,
  schema: string,
  defs: TableDef[],
  opts: { tables: boolean; columns: boolean },
): Promise<SyncResult> {
  const result: SyncResult = { tables_created: [], columns_added: {}, errors: [] };
  await db.exec(`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`).catch((error: unknown) => {
    // Created by a concurrent request between the check and the insert: it exists, which is all we need.
    if (!isCatalogRace(error)) throw error;
  });
  const actual = await columnsBySchema(db, schema);
  for (const def of defs) {
    const cols = actual.get(def.name);
    try {
      if (!cols) {
        if (!opts.tables) continue;
        await db.exec(createTableSql(schema, def));
        result.tables_created.push(def.name);
      } else if (opts.columns) {
        const missing = def.columns.filter(([c]) => !cols.has(c));
        for (const [c, t] of missing) {
          await db.exec(
            // IF NOT EXISTS, as the real API's ALTER: a concurrent sync adding it first is no error.
            `ALTER TABLE ${ident(schema)}.${ident(def.name)} ADD COLUMN IF NOT EXISTS ${ident(c)} ${pgType(t)}`,
          );
        }
        if (missing.length > 0) result.columns_added[def.name] = missing.map(([c]) => c);
      }
    } catch (error) {
      const message = isCatalogRace(error)
        ? `relation "${def.name}" already exists (created by a concurrent request)`
        : (error as Error).message;
      result.errors.push(`${schema}.${def.name}: ${message}`);
    }
  }
  return result;
}

/**
 * Two sessions creating one table (or schema) at the same moment: PostgreSQL says so either as "relation …
 * already exists" (42P07) or, when both passed the catalog check, as a unique violation (23505) on a system
 * catalog's name index. BigQuery, under the real route, answers 409 Already Exists for both: so does this.
 */
function isCatalogRace(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown };
  return (
    e.code === "23505" &&
    /pg_(type_typname|class_relname|namespace_nspname)_(nsp_)?index/.test(String(e.message ?? ""))
  );
}
