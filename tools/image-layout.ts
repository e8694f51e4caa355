/**
 * Builds the runtime layout of the Dockerfile without a container engine: the same steps as its build
 * stage (bundle with tools/bundle.ts, production-only `npm ci`), the same files its runtime stage
 * copies (package.json, node_modules, dist, migrations) into one folder, and the same warm-up of Node's
 * compile cache (`COMPILE_CACHE_DIR`, filled by `WARM_COMPILE_CACHE`).
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
import { type BundleInputs, bundle } from "./bundle.ts";

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
  /** What the bundle holds, in bytes per package (tools/bundle.ts). */
  bundled: BundleInputs;
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

/**
 * `root` is the checkout to build from (default this one); the layout test passes a scratch checkout with
 * stray files in it, so it never writes into the working tree while other tests read it.
 */
export async function buildImageLayout(into?: string, root = repo): Promise<ImageLayout> {
  const dir = into ?? (await mkdtemp(join(tmpdir(), "scheduler-jobs-image-")));
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  // The build context, in a folder of its own (node_modules linked for the bundler's package imports).
  const context = await mkdtemp(join(tmpdir(), "scheduler-jobs-context-"));
  let bundled: BundleInputs;
  try {
    for (const file of await buildContextFiles(root)) {
      await mkdir(dirname(join(context, file)), { recursive: true });
      await cp(join(root, file), join(context, file));
    }
    await symlink(join(repo, "node_modules"), join(context, "node_modules"));
    // Build stage: bundle exactly what the Dockerfile bundles, from the context.
    ({ inputs: bundled } = await bundle(join(dir, "dist"), context));
    await cp(join(context, "migrations"), join(dir, "migrations"), { recursive: true });
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  // Runtime stage: production dependencies only, no install scripts (nothing to compile at runtime).
  await cp(join(root, "package.json"), join(dir, "package.json"));
  await cp(join(root, "package-lock.json"), join(dir, "package-lock.json"));
  await run(npm, ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: dir,
    maxBuffer: 16 * 1024 * 1024,
  });
  await run("sh", ["-c", PRUNE_NODE_MODULES], { cwd: dir });
  // The runtime stage copies package.json, node_modules, dist and migrations (from the context): nothing else.
  await rm(join(dir, "package-lock.json"));
  await warmCompileCache(dir);
  const files = await walk(dir);
  let bytes = 0;
  for (const file of files) bytes += (await stat(join(dir, file))).size;
  return { dir, bytes, entries: (await readdir(dir)).sort(), files, bundled };
}

/**
 * Deletes what no running job reads from the installed dependencies: source maps (nothing loads them
 * without --enable-source-maps, and they map to code the image does not ship) and type declarations.
 * The Dockerfile's build stage runs this same line (the layout test checks it).
 */
export const PRUNE_NODE_MODULES = `find node_modules -type f "(" -name "*.map" -o -name "*.d.ts" -o -name "*.d.cts" -o -name "*.d.mts" ")" -delete`;

/**
 * Node flags of the image's ENTRYPOINT (the Dockerfile holds the same list; the layout test checks it).
 * V8 sizes its heap for the machine it starts on: on a large host org-sync-all's peak grew by ~12 KiB per
 * org (230 MiB at 10,000 orgs), all of it garbage that a big young generation and a late first full GC let
 * pile up. A 2 MiB semi-space and a 256 MiB old space (half the jobs' 512Mi limit; the live heap is ~20 MiB
 * at 10,000 orgs) keep the peak flat in the org count and the run no slower (bench/RESULTS.md, memory), and a
 * runaway heap ends in V8's "heap out of memory" error in the job's logs instead of a silent OOM kill.
 * Not `--liftoff-only`, though it lowers org-sync-all's peak by ~15 MiB (V8 re-compiles undici's
 * WebAssembly HTTP parser, llhttp, with its optimising compiler once a job has made a few dozen requests,
 * ~20 MiB of compiler memory): it, like any WebAssembly tiering flag tried, made every start ~15 ms slower
 * (measured: --version 47 → 62 ms; quota-reset to its first request 116 → 167 ms), most likely because
 * Node's built-in code cache no longer matches V8's flags; the heap-size flags cost nothing at start.
 * Set from code (v8.setFlagsFromString) it had no effect on the peak.
 */
export const RUNTIME_NODE_FLAGS = ["--max-semi-space-size=2", "--max-old-space-size=256"] as const;

/** The image's ENTRYPOINT: node, its flags, the bundled entrypoint. */
export const ENTRYPOINT = ["node", ...RUNTIME_NODE_FLAGS, "/app/dist/src/main.js"] as const;

/** Node's arguments to run the layout's entrypoint as the image does: the ENTRYPOINT's flags, then `args`. */
export const layoutArgs = (layout: Pick<ImageLayout, "dir">, ...args: string[]): string[] => [
  ...RUNTIME_NODE_FLAGS,
  join(layout.dir, "dist/src/main.js"),
  ...args,
];

/** Node's compile cache in the image (the Dockerfile's NODE_COMPILE_CACHE), relative to its root. */
export const COMPILE_CACHE_DIR = ".node-compile-cache";

/** Imports every chunk of the bundle (compiling it, and the libraries it loads from node_modules). */
export const IMPORT_CHUNKS = `for (const f of (await import("node:fs")).readdirSync("dist/chunks")) await import(process.cwd() + "/dist/chunks/" + f)`;

/**
 * What the Dockerfile runs from the image's root to fill the compile cache (as the jobs' user: Node keys
 * the cache by user id): `--help` compiles the entrypoint and every job, IMPORT_CHUNKS the rest. The
 * Dockerfile holds these same arguments (the layout test checks it).
 */
export const WARM_COMPILE_CACHE: readonly (readonly string[])[] = [
  // Under the ENTRYPOINT's flags: cached code compiled under other V8 flags is not accepted.
  [...RUNTIME_NODE_FLAGS, "dist/src/main.js", "--help"],
  [...RUNTIME_NODE_FLAGS, "--input-type=module", "-e", IMPORT_CHUNKS],
];

async function warmCompileCache(dir: string): Promise<void> {
  for (const args of WARM_COMPILE_CACHE) {
    await run(process.execPath, [...args], {
      cwd: dir,
      env: { PATH: process.env.PATH, NODE_COMPILE_CACHE: join(dir, COMPILE_CACHE_DIR) },
    });
  }
}

/** Runs `<job>` from the layout (cwd "/", as nothing may depend on it) with `env`; its summary log line. */
export async function runFromLayout(
  layout: ImageLayout,
  job: string,
  env: Record<string, string | undefined>,
) {
  const { stdout } = await run(process.execPath, layoutArgs(layout, job), {
    cwd: "/",
    env: { NODE_COMPILE_CACHE: join(layout.dir, COMPILE_CACHE_DIR), ...env },
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
