/**
 * Two migrate runs at once against a REAL PostgreSQL server (PGlite has one connection, so there the
 * advisory lock never meets a second session). The sandbox's Supabase API runs each request on its own
 * connection, so the two runs' transactions really interleave. Each file inserts a row into `apply_log`
 * (not idempotent on purpose): any file applied twice shows up as two rows.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import migrate from "../../jobs/manual/migrate.ts";
import { createFaults } from "../../sandbox/faults.ts";
import { type PostgresServer, startPostgresServer } from "../../sandbox/supabase/postgres-server.ts";
import { type SupabaseService, startSupabaseApi } from "../../sandbox/supabase/server.ts";
import { runJob } from "../helpers/context.ts";

const TOKEN = "sbp_concurrency_test";
const REF = "concurrencyref000000";
const FILES = ["01_a.sql", "02_b.sql", "02a_c.sql", "03_d.sql"];
let server: PostgresServer;
let sb: SupabaseService;
let dir: string;

beforeAll(async () => {
  server = await startPostgresServer();
  sb = await startSupabaseApi({
    postgresUrl: server.url,
    token: TOKEN,
    projectRef: REF,
    faults: createFaults(),
  });
  await sb.sql("CREATE TABLE public.apply_log (filename text NOT NULL, backend_pid int NOT NULL)");
  dir = await mkdtemp(join(tmpdir(), "migrate-concurrency-"));
  for (const name of FILES) {
    // Holds the lock for a while, so the other run's request arrives while it is held.
    await writeFile(
      join(dir, name),
      `INSERT INTO public.apply_log VALUES ('${name}', pg_backend_pid());\nSELECT pg_sleep(0.25);\n`,
    );
  }
}, 60_000);
afterAll(async () => {
  await sb?.close();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Largest number of sessions seen waiting on an advisory lock at once, sampled until `stop`. */
async function watchAdvisoryWaits(stop: Promise<unknown>): Promise<number> {
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  let max = 0;
  let done = false;
  void stop.finally(() => (done = true));
  while (!done) {
    const { rows } = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'",
    );
    max = Math.max(max, rows[0]?.n ?? 0);
    await new Promise((r) => setTimeout(r, 20));
  }
  await client.end();
  return max;
}

it("two migrate runs at once apply each file exactly once, queued on the advisory lock", async () => {
  const env = { SUPABASE_API_URL: sb.url, SUPABASE_ACCESS_TOKEN: TOKEN, SUPABASE_PROJECT_REF: REF };
  const both = Promise.all([
    runJob(migrate, { env, argv: ["--dir", dir] }),
    runJob(migrate, { env, argv: ["--dir", dir] }),
  ]);
  const [runs, waiters] = await Promise.all([both, watchAdvisoryWaits(both)]);
  for (const r of runs) {
    expect(r.error).toBeUndefined();
    expect(r.outcome?.status).toBe("succeeded");
  }
  const log = await sb.sql<{ filename: string; n: number }>(
    "SELECT filename, count(*)::int AS n FROM public.apply_log GROUP BY 1 ORDER BY 1",
  );
  expect(log).toEqual(FILES.map((filename) => ({ filename, n: 1 })));
  // The runs really overlapped: a session waited on the other's lock.
  expect(waiters).toBeGreaterThanOrEqual(1);
  const tracked = await sb.sql<{ filename: string }>("SELECT filename FROM schema_migrations ORDER BY id");
  expect(tracked.map((r) => r.filename).sort()).toEqual([...FILES].sort());
  // Every file applied by exactly one run; the other run found at least one applied meanwhile.
  const said = (message: string) =>
    runs.flatMap((r) => r.logs.filter((l) => l.message === message).map((l) => String(l.filename))).sort();
  expect(said("Applied migration")).toEqual([...FILES].sort());
  expect(said("Migration applied meanwhile by a concurrent run").length).toBeGreaterThanOrEqual(1);
}, 60_000);
