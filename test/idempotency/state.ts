/** Reading end states straight from a sandbox database: rows for readable snapshots, and fingerprints. */
import type { WarehouseQueries } from "../../sandbox/admin-api/warehouse-db.ts";

/** A database to read: PGlite, or a warehouse on a PostgreSQL server. */
type Db = Pick<WarehouseQueries, "query">;

/** Rows of a query, for snapshots (`toEqual` shows the difference row by row). */
export async function rows<T = Record<string, unknown>>(db: Db, sql: string, params: unknown[] = []) {
  return (await db.query<T>(sql, params)).rows;
}

/** Schemas of a database the jobs may change (not the emulator's bookkeeping, not Postgres's catalogs). */
const USER_SCHEMAS = `nspname NOT IN ('sandbox_admin', 'information_schema') AND nspname NOT LIKE 'pg\\_%'`;

/**
 * Every table's columns and a digest of every row, for all user schemas: two equal fingerprints mean
 * the same tables, columns and data. `skipColumns` leaves out values that are wall-clock by nature.
 */
export async function fingerprint(db: Db, skipColumns: string[] = []): Promise<Record<string, string>> {
  const tables = await rows<{ schema: string; name: string; cols: string[] }>(
    db,
    `SELECT n.nspname AS schema, c.relname AS name,
       array_agg(a.attname || ':' || format_type(a.atttypid, a.atttypmod) ORDER BY a.attname) AS cols
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE c.relkind = 'r' AND ${USER_SCHEMAS} GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  const out: Record<string, string> = {};
  for (const t of tables) {
    const keep = t.cols.map((c) => c.split(":")[0] as string).filter((c) => !skipColumns.includes(c));
    const list = keep.map((c) => `"${c}"`).join(", ");
    const [r] = await rows<{ n: number; h: string | null }>(
      db,
      `SELECT count(*)::int AS n, md5(string_agg(x::text, '|' ORDER BY x::text)) AS h
       FROM (SELECT ${list || "1"} FROM "${t.schema}"."${t.name}") x`,
    );
    out[`${t.schema}.${t.name}`] = `${t.cols.join(",")} rows=${r?.n}:${r?.h}`;
  }
  return out;
}
