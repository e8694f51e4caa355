/**
 * Starts ./stub-child.ts (the latency-only stub admin API) as a child process and returns its URL.
 *
 * @example
 * const stub = await startStubProcess({ orgs: 10_000, latencyMs: 20 });
 * // API_SERVICE_URL = stub.url
 * await stub.stop();
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";

const CHILD = fileURLToPath(new URL("./stub-child.ts", import.meta.url));

export async function startStubProcess(opts: {
  orgs: number;
  latencyMs: number;
}): Promise<{ url: string; stop(): Promise<void> }> {
  const child = fork(CHILD, [], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, BENCH_ORGS: String(opts.orgs), BENCH_LATENCY_MS: String(opts.latencyMs) },
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`stub admin API process did not start within 30 s (${CHILD})`));
    }, 30_000);
    child.once("message", (m) => {
      clearTimeout(timer);
      resolve((m as { url: string }).url);
    });
    child.once("exit", (code) => reject(new Error(`stub admin API process exited with ${code}`)));
  });
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.send("stop");
      }),
  };
}
