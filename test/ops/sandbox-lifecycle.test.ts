/**
 * The sandbox's lifecycle is safe: a second sandbox on the same state directory refuses and names the first
 * one's pid and endpoints; a sandbox never deletes an endpoints file that is not its own; a script whose
 * sandbox does not answer says so in one line with the command that starts it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main as sandboxMain } from "../../sandbox/cli.ts";
import { main as cliMain } from "../../src/ops/cli.ts";

const dir = mkdtempSync(join(tmpdir(), "sandbox-lifecycle-"));
/** A live process that is not this one: it stands for "the other sandbox". */
let other: ChildProcess;

beforeAll(() => {
  other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 120000)"], { stdio: "ignore" });
});
afterAll(() => {
  other.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

function sandboxIo(root: string, env: Record<string, string> = {}) {
  let out = "";
  let err = "";
  let stop: ((signal: NodeJS.Signals) => void) | undefined;
  return {
    io: {
      stdout: (t: string) => {
        out += t;
      },
      stderr: (t: string) => {
        err += t;
      },
      onSignal: (handler: (signal: NodeJS.Signals) => void) => {
        stop = handler;
      },
      root,
      env,
    },
    out: () => out,
    err: () => err,
    stop: () => stop?.("SIGINT"),
  };
}

const OTHER_ENV = { CLOUD_RUN_API_URL: "http://127.0.0.1:41001", API_SERVICE_URL: "http://127.0.0.1:41006" };

describe("a second sandbox", () => {
  it("refuses while the first is alive, naming its pid and endpoints, and leaves its file alone", async () => {
    const root = join(dir, "refuse");
    mkdirSync(join(root, ".sandbox"), { recursive: true });
    const file = join(root, ".sandbox", "endpoints.json");
    const content = `${JSON.stringify({ env: OTHER_ENV, pid: other.pid })}\n`;
    writeFileSync(file, content);
    const s = sandboxIo(root);
    expect(await sandboxMain(["--no-scheduler"], s.io)).toBe(2);
    expect(s.err()).toContain(`another sandbox is already running (pid ${other.pid}`);
    expect(s.err()).toContain("Cloud Run http://127.0.0.1:41001");
    expect(s.err()).toContain("--state-dir");
    expect(readFileSync(file, "utf8")).toBe(content);
  });

  it("starts with its own state directory (taking over a dead sandbox's file) and never removes another one's file", async () => {
    const root = join(dir, "own");
    const shared = join(root, ".sandbox", "endpoints.json");
    const own = join(root, ".sandbox-2", "endpoints.json");
    mkdirSync(join(root, ".sandbox"), { recursive: true });
    mkdirSync(join(root, ".sandbox-2"), { recursive: true });
    writeFileSync(shared, JSON.stringify({ env: OTHER_ENV, pid: other.pid }));
    // A sandbox that died without cleaning up left its file in .sandbox-2: it is taken over.
    const dead = spawn(process.execPath, ["-e", "0"]);
    await new Promise((r) => dead.once("exit", r));
    writeFileSync(own, JSON.stringify({ env: OTHER_ENV, pid: dead.pid }));

    const s = sandboxIo(root, { SANDBOX_STATE_DIR: ".sandbox-2" });
    const running = sandboxMain(["--no-scheduler", "--no-data", "--quiet"], s.io);
    for (let i = 0; i < 300 && !s.out().includes("Ctrl-C stops it."); i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(s.out()).toContain(`export SANDBOX_STATE_DIR=${join(root, ".sandbox-2")}`);
    expect(JSON.parse(readFileSync(own, "utf8")).pid).toBe(process.pid);

    // A script in another terminal finds it with SANDBOX_STATE_DIR (relative to the checkout).
    let listed = "";
    const code = await cliMain(["executions", "sandbox", "--json"], {
      env: { SANDBOX_STATE_DIR: ".sandbox-2" },
      cwd: root,
      stdout: { write: (t: string) => (listed += t) },
      stderr: { write: () => true },
    });
    expect(code).toBe(0);
    expect(JSON.parse(listed)).toEqual([]);

    // Meanwhile its file is replaced by another sandbox's (deleted by hand, a new one started there).
    writeFileSync(own, JSON.stringify({ env: OTHER_ENV, pid: other.pid }));
    s.stop();
    expect(await running).toBe(0);
    expect(existsSync(own)).toBe(true);
    expect(JSON.parse(readFileSync(own, "utf8")).pid).toBe(other.pid);
    expect(existsSync(shared)).toBe(true);
  }, 60_000);
});

describe("a script whose sandbox does not answer", () => {
  let closedUrl = "";
  beforeAll(async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    closedUrl = `http://127.0.0.1:${(probe.address() as { port: number }).port}`;
    await new Promise((resolve) => probe.close(resolve));
  });

  it.each([
    ["list-jobs", ["list-jobs", "sandbox"]],
    ["run-job", ["run-job", "sandbox", "quota-reset"]],
    ["executions", ["executions", "sandbox"]],
  ])("%s says so in one line with the command that starts it", async (_name, argv) => {
    let err = "";
    const code = await cliMain(argv, {
      env: { CLOUD_RUN_API_URL: closedUrl },
      stderr: { write: (t: string) => (err += t) },
      stdout: { write: () => true },
    });
    expect(code).toBe(2);
    expect(err.trimEnd().split("\n")).toEqual([
      `error: no sandbox answers at ${closedUrl} (connection refused; from CLOUD_RUN_API_URL): start it: npm run sandbox`,
    ]);
  });
});
