/**
 * The warehouse's database, one of two kinds behind one small interface (what the admin API and the
 * BigQuery emulator use of PGlite: `query`, `exec`, `transaction`, `close`):
 * - PGlite (default): one connection, so the services handle requests one at a time (`exclusive`).
 * - a real PostgreSQL server (`postgresUrl`): a pool of sessions, every request on its own, so requests
 *   really run at once, as they do on the real API — what a test of two jobs running together needs.
 *
 * The server backend answers with PGlite's JavaScript types (BIGINT as a number when safe, DATE as
 * 'YYYY-MM-DD' text, TIMESTAMP without zone as UTC), so no handler can tell the two apart.
 */
import pg from "pg";

export interface SqlResult<T> {
  rows: T[];
  affectedRows?: number;
  fields: { name: string; dataTypeID: number }[];
}

export interface WarehouseQueries {
  query<T = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
    options?: { rowMode?: "array" | "object" },
  ): Promise<SqlResult<T>>;
  /** One or more statements without parameters; one result per statement. */
  exec(sql: string): Promise<SqlResult<Record<string, unknown>>[]>;
}

export interface WarehouseDb extends WarehouseQueries {
  transaction<T>(fn: (tx: WarehouseQueries) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const INT8 = 20;
const DATE = 1082;
const TIMESTAMP = 1114;
const parsers = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === DATE) return (v: string) => v;
    if (oid === TIMESTAMP) return (v: string) => new Date(`${v.replace(" ", "T")}Z`);
    if (oid === INT8)
      return (v: string) => {
        const n = BigInt(v);
        return n < Number.MIN_SAFE_INTEGER || n > Number.MAX_SAFE_INTEGER ? n : Number(n);
      };
    return pg.types.getTypeParser(oid, format);
  },
};

function toResult<T>(r: pg.QueryResult): SqlResult<T> {
  const counted = r.command === "INSERT" || r.command === "UPDATE" || r.command === "DELETE";
  return {
    rows: r.rows as T[],
    fields: (r.fields ?? []).map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
    ...(counted ? { affectedRows: r.rowCount ?? 0 } : {}),
  };
}

/** Queries on the pool (any free session) or on one client (a transaction's). */
function queries(c: pg.Pool | pg.PoolClient): WarehouseQueries {
  return {
    async query(sql, params = [], options = {}) {
      const rowMode = options.rowMode === "array" ? { rowMode: "array" as const } : {};
      return toResult(await c.query({ text: sql, values: params, types: parsers, ...rowMode }));
    },
    async exec(sql) {
      const r = (await c.query({ text: sql, types: parsers })) as pg.QueryResult | pg.QueryResult[];
      return (Array.isArray(r) ? r : [r]).map((x) => toResult<Record<string, unknown>>(x));
    },
  };
}

/**
 * A pool of sessions on a PostgreSQL server; every session in UTC, as the PGlite warehouse is.
 * @example const db = await openPostgresWarehouse("postgres://postgres@127.0.0.1:5432/warehouse");
 */
export async function openPostgresWarehouse(connectionString: string): Promise<WarehouseDb> {
  const pool = new pg.Pool({ connectionString, max: 20, options: "-c TimeZone=UTC" });
  // A session closing while the server shuts down reports 57P01 as an 'error' event: harmless then.
  pool.on("connect", (client) => client.on("error", () => undefined));
  pool.on("error", () => undefined);
  await pool.query("SELECT 1"); // fail here, naming the server, rather than on the first request
  return {
    ...queries(pool),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const out = await fn(queries(client));
        await client.query("COMMIT");
        return out;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/**
 * Creates database `name` on the server of `serverUrl` (from `template` when given) and returns its URL.
 * @example const url = await createDatabase(server.url, "wh_copy", "wh_template");
 */
export async function createDatabase(serverUrl: string, name: string, template?: string): Promise<string> {
  const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${ident(name)}${template ? ` TEMPLATE ${ident(template)}` : ""}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
