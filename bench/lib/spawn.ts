/**
 * Timing and measuring child processes for the start-up and memory benchmarks: spawn → exit, spawn → the
 * first request a loopback server receives, and a process's peak RSS (reported by a tiny preload at exit,
 * so a baseline gets the same preload). Every child has a timeout; only 127.0.0.1 is used.
 */
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

const TIMEOUT_MS = 60_000;
/**
 * Loaded with --import: prints the process's peak RSS (KiB) on stderr when it exits. Linux's VmHWM, not
 * getrusage's maxRSS: a spawned child's maxRSS starts at its PARENT's peak (the kernel carries the
 * pre-exec memory's high-water mark over exec), which would make every child look as big as the bench.
 */
export const RSS_PRELOAD = `data:text/javascript,process.on("exit",()=>{let k=process.resourceUsage().maxRSS;try{k=Number(/VmHWM:\\s+(\\d+)/.exec(process.getBuiltinModule("node:fs").readFileSync("/proc/self/status","utf8"))[1])}catch{}process.stderr.write("\\nbench-maxrss-kib="+k+"\\n")})`;

export interface Ran {
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
  /** Peak RSS in KiB when run with RSS_PRELOAD, else null. */
  maxRssKiB: number | null;
}

/** The environment of a child: PATH and `env` only (nothing of the bench process leaks in). */
const childEnv = (env: Record<string, string | undefined>) => ({ PATH: process.env.PATH, ...env });

/** Spawns `node …args` and resolves when it exits. `until` may end the wait early (the child is then killed). */
export function runNode(
  args: string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string; until?: Promise<unknown> } = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, {
      cwd: opts.cwd ?? "/",
      env: childEnv(opts.env ?? {}),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let ms: number | undefined;
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
    opts.until?.then(() => {
      ms ??= performance.now() - started;
      child.kill("SIGKILL");
    });
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      ms ??= performance.now() - started;
      const rss = /bench-maxrss-kib=(\d+)/.exec(stderr);
      resolve({ ms, code, stdout, stderr, maxRssKiB: rss ? Number(rss[1]) : null });
    });
  });
}

export interface FirstRequestServer {
  url: string;
  /** Resolves with the arrival of the next request (answered 503, so a client that lingers gives up). */
  next(): Promise<void>;
  close(): Promise<void>;
}

/** A loopback server that only notices requests: what "spawn → first request" is timed against. */
export async function startFirstRequestServer(): Promise<FirstRequestServer> {
  let waiting: (() => void) | undefined;
  const server: Server = createServer((req, res) => {
    req.resume();
    waiting?.();
    waiting = undefined;
    res.writeHead(503, { "content-type": "application/json", "retry-after": "60" });
    res.end('{"detail":"bench: first request noted"}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    next: () => new Promise<void>((resolve) => (waiting = resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Times spawn → first request at `server` (the child is killed then). Throws when the child exits first:
 * a fast crash is not a start.
 */
export async function timeFirstRequest(
  server: FirstRequestServer,
  args: string[],
  env: Record<string, string | undefined>,
): Promise<number> {
  let arrived = false;
  const next = server.next().then(() => (arrived = true));
  const r = await runNode(args, { env, until: next });
  if (!arrived) {
    throw new Error(
      `node ${args.join(" ")} exited ${r.code} before any request: ${r.stdout.slice(-300)} ${r.stderr.slice(-300)}`,
    );
  }
  return r.ms;
}

/** Times spawn → exit; throws on a non-zero exit. */
export async function timeExit(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<number> {
  const r = await runNode(args, { env });
  if (r.code !== 0) throw new Error(`node ${args.join(" ")} exited ${r.code}: ${r.stderr.slice(0, 500)}`);
  return r.ms;
}
