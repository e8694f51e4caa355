/**
 * Bundles the container entrypoint for the image: `src/main.ts` and everything it imports, split into
 * chunks at each lazy import (one per job, the config and HTTP stack, each client), in `dist/`. Only
 * package.json's `dependencies` stay outside (installed in the image's node_modules); everything else
 * the runtime uses (zod, undici, p-retry) is in the bundle, so the image ships no source it never loads
 * (src/ops, the catalog's checks, cron-parser) and a start resolves a handful of files instead of hundreds.
 *
 * Why a bundle (bench/RESULTS.md, start-up): resolving and reading zod's and undici's many files was
 * most of a start; the bundle does it once, at build time.
 *
 * @example
 *   node tools/bundle.ts [outdir]     # default dist/ (the Dockerfile's build stage runs exactly this)
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { build } from "esbuild";

const repo = resolve(import.meta.dirname, "..");

/** esbuild's ESM output has no `require`; undici (CommonJS) requires Node's built-in modules. */
const REQUIRE_SHIM = `import { createRequire as __bundleRequire } from "node:module"; const require = __bundleRequire(import.meta.url);`;

/** Bytes of the bundle by package it came from (`(own code)` for src/ and jobs/), largest first. */
export type BundleInputs = [string, number][];

/**
 * `root` is the build context (tools/image-layout.ts passes the git-tracked copy); default the checkout.
 *
 * @example await bundle("/tmp/layout/dist") // { files: [dist/src/main.js, dist/chunks/…], inputs }
 */
export async function bundle(
  outdir = resolve(repo, "dist"),
  root = repo,
): Promise<{ files: string[]; inputs: BundleInputs }> {
  const pkg = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  const result = await build({
    absWorkingDir: root,
    entryPoints: { "src/main": "src/main.ts" },
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node24",
    // Chunks sit two folders under the image root, like dist/src/main.js: paths relative to a module
    // (migrate's ../../migrations/) mean the same from both.
    chunkNames: "chunks/[name]-[hash]",
    external: Object.keys(pkg.dependencies ?? {}),
    banner: { js: REQUIRE_SHIM },
    // Readable stack traces without a source map (a map would be parsed at every start).
    minify: false,
    keepNames: true,
    legalComments: "eof",
    metafile: true,
    logLevel: "warning",
  });
  const bytes = new Map<string, number>();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? "(own code)";
      bytes.set(name, (bytes.get(name) ?? 0) + bytesInOutput);
    }
  }
  return {
    files: Object.keys(result.metafile.outputs),
    inputs: [...bytes].sort((a, b) => b[1] - a[1]),
  };
}

if (import.meta.main) {
  const { files } = await bundle(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(`bundled ${files.length} files into ${process.argv[2] ?? "dist"}`);
}
