/**
 * Starts ./sandbox-child.ts as a child process and talks to it over IPC: the sandbox's env, the admin
 * API's request counts, and its fault rules.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { FaultRule } from "../../sandbox/faults.ts";
import type { AdminApiCounts } from "./sandbox-child.ts";

export type { AdminApiCounts } from "./sandbox-child.ts";

export interface SandboxProcess {
  /** What a job needs to reach the sandbox (API_SERVICE_URL, CA_ROOT_API_KEY, …). */
  env: Record<string, string>;
  counts(): Promise<AdminApiCounts>;
  resetCounts(): Promise<void>;
  /** Replaces every admin API fault rule with `rules` ([] clears them). */
  setFaults(rules: FaultRule[]): Promise<void>;
  stop(): Promise<void>;
}

const CHILD = fileURLToPath(new URL("./sandbox-child.ts", import.meta.url));
const READY_TIMEOUT_MS = 60_000;

/**
 * @example
 * const sandbox = await startSandboxProcess({ orgs: 200 });
 * await sandbox.setFaults([{ route: "POST /api/v1/organizations/*", latencyMs: 20 }]);
 * await sandbox.stop();
 */
export async function startSandboxProcess(opts: { orgs: number }): Promise<SandboxProcess> {
  const child = fork(CHILD, [], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, BENCH_ORGS: String(opts.orgs) },
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const env = await new Promise<Record<string, string>>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`bench sandbox did not start within ${READY_TIMEOUT_MS} ms (${CHILD})`));
    }, READY_TIMEOUT_MS);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`bench sandbox exited with code ${code} before it was ready (see stderr above)`));
    });
    child.on("message", (m: { type?: string; env?: Record<string, string> }) => {
      if (m.type !== "ready" || !m.env) return;
      clearTimeout(timer);
      resolve(m.env);
    });
  });
  let nextId = 1;
  const ask = <T>(msg: Record<string, unknown>, pick: (m: Record<string, unknown>) => T) =>
    new Promise<T>((resolve) => {
      const id = nextId++;
      const onMessage = (m: Record<string, unknown>) => {
        if (m.id !== id) return;
        child.off("message", onMessage);
        resolve(pick(m));
      };
      child.on("message", onMessage);
      child.send({ ...msg, id });
    });
  return {
    env,
    counts: () => ask({ type: "counts" }, (m) => m.counts as AdminApiCounts),
    resetCounts: () => ask({ type: "reset" }, () => undefined),
    setFaults: (rules) => ask({ type: "faults", rules }, () => undefined),
    stop: () => stopChild(child),
  };
}

/** Disconnecting tells the child to stop its sandbox; SIGKILL if it has not exited 10 s later. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.disconnect();
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}
