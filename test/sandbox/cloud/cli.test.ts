/**
 * `npm run sandbox` as a real process: it prints the endpoints and env, writes the endpoints file, and on
 * Ctrl-C (SIGINT to its process group) stops a running execution's task, closes its ports, removes the
 * file and leaves no process behind.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../../sandbox/cli.ts";
import { REPO_ROOT } from "../../../sandbox/index.ts";
import { FIXTURE_ENTRY, jobBody, PARENT, runClients, waitFor } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "sandbox-cli-"));
let child: ChildProcess | undefined;

afterAll(() => {
  // Only if a test failed half-way: stop what this file started, by its process group.
  if (child?.pid && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // The group is already gone.
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

describe("npm run sandbox", () => {
  it("--help prints the options and exits 0; an unknown flag exits 2", async () => {
    const out: string[] = [];
    const io = {
      stdout: (t: string) => out.push(t),
      stderr: (t: string) => out.push(t),
      onSignal: () => {},
      root: dir,
    };
    expect(await main(["--help"], io)).toBe(0);
    expect(out.join("")).toContain("--no-scheduler");
    expect(await main(["--bogus"], io)).toBe(2);
    expect(out.join("")).toContain("--help");
  });

  it("prints the env, and stops cleanly on Ctrl-C leaving no process, port or file behind", async () => {
    const endpoints = join(dir, "endpoints.json");
    child = spawn(
      "npm",
      [
        "run",
        "-s",
        "sandbox",
        "--",
        "--no-scheduler",
        "--orgs",
        "2",
        "--endpoints",
        endpoints,
        "--entry",
        FIXTURE_ENTRY.join(" "),
      ],
      {
        cwd: REPO_ROOT,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    child.stdout?.on("data", (d) => {
      stdout += d;
    });
    let stderr = "";
    child.stderr?.on("data", (d) => {
      stderr = `${stderr}${d}`.slice(-4000);
    });
    const exited = new Promise<void>((resolve) => child?.once("exit", () => resolve()));
    await waitFor(() => (stdout.includes("Ctrl-C stops it.") ? true : undefined), 45_000);

    const env: Record<string, string> = Object.fromEntries(
      [...stdout.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1] as string, m[2] as string]),
    );
    expect(env.CLOUD_RUN_API_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(env.ENVIRONMENT).toBe("sandbox");
    const file = JSON.parse(readFileSync(endpoints, "utf8"));
    expect(file.env).toEqual(env);
    expect(alive(file.pid)).toBe(true);

    // A long task is running when Ctrl-C comes.
    const { jobs } = runClients(env.CLOUD_RUN_API_URL as string);
    const [op] = await jobs.createJob({ parent: PARENT, jobId: "long", job: jobBody(["--sleep", "60000"]) });
    await op.promise();
    const [run] = await jobs.runJob({ name: `${PARENT}/jobs/long` });
    const execution = (run.metadata as { name: string }).name.split("/").at(-1);
    const taskPid = await waitFor(async () => {
      const res = await fetch(`${env.CLOUD_RUN_API_URL}/v2/entries:list`, {
        method: "POST",
        body: JSON.stringify({
          resourceNames: ["projects/sandbox-project"],
          filter: `labels."run.googleapis.com/execution_name"="${execution}"`,
        }),
      });
      const entries = (await res.json()).entries as { jsonPayload?: { pid?: number } }[];
      return entries.find((e) => e.jsonPayload?.pid)?.jsonPayload?.pid;
    });
    await jobs.close();
    expect(alive(taskPid)).toBe(true);

    process.kill(-(child.pid as number), "SIGINT");
    await exited;
    // On failure, the sandbox's last log lines say what happened.
    expect(alive(taskPid), stderr).toBe(false);
    expect(alive(file.pid), stderr).toBe(false);
    expect(alive(-(child.pid as number))).toBe(false);
    expect(existsSync(endpoints)).toBe(false);
    for (const url of Object.values(env).filter((v) => v.startsWith("http")))
      expect(await accepts(Number(new URL(url).port))).toBe(false);
  }, 90_000);
});
