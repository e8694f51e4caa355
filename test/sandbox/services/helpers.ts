/** Small fetch helpers for the service tests (plain HTTP, as a job's client would send it). */
import type { PGlite } from "@electric-sql/pglite";

export const ROOT_KEY = "sandbox-test-root-key";

export interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body the assertions read field by field
  body: any;
  headers: Headers;
}

export async function call(
  baseUrl: string,
  method: string,
  path: string,
  opts: { body?: unknown; key?: string | null; idempotencyKey?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const key = opts.key === undefined ? ROOT_KEY : opts.key;
  if (key !== null) headers["x-ca-root-key"] = key;
  if (opts.idempotencyKey) headers["idempotency-key"] = opts.idempotencyKey;
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

/** A fingerprint of every row of the tables of a schema: equal fingerprints mean equal state. */
export async function fingerprint(db: PGlite, schema: string): Promise<Record<string, string>> {
  const tables = await db.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1",
    [schema],
  );
  const out: Record<string, string> = {};
  for (const { table_name } of tables.rows) {
    const r = await db.query<{ n: number; h: string | null }>(
      `SELECT count(*)::int AS n, md5(string_agg(t::text, '|' ORDER BY t::text)) AS h FROM "${schema}"."${table_name}" t`,
    );
    out[table_name] = `${r.rows[0]?.n}:${r.rows[0]?.h}`;
  }
  return out;
}

export async function scalar<T = number>(db: PGlite, sql: string, params: unknown[] = []): Promise<T> {
  const r = await db.query<Record<string, T>>(sql, params);
  const row = r.rows[0];
  if (!row) throw new Error(`no row from ${sql}`);
  return Object.values(row)[0] as T;
}
