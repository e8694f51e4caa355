/**
 * Builds the runtime layout of the Dockerfile without a container engine: the same steps as its build
 * stage (compile with tsconfig.build.json, production-only `npm ci`) and the same files its runtime stage
 * copies (package.json, node_modules, dist, migrations) into one folder.
 *
 * The build context is what git tracks, filtered by .dockerignore (as Cloud Build gets it: a trigger clones
 * the repository, `gcloud builds submit` uploads what .gcloudignore — i.e. .gitignore — lets through): a
 * `.env`, a key file or any other git-ignored or untracked file in the checkout never reaches the layout.
 *
 * @example
 *   const layout = await buildImageLayout();        // { dir, bytes, files }
 *   spawn(process.execPath, [join(layout.dir, "dist/src/main.js"), "quota-reset"]);
 *
 * `npm run image:check` builds it, prints its size and what it holds, runs `--version` and then `migrate` and
 * `quota-reset` from it against a sandbox, and removes it (unless a folder is given: `-- /tmp/layout`).
 */
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, matchesGlob, relative, resolve } from "node:path";
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

/**
 * Whether .dockerignore's `patterns` exclude `path` (Docker's rules: the last matching pattern wins, `!`
 * re-includes, a pattern that names a folder covers what is inside it).
 */
export function dockerIgnored(path: string, patterns: readonly string[]): boolean {
  // Docker's `*` matches names that start with a dot, node's globs do not: hide the dots on both sides.
  const undot = (text: string) => text.replace(/(^|\/)\./g, "$1\u0007");
  const file = undot(path);
  let ignored = false;
  for (const raw of patterns) {
    const negated = raw.startsWith("!");
    const pattern = undot((negated ? raw.slice(1) : raw).replace(/^\/|\/$/g, ""));
    if (matchesGlob(file, pattern) || matchesGlob(file, `${pattern}/**`)) ignored = !negated;
  }
  return ignored;
}

/** The files of the build context: tracked by git (working-tree content) and not excluded by .dockerignore. */
export async function buildContextFiles(root = repo): Promise<string[]> {
  const patterns = (await readFile(join(root, ".dockerignore"), "utf8"))
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"));
  const { stdout } = await run("git", ["ls-files", "-z", "--cached"], {
    cwd: root,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout.split("\0").filter((file) => file && !dockerIgnored(file, patterns));
}

export async function buildImageLayout(into?: string): Promise<ImageLayout> {
  const dir = into ?? (await mkdtemp(join(tmpdir(), "scheduler-jobs-image-")));
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  // The build context, in a folder of its own (node_modules linked for the compiler's type imports).
  const context = await mkdtemp(join(tmpdir(), "scheduler-jobs-context-"));
  try {
    for (const file of await buildContextFiles()) {
      await mkdir(dirname(join(context, file)), { recursive: true });
      await cp(join(repo, file), join(context, file));
    }
    await symlink(join(repo, "node_modules"), join(context, "node_modules"));
    // Build stage: compile exactly what the Dockerfile compiles, from the context.
    await run(
      process.execPath,
      [
        join(repo, "node_modules/typescript/bin/tsc"),
        "-p",
        "tsconfig.build.json",
        "--outDir",
        join(dir, "dist"),
      ],
      { cwd: context },
    );
    await cp(join(context, "migrations"), join(dir, "migrations"), { recursive: true });
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  // Runtime stage: production dependencies only, no install scripts (nothing to compile at runtime).
  await cp(join(repo, "package.json"), join(dir, "package.json"));
  await cp(join(repo, "package-lock.json"), join(dir, "package-lock.json"));
  await run(npm, ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: dir,
    maxBuffer: 16 * 1024 * 1024,
  });
  // The runtime stage copies package.json, node_modules, dist and migrations (from the context): nothing else.
  await rm(join(dir, "package-lock.json"));
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
