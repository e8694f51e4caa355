/**
 * The README's "Adding a job", done as a newcomer would, in a copy of the project: the job file from the
 * README, one catalog line, then `npm run readme`, the catalog test, the sandbox plan and apply, a run and
 * list-jobs. One sandbox serves every step; its executions run the copy's entrypoint.
 */
import { spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/index.ts";
import { catalogCounts } from "../helpers/catalog-counts.ts";

const FENCE = "```";
const root = join(import.meta.dirname, "..", "..");
const n = catalogCounts();
let copy: string;
let sandbox: Sandbox;

interface Run {
  code: number | null;
  out: string;
}

/** Runs `command` in the copy with the sandbox's env, as a user's shell would; resolves with code and output. */
function run(command: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: copy,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        NO_COLOR: "1",
        COLUMNS: "80",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (out += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out }));
  });
}

/** The README's "Adding a job" section: its job file (first ts block) and its commands (first sh block). */
function readmeSteps(readme: string) {
  const section = readme.slice(
    readme.indexOf("## Adding a job"),
    readme.indexOf("<!-- generated:config:start -->"),
  );
  const block = (lang: string) => {
    const match = section.match(new RegExp(`${FENCE}${lang}\\n([\\s\\S]*?)\\n\\s*${FENCE}`));
    if (!match?.[1]) throw new Error(`README "Adding a job" has no ${lang} block`);
    return match[1].replace(/^ {3}/gm, "");
  };
  const commands = block("sh")
    .split("\n")
    .map((line) => line.replace(/#.*/, "").trim())
    .filter(Boolean);
  return { jobFile: `${block("ts")}\n`, commands };
}

beforeAll(async () => {
  copy = await mkdtemp(join(tmpdir(), "add-a-job-"));
  const files = await new Promise<string[]>((resolve, reject) => {
    const git = spawn("git", ["ls-files", "-z"], { cwd: root });
    let out = "";
    git.stdout.on("data", (chunk) => (out += chunk));
    git.on("error", reject);
    git.on("close", () => resolve(out.split("\0").filter(Boolean)));
  });
  const dirs = new Set(files.map((file) => dirname(join(copy, file))));
  await Promise.all([...dirs].map((dir) => mkdir(dir, { recursive: true })));
  // A file deleted in the work tree but still tracked is skipped, as a fresh clone would not have it either.
  await Promise.all(files.map((file) => copyFile(join(root, file), join(copy, file)).catch(() => undefined)));
  await symlink(join(root, "node_modules"), join(copy, "node_modules"), "dir");
  sandbox = await startSandbox({
    quiet: true,
    scheduler: { autoTick: false },
    cwd: copy,
    entry: [process.execPath, "--import", "tsx", join(copy, "src", "main.ts")],
  });
}, 120_000);

afterAll(async () => {
  await sandbox?.stop();
  if (copy) await rm(copy, { recursive: true, force: true });
});

describe("adding a job as the README says", () => {
  it("one file and one catalog line reach the README, the catalog test, the plan, a run and list-jobs", async () => {
    const { jobFile, commands } = readmeSteps(await readFile(join(root, "README.md"), "utf8"));
    await writeFile(join(copy, "jobs", "daily", "usage-report.ts"), jobFile);
    const indexPath = join(copy, "jobs", "files.ts");
    const index = await readFile(indexPath, "utf8");
    const edited = index.replace(
      /(\n(\s*)"stale-cleanup": [^\n]*\n)/,
      '$1$2"usage-report": () => import("./daily/usage-report.ts"),\n',
    );
    expect(edited).not.toBe(index);
    await writeFile(indexPath, edited);

    const env = sandbox.env as Record<string, string>;
    const results: Record<string, Run> = {};
    for (const command of commands) {
      const [bin = "", ...args] = command.split(/\s+/);
      results[command] = await run(bin.startsWith("./") ? join(copy, bin) : bin, args, env);
      expect(results[command]?.code, `${command}:\n${results[command]?.out}`).toBe(0);
    }
    const out = (prefix: string) =>
      Object.entries(results).find(([command]) => command.startsWith(prefix))?.[1]?.out ?? "";

    expect(await readFile(join(copy, "README.md"), "utf8")).toContain("| `usage-report` | daily |");
    expect(out("npx vitest")).toMatch(/Tests\s+\d+ passed/);
    const plan = out("./scripts/create-all-jobs.sh sandbox --plan");
    expect(plan).toContain(`Plan: ${n.resources + 2} to create`);
    expect(plan).toContain("usage-report-sandbox-trigger");
    expect(out("./scripts/run-job.sh sandbox usage-report")).toContain("active organisations");
    const list = out("./scripts/list-jobs.sh sandbox");
    expect(list).toMatch(/usage-report\s.*OK/);
  }, 180_000);
});
