import { execFile } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/index.ts";
import { buildImageLayout, type ImageLayout, runFromLayout } from "../../tools/image-layout.ts";

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

// The Dockerfile's runtime layout, built without a container engine (see tools/image-layout.ts), and a job
// run from it against the sandbox: what `docker run jobs migrate` would do.
describe("the image layout", () => {
  let layout: ImageLayout;
  let sandbox: Sandbox;

  beforeAll(async () => {
    for (const [file, text] of Object.entries(STRAYS)) await writeFile(join(root, file), text);
    try {
      [layout, sandbox] = await Promise.all([
        buildImageLayout(),
        startSandbox({ quiet: true, scheduler: { autoTick: false }, orgs: { active: 3, inactive: 1 } }),
      ]);
    } finally {
      for (const file of Object.keys(STRAYS)) await rm(join(root, file), { force: true });
    }
    console.log(
      `image layout: ${(layout.bytes / 1024 / 1024).toFixed(1)} MiB in ${layout.files.length} files`,
    );
  }, 180_000);

  afterAll(async () => {
    await sandbox?.stop();
    if (layout) await rm(layout.dir, { recursive: true, force: true });
  });

  it("holds only package.json, production node_modules, compiled code and migrations", () => {
    expect(layout.entries).toEqual(["dist", "migrations", "node_modules", "package.json"]);
    const sources = layout.files.filter(
      (f) => f.startsWith("dist/") && f.endsWith(".ts") && !f.endsWith(".d.ts"),
    );
    expect(sources).toEqual([]);
    for (const dev of ["typescript", "vitest", "tsx", "@electric-sql/pglite", "node", "esbuild"]) {
      expect(layout.files.some((f) => f.startsWith(`node_modules/${dev}/`))).toBe(false);
    }
    expect(layout.files.some((f) => f.startsWith("dist/sandbox/") || f.startsWith("dist/test/"))).toBe(false);
    expect(layout.files.some((f) => /(^|\/)\.env/.test(f))).toBe(false);
    expect(layout.bytes).toBeLessThan(150 * 1024 * 1024);
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

  it("runs migrate and quota-reset from the layout against the sandbox", async () => {
    const env = { PATH: process.env.PATH, ...sandbox.env, LOG_LEVEL: "info" };
    for (const job of ["migrate", "quota-reset"]) {
      // cwd "/": nothing may depend on the working directory (Cloud Run starts in the image's WORKDIR).
      expect(await runFromLayout(layout, job, env)).toMatchObject({ job, status: "succeeded" });
    }
  });
});
