/**
 * Builds the runtime layout of the Dockerfile without a container engine: the same steps as its build
 * stage (compile with tsconfig.build.json, production-only `npm ci`) and the same files its runtime stage
 * copies (package.json, node_modules, dist, migrations) into one folder.
 *
 * @example
 *   const layout = await buildImageLayout();        // { dir, bytes, files }
 *   spawn(process.execPath, [join(layout.dir, "dist/src/main.js"), "quota-reset"]);
 *
 * `npm run image:check` builds it, prints its size and what it holds, runs `--version` and then `migrate` and
 * `quota-reset` from it against a sandbox, and removes it (unless a folder is given: `-- /tmp/layout`).
 */
import { execFile } from "node:child_process";
import { cp, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, "..");

export interface ImageLayout {
  dir: string;
  /** Total size in bytes. */
  bytes: number;
  /** Top-level entries, as the runtime stage copies them. */
  entries: string[];
  /** Every file path relative to `dir` (for content checks). */
  files: string[];
}

async function walk(dir: string, root = dir, out: string[] = []): Promise<string[]> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await walk(path, root, out);
    else out.push(relative(root, path));
  }
  return out;
}

export async function buildImageLayout(into?: string): Promise<ImageLayout> {
  const dir = into ?? (await mkdtemp(join(tmpdir(), "scheduler-jobs-image-")));
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  // Build stage: compile exactly what the Dockerfile compiles.
  await run(
    process.execPath,
    [
      join(repo, "node_modules/typescript/bin/tsc"),
      "-p",
      "tsconfig.build.json",
      "--outDir",
      join(dir, "dist"),
    ],
    {
      cwd: repo,
    },
  );
  // Runtime stage: production dependencies only, no install scripts (nothing to compile at runtime).
  await cp(join(repo, "package.json"), join(dir, "package.json"));
  await cp(join(repo, "package-lock.json"), join(dir, "package-lock.json"));
  await run(npm, ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: dir,
    maxBuffer: 16 * 1024 * 1024,
  });
  // The runtime stage copies package.json, node_modules, dist and migrations: nothing else.
  await rm(join(dir, "package-lock.json"));
  await cp(join(repo, "migrations"), join(dir, "migrations"), { recursive: true });
  const files = await walk(dir);
  let bytes = 0;
  for (const file of files) bytes += (await stat(join(dir, file))).size;
  return { dir, bytes, entries: (await readdir(dir)).sort(), files };
}

/** Runs `<job>` from the layout (cwd "/", as nothing may depend on it) with `env`; its summary log line. */
export async function runFromLayout(
  layout: ImageLayout,
  job: string,
  env: Record<string, string | undefined>,
) {
  const { stdout } = await run(process.execPath, [join(layout.dir, "dist/src/main.js"), job], {
    cwd: "/",
    env,
  });
  const last = stdout.trim().split("\n").at(-1) ?? "{}";
  return JSON.parse(last) as { status?: string; message?: string };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const keep = process.argv[2];
  const layout = await buildImageLayout(keep);
  const mib = (layout.bytes / 1024 / 1024).toFixed(1);
  console.log(`image layout: ${layout.dir}`);
  console.log(`entries: ${layout.entries.join(", ")}`);
  console.log(`size: ${mib} MiB in ${layout.files.length} files`);
  const { stdout } = await run(process.execPath, [join(layout.dir, "dist/src/main.js"), "--version"]);
  console.log(`--version: ${stdout.trim()}`);
  // A job from the layout against the sandbox, as `docker run jobs <job>` would.
  const { startSandbox } = await import("../sandbox/index.ts");
  const sandbox = await startSandbox({
    quiet: true,
    scheduler: { autoTick: false },
    orgs: { active: 3, inactive: 1 },
  });
  try {
    for (const job of ["migrate", "quota-reset"]) {
      const summary = await runFromLayout(layout, job, { PATH: process.env.PATH, ...sandbox.env });
      console.log(`${job}: ${summary.status}: ${summary.message}`);
    }
  } finally {
    await sandbox.stop();
    if (!keep) await rm(layout.dir, { recursive: true, force: true });
  }
}
