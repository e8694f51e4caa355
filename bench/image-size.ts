/**
 * Benchmark (a measurement, not a timing): the size of the image's runtime layout as tools/image-layout.ts
 * builds it, what takes the room (installed packages, the bundle by package it came from, the compile
 * cache), and the target of issue 12 (≤ 60 MiB, nothing shipped that no job loads).
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { ImageLayout } from "../tools/image-layout.ts";
import type { BenchResult } from "./lib/result.ts";

const TARGET_MIB = 60;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

/** Bytes per top-level entry, and per installed package (node_modules/<name> or node_modules/@scope/<name>). */
async function sizes(layout: ImageLayout) {
  const top = new Map<string, number>();
  const packages = new Map<string, number>();
  for (const file of layout.files) {
    const { size } = await stat(join(layout.dir, file));
    const entry = file.split("/")[0] as string;
    top.set(entry, (top.get(entry) ?? 0) + size);
    const pkg = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1];
    if (pkg) packages.set(pkg, (packages.get(pkg) ?? 0) + size);
  }
  return { top, packages: [...packages].sort((a, b) => b[1] - a[1]) };
}

export async function benchImageSize(layout: ImageLayout, opts: { top: number }): Promise<BenchResult> {
  const started = performance.now();
  const { top, packages } = await sizes(layout);
  const rows = [
    ...[...top].map(([entry, bytes]) => ({ what: `${entry}/ (layout entry)`, size: kib(bytes) })),
    ...packages.slice(0, opts.top).map(([name, bytes]) => ({
      what: `node_modules/${name} (installed: outside the bundle)`,
      size: kib(bytes),
    })),
    ...layout.bundled
      .slice(0, opts.top)
      .map(([name, bytes]) => ({ what: `${name} (in the bundle)`, size: kib(bytes) })),
  ];
  const ok = layout.bytes <= TARGET_MIB * 1024 * 1024;
  return {
    id: "image-size",
    title: "Image size (runtime layout)",
    measures: "bytes of every file the Dockerfile's runtime stage holds, as tools/image-layout.ts builds it",
    ratioMeans: "none: one measurement",
    cases: [],
    headline: `${mib(layout.bytes)} in ${layout.files.length} files (target ≤ ${TARGET_MIB} MiB: ${ok ? "met" : "missed"})`,
    rows,
    notes: [
      `Total ${mib(layout.bytes)} in ${layout.files.length} files; ${packages.length} packages installed (the closure of package.json's \`dependencies\`: @google-cloud/bigquery and google-auth-library, loaded by quota-cleanup only). Base image (node:24-bookworm-slim) not counted.`,
      "Everything else the jobs run is in the bundle (dist/): a chunk per lazy import, so a job loads its own chunk and what it shares. Not shipped: the operators' code (src/ops), the catalog's checks and cron-parser, dev dependencies, source maps and type declarations (pruned from node_modules).",
    ],
    durationMs: performance.now() - started,
  };
}
