/**
 * CONTRACT §2 (Supabase Management API, migrate only), one behaviour per test, asserted on the sandbox
 * over plain HTTP, so the sandbox cannot drift from the contract: the query route and its answers, SQL
 * errors as 400 or 500, the per-token limit, and the legacy start state the old tools left production in.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFaults } from "../../../sandbox/faults.ts";
import { LEGACY_ROWS, SELF_RECORDED_CHECKSUM } from "../../../sandbox/supabase/legacy.ts";
import { type SupabaseService, startSupabaseApi } from "../../../sandbox/supabase/server.ts";

const TOKEN = "sbp_conformance";
const REF = "conformanceref000000";
const faults = createFaults();
let sb: SupabaseService;

beforeAll(async () => {
  sb = await startSupabaseApi({ token: TOKEN, projectRef: REF, faults, state: "legacy" });
});
afterAll(() => sb?.close());

async function query(sql: string, token: string | null = TOKEN) {
  const res = await fetch(`${sb.url}/v1/projects/${REF}/database/query`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: sql }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body the assertions read field by field
  return { status: res.status, body: (await res.json()) as any, headers: res.headers };
}

describe("CONTRACT §2: POST /v1/projects/{ref}/database/query", () => {
  it("answers 201 with the rows of the last statement as a JSON array", async () => {
    expect(await query("SELECT 1 AS a; SELECT 2 AS b, 'x' AS c")).toMatchObject({
      status: 201,
      body: [{ b: 2, c: "x" }],
    });
  });

  it.each([
    ["no", null],
    ["a wrong", "sbp_wrong"],
  ])("answers 401 to %s bearer token", async (_case, token) => {
    expect((await query("SELECT 1", token)).status).toBe(401);
  });

  it("answers an SQL error with 400 {message} carrying the database's message, and runs nothing of the script", async () => {
    const r = await query("CREATE TABLE public.half (id int); SELECT nope FROM public.half;");
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/^Failed to run sql query: ERROR: {2}42703: column "nope" does not exist/);
    expect((await query("SELECT to_regclass('public.half') IS NULL AS gone")).body).toEqual([{ gone: true }]);
  });

  it('can answer an SQL error with 500 "Failed to run sql query" and the database\'s message', async () => {
    sb.setSqlErrorStatus(500);
    try {
      const r = await query("SELECT 1/0");
      expect(r.status).toBe(500);
      expect(r.body.message).toMatch(/^Failed to run sql query: ERROR: {2}22012: division by zero/);
    } finally {
      sb.setSqlErrorStatus(400);
    }
  });

  it("limits requests per token per minute (a fault): 429 and blocked past the next full minute", async () => {
    faults.set("supabase", { route: "POST /v1/projects/*", perMinute: 1 });
    try {
      const statuses = [(await query("SELECT 1")).status, (await query("SELECT 1")).status];
      expect(statuses[1]).toBe(429);
    } finally {
      faults.clear("supabase");
    }
  });
});

describe("CONTRACT §2: the legacy start state (the old tools' tracking table)", () => {
  it("has schema_migrations exactly as the old 00_migration_tracking.sql made it", async () => {
    const columns = await sb.sql(
      `SELECT column_name, data_type, character_maximum_length AS len, is_nullable, column_default
       FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'schema_migrations'
       ORDER BY ordinal_position`,
    );
    expect(columns).toEqual([
      expect.objectContaining({ column_name: "id", data_type: "integer", is_nullable: "NO" }),
      expect.objectContaining({
        column_name: "filename",
        data_type: "character varying",
        len: 255,
        is_nullable: "NO",
      }),
      expect.objectContaining({
        column_name: "applied_at",
        data_type: "timestamp with time zone",
        is_nullable: "YES",
        column_default: "now()",
      }),
      expect.objectContaining({
        column_name: "checksum",
        data_type: "character varying",
        len: 64,
        is_nullable: "YES",
      }),
      expect.objectContaining({ column_name: "execution_time_ms", data_type: "integer", is_nullable: "YES" }),
      expect.objectContaining({
        column_name: "applied_by",
        len: 255,
        is_nullable: "YES",
        column_default: "CURRENT_USER",
      }),
    ]);
    const unique = await sb.sql(
      `SELECT 1 FROM pg_indexes WHERE tablename = 'schema_migrations' AND indexdef LIKE '%UNIQUE%(filename)%'`,
    );
    expect(unique).toHaveLength(1);
  });

  it("holds rows with a checksum in every form the old tools wrote", async () => {
    const rows = await sb.sql<{ filename: string; checksum: string | null; applied_by: string }>(
      "SELECT filename, checksum, applied_by FROM schema_migrations ORDER BY filename",
    );
    const by = new Map(rows.map((r) => [r.filename, r]));
    expect(by.get(LEGACY_ROWS.fullSha256)?.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(by.get(LEGACY_ROWS.sha256Prefix16)).toMatchObject({ applied_by: "cloud_run_job" });
    expect(by.get(LEGACY_ROWS.sha256Prefix16)?.checksum).toMatch(/^[0-9a-f]{16}$/);
    expect(by.get(LEGACY_ROWS.nullChecksum)?.checksum).toBeNull();
    expect(by.get(LEGACY_ROWS.recordsItself)?.checksum).toBe(SELF_RECORDED_CHECKSUM);
  });

  it("accepts a file's own tracking insert, and ignores it the second time (ON CONFLICT DO NOTHING)", async () => {
    const own = `INSERT INTO schema_migrations (filename, checksum) VALUES ('45_own.sql', 'own-v1')
      ON CONFLICT (filename) DO NOTHING; SELECT count(*)::int AS n FROM schema_migrations WHERE filename = '45_own.sql'`;
    expect(await query(own)).toMatchObject({ status: 201, body: [{ n: 1 }] });
    expect(await query(own)).toMatchObject({ status: 201, body: [{ n: 1 }] });
  });
});
