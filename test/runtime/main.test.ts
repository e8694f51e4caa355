/**
 * The real entrypoint as a process: `node --import tsx src/main.ts …` with the real catalog, exactly as
 * the container runs it (the image runs `node` on the same file), including a real SIGTERM.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalog } from "../../jobs/index.ts";
import { json, startServer, type TestServer } from "./helpers/server.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const children: ChildProcess[] = [];
let api: TestServer;

beforeAll(async () => {
  api = await startServer();
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await api.close();
});

function start(args: string[], env: Record<string, string> = {}) {
  // Only what the entrypoint needs: the test runner's own environment must not leak into the job's config.
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done };
}

describe("src/main.ts as a process", () => {
  it("lists every job of the catalog on --help and exits 0", async () => {
    const { code, stdout } = await start(["--help"]).done;
    expect(code).toBe(0);
    for (const job of catalog) expect(stdout).toContain(`${job.name}`);
    for (const job of catalog) expect(stdout).toContain(job.description);
  });

  it("lists the jobs on stderr and exits 2 for an unknown job", async () => {
    const { code, stdout, stderr } = await start(["no-such-job"]).done;
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain('Unknown job "no-such-job"');
    expect(stderr).toContain(catalog[0]?.name);
  });

  it("on SIGTERM lets the in-flight API call finish and, its work being done, exits 0 with the summary", async () => {
    let arrived: () => void = () => {};
    const requestArrived = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    api.handle((_req, res) => {
      arrived();
      setTimeout(
        () =>
          json(res, 200, {
            success: true,
            orgs_processed: 3,
            orgs_created: 0,
            orgs_skipped: 0,
            message: "reset",
          }),
        400,
      );
    });
    const { child, done } = start(["quota-reset"], {
      ENVIRONMENT: "sandbox",
      API_SERVICE_URL: api.url,
      CA_ROOT_API_KEY: "sandbox-root-key-123",
    });
    await requestArrived;
    child.kill("SIGTERM");
    const { code, stdout } = await done;
    expect(code).toBe(0); // a non-zero exit would make Cloud Run retry a finished task
    expect(api.requests).toHaveLength(1);
    const lines = stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(lines.find((l) => l.signal === "SIGTERM" && l.severity === "WARNING")).toBeDefined();
    expect(lines.at(-1)).toMatchObject({
      job: "quota-reset",
      status: "succeeded",
      signal: "SIGTERM",
      exit_code: 0,
      summary: { orgs_processed: 3 },
    });
    expect(stdout).not.toContain("sandbox-root-key-123");
  });
});
