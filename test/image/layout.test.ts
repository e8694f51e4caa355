import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { benchImageSize } from "../../bench/image-size.ts";
import { benchMemory } from "../../bench/memory.ts";
import { benchStartUp } from "../../bench/start-up.ts";
import { type Sandbox, startSandbox } from "../../sandbox/index.ts";
import {
  buildImageLayout,
  COMPILE_CACHE_DIR,
  IMPORT_CHUNKS,
  type ImageLayout,
  layoutArgs,
  PRUNE_NODE_MODULES,
  RUNTIME_NODE_FLAGS,
  runFromLayout,
} from "../../tools/image-layout.ts";

const root = join(import.meta.dirname, "../..");
/** Files a developer may have lying in the checkout, git-ignored or untracked: none may reach the image. */
const STRAYS: Record<string, string> = {
  "migrations/.env.local": "SUPABASE_ACCESS_TOKEN=sntl-stray-secret\n",
  "migrations/service-account-key.json": '{"private_key": "sntl-stray-secret"}\n',
  "migrations/99_untracked_scratch.sql": "-- sntl-stray-secret\nSELECT 1;\n",
  "src/.env": "CA_ROOT_API_KEY=sntl-stray-secret\n",
  "src/zz-untracked-scratch.ts": 'export const KEY = "sntl-stray-secret";\n',
};

const exec = promisify(execFile);

/** The working tree's tracked files in a fresh git repository (node_modules linked, as git ignores it). */
async function scratchCheckout(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "scheduler-jobs-checkout-"));
  const { stdout } = await exec("git", ["ls-files", "-z", "--cached"], { cwd: root, maxBuffer: 16 << 20 });
  for (const file of stdout.split("\0").filter(Boolean)) {
    if (!existsSync(join(root, file))) continue; // deleted in the working tree, not yet committed
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await cp(join(root, file), join(dir, file));
  }
  const git = (...args: string[]) => exec("git", args, { cwd: dir });
  await git("init", "-q");
  await git("add", "-A");
  await git("-c", "user.email=test@localhost", "-c", "user.name=test", "commit", "-qm", "scratch");
  await symlink(join(root, "node_modules"), join(dir, "node_modules"));
  return dir;
}

