/**
 * The database behind the sandbox's Supabase Management API, one of two kinds:
 * - PGlite (default): one connection, so requests run one at a time (a script is atomic, nothing
 *   interleaves); after each request the connection is reset (rollback, role, settings).
 * - a real PostgreSQL server (`postgresUrl`): every request on its own fresh connection, so requests run
 *   truly in parallel in separate sessions, as on Supabase — what a test of locks between sessions needs.
 *
 * Either way a multi-statement body runs like Postgres's simple query protocol (one implicit transaction
 * unless the script manages its own) and the answer is the rows of the LAST statement.
 */
import { PGlite, types } from "@electric-sql/pglite";
import { pgcrypto } from "@electric-sql/pglite/contrib/pgcrypto";
import { uuid_ossp } from "@electric-sql/pglite/contrib/uuid_ossp";
import pg from "pg";
import { createMutex } from "../service.ts";

export interface SqlError {
  code?: string;
  message: string;
  position?: string;
  detail?: string;
  hint?: string;
}

export interface SqlDatabase {
  /** Runs a script; rows of its last statement, or the database's error. */
  run(sql: string): Promise<{ rows: unknown[] } | { error: SqlError }>;
  close(): Promise<void>;
}

const toError = (e: unknown): SqlError => {
  const err = e as Partial<SqlError>;
  return {
    message: err.message ?? String(e),
    ...(err.code ? { code: err.code } : {}),
    ...(err.position ? { position: err.position } : {}),
    ...(err.detail ? { detail: err.detail } : {}),
    ...(err.hint ? { hint: err.hint } : {}),
  };
};

/** PGlite in memory or in `dataDir`; `init` runs once, when the database is new. */
export async function openPglite(
  dataDir: string | undefined,
  init: (exec: (sql: string) => Promise<unknown>) => Promise<void>,
): Promise<SqlDatabase & { db: PGlite }> {
  const db = await PGlite.create({
    dataDir,
    extensions: { uuid_ossp, pgcrypto },
    parsers: { [types.DATE]: (v: string) => v },
  });
  await init((sql) => db.exec(sql));
  const mutex = createMutex();
  return {
    db,
    run: (sql) =>
      mutex.run(async () => {
        try {
          const results = await db.exec(sql);
          return { rows: results.at(-1)?.rows ?? [] };
        } catch (e) {
          return { error: toError(e) };
        } finally {
          // Like a pool handing out a fresh connection: nothing of this request leaks into the next.
          await db.exec("ROLLBACK; RESET ROLE; RESET ALL").catch(() => undefined);
        }
      }),
    close: () => mutex.run(() => db.close()),
  };
}

/** A real PostgreSQL server: a new session per request (closed afterwards, so nothing leaks). */
export async function openPostgres(
  connectionString: string,
  init: (exec: (sql: string) => Promise<unknown>) => Promise<void>,
): Promise<SqlDatabase> {
  const pool = new pg.Pool({ connectionString, max: 20 });
  // A session still closing when the server shuts down gets "terminating connection" (57P01) as an 'error'
  // event; a query's own errors arrive through its promise, so an event listener only keeps that late,
  // harmless one from becoming an uncaught exception.
  pool.on("connect", (client) => client.on("error", () => undefined));
  pool.on("error", () => undefined);
  // DATE as 'YYYY-MM-DD' text, as the PGlite backend answers it.
  const parsers = {
    getTypeParser: (oid: number, format?: "text" | "binary") =>
      oid === 1082 ? (v: string) => v : pg.types.getTypeParser(oid, format),
  };
  await init(async (sql) => {
    const c = await pool.connect();
    try {
      await c.query(sql);
    } finally {
      c.release(true);
    }
  });
  return {
    async run(sql) {
      const c = await pool.connect();
      try {
        const result = (await c.query({ text: sql, types: parsers })) as pg.QueryResult | pg.QueryResult[];
        const last = Array.isArray(result) ? result.at(-1) : result;
        return { rows: last?.rows ?? [] };
      } catch (e) {
        return { error: toError(e) };
      } finally {
        c.release(true);
      }
    },
    close: () => pool.end(),
  };
}
