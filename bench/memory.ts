/**
 * Benchmark: peak memory (RSS) of each HTTP job run to completion from the image layout against the
 * sandbox (in its own process), against bare `node -e 0` in the same rounds; and org-sync-all's growth
 * per organisation: the same run over 1,000 and over 10,000 orgs of a latency-only stub, the difference
 * divided by 9,000. Peak RSS is what the kernel reports at exit (`process.resourceUsage().maxRSS`, read by a
 * preload that the baseline gets too). Target (issue 12): ≤ 1.8× bare Node's peak, and flat per org.
 */
import { join } from "node:path";
import type { ImageLayout } from "../tools/image-layout.ts";
import { COMPILE_CACHE_DIR, layoutArgs } from "../tools/image-layout.ts";
import { type BenchResult, toCases } from "./lib/result.ts";
import { RSS_PRELOAD, runNode } from "./lib/spawn.ts";
import { interleave } from "./lib/stats.ts";
import { startStubAdminApi } from "./lib/stub-admin-api.ts";
import { HTTP_JOBS } from "./start-up.ts";

export const MEMORY_BASELINE = "node -e 0 (bare node)";

/** What the peak is made of, and what would lower it (probed with process.memoryUsage() while building this). */
const WHY = [
  "What is left (measured while building this): a job that makes more than a few dozen requests (org-sync-all, migrate) peaks ~20 MiB higher than one that makes a few, because V8 re-compiles undici's WebAssembly HTTP parser (llhttp, one huge function) with its optimising compiler (V8's peak_malloced_memory 23 MiB vs 1 MiB). `--liftoff-only` removes that (org-sync-all over the sandbox's orgs 94 → 75 MiB) but made every start ~15 ms slower, which would break the start-up target for every job, so the image does not use it; a node:http transport (Node's native HTTP parser, no WebAssembly) would remove both costs. Loading undici's Pool and request API instead of its whole index saved ~4 MiB on every job.",
  "org-sync-all's growth per org was garbage, not state: V8 sized its young generation and its first full GC for this 23.5 GiB host, so the dead request and response objects of 10,000 syncs piled up (230 MiB at 10,000 orgs, live heap ~20 MiB). The image's `--max-semi-space-size=2 --max-old-space-size=256` (sized for the jobs' 512Mi limit; tools/image-layout.ts RUNTIME_NODE_FLAGS) keeps the peak flat in the org count, and the run took no longer (2.2–3.2 s vs 3.9–4.5 s for 10,000 orgs against a 1 ms stub). State the job keeps per org (jobs/manual/org-sync-all.ts): the slug list and the task's share (~100 bytes an org); counts, not lists, of what it synced.",
  "quota-cleanup stays the heaviest HTTP job: the official BigQuery client and google-auth-library are ~5 MiB more live heap than the admin API jobs. Bundling them (tried: the image's node_modules would go) saved ~4 MiB and ~18 ms of start-up, but was left out: it moves the production token path (metadata server → google-auth-library) into code no test runs as Cloud Run does. What would close it: a jobs.query call on the suite's own HTTP client with a metadata-server token, giving up the official client.",
];
const MIB = 1024;

/** Runs node with the RSS preload; the peak in MiB. Throws unless the exit code is 0 (a crash is not a figure). */
async function peakMiB(args: string[], env: Record<string, string | undefined>): Promise<number> {
  const r = await runNode(["--import", RSS_PRELOAD, ...args], { env });
  if (r.code !== 0 || r.maxRssKiB === null) {
    const last = r.stdout.trim().split("\n").at(-1) ?? "";
    throw new Error(
      `node ${args.join(" ")} exited ${r.code}: ${last.slice(0, 400)} ${r.stderr.slice(0, 300)}`,
    );
  }
  return r.maxRssKiB / MIB;
}

export async function benchMemory(
  layout: ImageLayout,
  sandboxEnv: Record<string, string>,
  opts: {
    rounds: number;
    minRounds: number;
    budgetMs: number;
    orgs: readonly [number, number];
    jobs?: readonly (readonly string[])[];
  },
): Promise<BenchResult> {
  const started = performance.now();
  // As the image runs it: its ENTRYPOINT's node flags, then the bundled entrypoint.
  const node = (...args: string[]) => layoutArgs(layout, ...args);
  const cache = { NODE_COMPILE_CACHE: join(layout.dir, COMPILE_CACHE_DIR) };
  const cases = [
    { label: MEMORY_BASELINE, run: () => peakMiB(["-e", "0"], {}) },
    ...(opts.jobs ?? HTTP_JOBS).map((args) => ({
      label: args.join(" "),
      run: () => peakMiB(node(...args), { ...sandboxEnv, ...cache }),
    })),
  ];
  const samples = await interleave(cases, opts);

  // org-sync-all over a stub that answers at once: the difference between two sizes is what each org costs.
  const [small, large] = opts.orgs;
  const perOrg: string[] = [];
  for (const orgs of [small, large]) {
    const stub = await startStubAdminApi({ orgs, latencyMs: 1 });
    try {
      const env = {
        ENVIRONMENT: "sandbox",
        GCP_PROJECT_ID: "sandbox-project",
        API_SERVICE_URL: stub.url,
        CA_ROOT_API_KEY: "bench-stub-key",
        ...cache,
      };
      const peaks: number[] = [];
      for (let i = 0; i < Math.max(1, opts.minRounds); i++) {
        peaks.push(await peakMiB(node("org-sync-all", "--concurrency", "32"), env));
      }
      samples.set(`org-sync-all, ${orgs.toLocaleString("en")} orgs (stub, --concurrency 32)`, peaks);
    } finally {
      await stub.close();
    }
  }
  const median = (label: string) => {
    const s = [...(samples.get(label) ?? [])].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)] ?? Number.NaN;
  };
  const label = (n: number) => `org-sync-all, ${n.toLocaleString("en")} orgs (stub, --concurrency 32)`;
  const slopeKiB = ((median(label(large)) - median(label(small))) * MIB) / (large - small);
  const results = toCases(samples, MEMORY_BASELINE, "MiB");
  const over = results
    .filter((c) => (opts.jobs ?? HTTP_JOBS).some((a) => a.join(" ") === c.label) && c.ratio > 1.8)
    .map((c) => `${c.label} (${c.ratio.toFixed(2)}×)`);
  perOrg.push(
    over.length
      ? `Over the 1.8× target in this run: ${over.join("; ")}.`
      : "Every HTTP job ≤ 1.8× in this run.",
  );
  perOrg.push(
    `org-sync-all's peak grows by ${slopeKiB.toFixed(2)} KiB per organisation between ${small.toLocaleString("en")} and ${large.toLocaleString("en")} orgs (medians; the org list itself, one slug per org, is part of it).`,
  );
  return {
    id: "memory",
    title: "Peak memory of a job",
    measures:
      "peak RSS (MiB) of one process, run to completion from the image layout (jobs against the sandbox in its own process; org-sync-all also against a stub)",
    ratioMeans: "overhead: median MiB of the case ÷ median MiB of bare `node -e 0`, same run",
    cases: results,
    notes: [
      ...perOrg,
      ...WHY,
      "Peak RSS from process.resourceUsage().maxRSS at exit, through a preload every case (the baseline too) gets. Target: HTTP jobs ≤ 1.8× bare Node.",
      "Logs at the default level (info: org-sync-all writes a line per org), read by the bench as Cloud Run's log agent would.",
    ],
    durationMs: performance.now() - started,
  };
}
