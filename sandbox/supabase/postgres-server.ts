/**
 * A throwaway PostgreSQL server on 127.0.0.1 for tests that need truly parallel sessions (PGlite has one
 * connection). It uses the server binaries installed on the machine: Debian's `postgresql` package
 * (`/usr/lib/postgresql/<version>/bin`, which `.ci/run` installs when missing), or `PG_BIN`, or `initdb`
 * on the PATH. PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user
 * the Debian package creates, and both initdb and the server run as that user.
 *
 * @example
 * const server = await startPostgresServer();
 * const sb = await startSupabaseApi({ postgresUrl: server.url, token, projectRef, faults });
 * …; await sb.close(); await server.close();
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth, loopback only). */
  url: string;
  port: number;
  close(): Promise<void>;
}

const INSTALL_HINT =
  "install PostgreSQL's server (Debian: apt-get install -y postgresql, as .ci/run does) or set PG_BIN to its bin folder";

/** The folder holding initdb and postgres. */
export function findPostgresBin(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PG_BIN) {
    if (existsSync(join(env.PG_BIN, "initdb"))) return env.PG_BIN;
    throw new Error(`PG_BIN=${env.PG_BIN} has no initdb: ${INSTALL_HINT}`);
  }
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0]) return join(root, versions[0], "bin");
  try {
    const initdb = execFileSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" }).trim();
    if (initdb) return initdb.replace(/\/initdb$/, "");
  } catch {
    // not on the PATH either
  }
  throw new Error(`PostgreSQL server binaries not found: ${INSTALL_HINT}`);
}

/** uid/gid to run as: the current user, or `postgres` when running as root. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    return { uid, gid };
  } catch {
    throw new Error(
      "PostgreSQL cannot run as root and there is no `postgres` user: create one (useradd -r postgres) or run as another user",
    );
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startPostgresServer(opts: { env?: NodeJS.ProcessEnv } = {}): Promise<PostgresServer> {
  const bin = findPostgresBin(opts.env);
  const user = runAs();
  const dir = await mkdtemp(join(tmpdir(), "sandbox-postgres-"));
  if (user) await chown(dir, user.uid, user.gid);
  const data = join(dir, "data");
  const as = user ? { uid: user.uid, gid: user.gid } : {};
  execFileSync(
    join(bin, "initdb"),
    ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
    { stdio: "pipe", ...as },
  );
  const port = await freePort();
  // fsync off and friends: a test database, thrown away afterwards.
  const args = ["-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1"];
  for (const s of ["fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=60"])
    args.push("-c", s);
  const child: ChildProcess = spawn(join(bin, "postgres"), args, {
    stdio: ["ignore", "ignore", "pipe"],
    ...as,
  });
  let stderr = "";
  child.stderr?.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT"); // fast shutdown
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return { url, port, close };
    } catch (error) {
      await client.end().catch(() => undefined);
      if (child.exitCode !== null || Date.now() > deadline) {
        await close();
        throw new Error(`PostgreSQL did not start (${(error as Error).message}):\n${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