// The Dockerfile's runtime layout, built without a container engine (see tools/image-layout.ts), and a job
// run from it against the sandbox: what `docker run jobs migrate` would do.
describe("the image layout", () => {
  let layout: ImageLayout;
  let sandbox: Sandbox;

  beforeAll(async () => {
    // A scratch checkout (the working tree's tracked files, committed in a git repository of its own) with
    // the strays dropped into it: the real working tree is never written while other test files read it.
    const checkout = await scratchCheckout();
    try {
      for (const [file, text] of Object.entries(STRAYS)) await writeFile(join(checkout, file), text);
      [layout, sandbox] = await Promise.all([
        buildImageLayout(undefined, checkout),
        startSandbox({ quiet: true, scheduler: { autoTick: false }, orgs: { active: 3, inactive: 1 } }),
      ]);
    } finally {
      await rm(checkout, { recursive: true, force: true });
    }
    console.log(
      `image layout: ${(layout.bytes / 1024 / 1024).toFixed(1)} MiB in ${layout.files.length} files`,
    );
  }, 180_000);

  afterAll(async () => {
    await sandbox?.stop();
    if (layout) await rm(layout.dir, { recursive: true, force: true });
  });

  it("holds only package.json, production node_modules, the bundle, migrations and the compile cache", () => {
    expect(layout.entries).toEqual([COMPILE_CACHE_DIR, "dist", "migrations", "node_modules", "package.json"]);
    const sources = layout.files.filter(
      (f) => f.startsWith("dist/") && f.endsWith(".ts") && !f.endsWith(".d.ts"),
    );
    expect(sources).toEqual([]);
    // Bundled (zod, undici, p-retry) or used only by the operators' tools: none of it is installed.
    const devOnly = ["typescript", "vitest", "tsx", "@electric-sql/pglite", "node", "esbuild"];
    const bundledOrOps = [
      "zod",
      "undici",
      "p-retry",
      "cron-parser",
      "google-gax",
      "@google-cloud/run",
      "cli-table3",
    ];
    for (const name of [...devOnly, ...bundledOrOps]) {
      expect(layout.files.filter((f) => f.startsWith(`node_modules/${name}/`))).toEqual([]);
    }
    // Only the bundle: no operators' code, no sandbox or tests, no source maps or type declarations.
    expect(
      layout.files.filter((f) => f.startsWith("dist/") && !/^dist\/(src\/main|chunks\/[\w-]+)\.js$/.test(f)),
    ).toEqual([]);
    expect(layout.files.filter((f) => /\.(map|d\.[cm]?ts)$/.test(f))).toEqual([]);
    expect(layout.files.some((f) => /(^|\/)\.env/.test(f))).toBe(false);
    expect(layout.bytes).toBeLessThan(60 * 1024 * 1024);
  });

  it("is built by the Dockerfile's own steps: bundle, prune, compile cache warmed as the jobs' user", () => {
    const dockerfile = readFileSync(join(import.meta.dirname, "../../Dockerfile"), "utf8");
    expect(dockerfile).toContain("RUN node tools/bundle.ts");
    expect(dockerfile).toContain(PRUNE_NODE_MODULES);
    expect(dockerfile).toContain(`ENV NODE_COMPILE_CACHE=/app/${COMPILE_CACHE_DIR}`);
    const flags = RUNTIME_NODE_FLAGS.join(" ");
    expect(dockerfile).toContain(`runuser -u node -- node ${flags} dist/src/main.js --help`);
    expect(dockerfile).toContain(
      `runuser -u node -- node ${flags} --input-type=module -e '${IMPORT_CHUNKS}'`,
    );
  });

  it("starts a job from its compile cache and loads only what that job needs", async () => {
    const cache = join(layout.dir, COMPILE_CACHE_DIR);
    expect((await readdir(cache, { recursive: true })).length).toBeGreaterThan(50);
    // With the ENTRYPOINT's node flags: V8 rejects cached code compiled under flags that change codegen.
    const { stderr } = await exec(process.execPath, layoutArgs(layout, "quota-reset"), {
      cwd: "/",
      env: {
        PATH: process.env.PATH,
        ...sandbox.env,
        NODE_COMPILE_CACHE: cache,
        NODE_DEBUG_NATIVE: "COMPILE_CACHE",
      },
    });
    // Node logs, per module it compiles, whether the cached code was accepted.
    const loaded = [...stderr.matchAll(/V8 code cache for (?:ESM|CommonJS) (\S+) was accepted/g)].map(
      (m) => m[1],
    );
    expect(loaded).toContainEqual(expect.stringMatching(/dist\/src\/main\.js$/));
    expect(loaded).toContainEqual(expect.stringMatching(/dist\/chunks\/quota-reset-\w+\.js$/));
    // Nothing it loaded was missing from the cache (Node would say "not initialized") or refused by V8.
    expect(stderr).not.toMatch(/was not initialized|was rejected|no such file/);
    const other = loaded.filter((f) =>
      /chunks\/(migrate|bootstrap|org-sync-all|quota-cleanup|stale-cleanup|alerts|quota-monthly|bigquery|supabase)-|node_modules/.test(
        f ?? "",
      ),
    );
    expect(other).toEqual([]);
  });

  it("holds nothing git does not track: a .env, a key file or an untracked file dropped in the checkout", async () => {
    const names = Object.keys(STRAYS).map((file) => file.split("/").pop() as string);
    expect(
      layout.files.filter((file) => names.some((name) => file.endsWith(name.replace(/\.ts$/, ".js")))),
    ).toEqual([]);
    expect(layout.files.filter((file) => names.some((name) => file.endsWith(name)))).toEqual([]);
    const { stdout } = await exec("grep", ["-rl", "sntl-stray-secret", layout.dir]).catch(() => ({
      stdout: "",
    }));
    expect(stdout).toBe("");
    expect(layout.files.filter((file) => file.startsWith("migrations/"))).toEqual(
      expect.arrayContaining(["migrations/01_profiles.sql"]),
    );
    expect(layout.files.filter((file) => file.startsWith("migrations/") && !file.endsWith(".sql"))).toEqual(
      [],
    );
  });

  it("prints the release version and commit given as build arguments", async () => {
    const { stdout } = await exec(process.execPath, [join(layout.dir, "dist/src/main.js"), "--version"], {
      env: { PATH: process.env.PATH, RELEASE_VERSION: "1.2.3", GIT_COMMIT: "abc1234" },
    });
    expect(stdout).toContain("1.2.3");
    expect(stdout).toContain("abc1234");
  });

  it("runs migrate, quota-reset and quota-cleanup from the layout against the sandbox", async () => {
    const env = { PATH: process.env.PATH, ...sandbox.env, LOG_LEVEL: "info" };
    for (const job of ["migrate", "quota-reset", "quota-cleanup"]) {
      // cwd "/": nothing may depend on the working directory (Cloud Run starts in the image's WORKDIR).
      expect(await runFromLayout(layout, job, env)).toMatchObject({ job, status: "succeeded" });
    }
  });

  // The smoke form of the start-up, memory and image-size benchmarks (npm run bench): they run against this
  // layout and report; their figures are never asserted.
  it("feeds the start-up, memory and image-size benchmarks", async () => {
    const once = { rounds: 1, minRounds: 1, budgetMs: 1 };
    const startUp = await benchStartUp(layout, { ...once, jobs: [["quota-reset"]] });
    expect(startUp.cases.map((c) => c.label)).toContain("quota-reset → first request");
    const memory = await benchMemory(layout, sandbox.env, {
      ...once,
      orgs: [5, 10],
      jobs: [["stale-cleanup"]],
    });
    expect(memory.cases.every((c) => c.stats.median > 0)).toBe(true);
    const size = await benchImageSize(layout, { top: 3 });
    expect(size.headline).toMatch(/MiB in \d+ files/);
  }, 60_000);
});
