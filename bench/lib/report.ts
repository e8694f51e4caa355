/** Writes a run's results as bench/RESULTS.md (for people) and bench/results.json (for tools). */
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Machine } from "./machine.ts";
import type { BenchResult } from "./result.ts";

export interface Report {
  generatedAt: string;
  command: string;
  mode: "full" | "quick";
  durationMs: number;
  machine: Machine;
  benchmarks: BenchResult[];
  /** Benchmarks that could not run, with the reason (the rest of the run still counts). */
  failures: { id: string; error: string }[];
}

const fmt = (n: number) => (Number.isFinite(n) ? (n >= 100 ? n.toFixed(0) : n.toFixed(1)) : "–");

function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) =>
    `| ${cells.map((c) => String(c).replaceAll("|", "\\|")).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

function section(b: BenchResult, index: number): string {
  const parts = [
    `## ${index}. ${b.title}`,
    "",
    `- One sample: ${b.measures}.`,
    `- Ratio: ${b.ratioMeans}.`,
    "",
  ];
  if (b.cases.length) {
    const unit = b.cases[0]?.unit ?? "";
    parts.push(
      table(
        ["case", `median ${unit}`, "p10", "p90", "n", "ratio"],
        b.cases.map((c) => [
          c.baseline ? `${c.label} (baseline)` : c.label,
          fmt(c.stats.median),
          fmt(c.stats.p10),
          fmt(c.stats.p90),
          c.stats.n,
          `${c.ratio.toFixed(2)}×`,
        ]),
      ),
      "",
    );
  }
  if (b.rows?.length) {
    const header = Object.keys(b.rows[0] ?? {});
    parts.push(
      table(
        header,
        b.rows.map((r) => header.map((h) => r[h] ?? "")),
      ),
      "",
    );
  }
  for (const note of b.notes) parts.push(`- ${note}`);
  parts.push(`- Took ${(b.durationMs / 1000).toFixed(1)} s.`, "");
  return parts.join("\n");
}

/** A failure in a bullet: its first line, bounded (the full text is in results.json). */
const oneLine = (text: string) => {
  const first = text.split("\n")[0] ?? "";
  return first.length > 300 ? `${first.slice(0, 300)}…` : first;
};

/** One row of the summary: every case's ratio against the baseline, in one line. */
function headline(b: BenchResult): string[] {
  if (!b.cases.length) return [b.title, "–", b.headline ?? "see below"];
  const base = b.cases.find((c) => c.baseline);
  const others = b.cases.filter((c) => !c.baseline).map((c) => `${c.label}: **${c.ratio.toFixed(2)}×**`);
  return [b.title, base ? `${base.label} = ${fmt(base.stats.median)} ${base.unit}` : "–", others.join("; ")];
}

/** Renders the Markdown report. */
export function renderMarkdown(r: Report): string {
  const m = r.machine;
  return [
    "# Benchmark results",
    "",
    `Generated ${r.generatedAt} by \`${r.command}\` (${r.mode} run, ${(r.durationMs / 1000).toFixed(0)} s). How to read it: bench/README.md.`,
    "This machine is shared and noisy: compare the **ratios** (baseline measured in the same run, cases interleaved round by round), not absolute numbers across runs.",
    "",
    "## Summary",
    "",
    table(["benchmark", "baseline", "ratios (median ÷ baseline median)"], r.benchmarks.map(headline)),
    "",
    "## Machine",
    "",
    table(
      ["", ""],
      [
        ["os", m.os],
        ["cpu", m.cpu],
        ["cores", m.cores],
        ["memory", `${m.memoryGiB} GiB`],
        ["node", m.node],
        ["load average (1/5/15 min) at start", m.loadStart.join(" / ")],
        ["load average at end", m.loadEnd?.join(" / ") ?? "–"],
      ],
    ),
    "",
    ...r.benchmarks.map((b, i) => section(b, i + 1)),
    ...(r.failures.length
      ? ["## Not measured", "", ...r.failures.map((f) => `- ${f.id}: ${oneLine(f.error)}`), ""]
      : []),
  ].join("\n");
}

/** @example await writeReport(report, "bench"); // bench/RESULTS.md + bench/results.json */
export async function writeReport(r: Report, dir: string): Promise<string[]> {
  const md = `${dir}/RESULTS.md`;
  const json = `${dir}/results.json`;
  await writeFile(md, renderMarkdown(r));
  await writeFile(json, `${JSON.stringify(r, roundNumbers, 2)}\n`);
  await formatLikeTheRepo(json, dir);
  return [md, json];
}

/** Numbers to 3 decimals: sub-microsecond digits are noise and make the file hard to read. */
function roundNumbers(_key: string, value: unknown): unknown {
  return typeof value === "number" && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value;
}

/**
 * `npm run lint` checks every JSON file with biome, which lays arrays out differently from JSON.stringify:
 * format the file with the biome `npm run lint` uses (pinned in package.json's scripts, run through npx;
 * biome is not a devDependency) so a fresh results.json passes the lint as written.
 */
async function formatLikeTheRepo(file: string, dir: string): Promise<void> {
  const root = join(dir, "..");
  try {
    const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as {
      scripts: { lint: string };
    };
    const biome = /@biomejs\/biome@[\w.-]+/.exec(pkg.scripts.lint)?.[0] ?? "@biomejs/biome";
    await promisify(execFile)("npx", ["--yes", biome, "format", "--write", file], { cwd: root });
  } catch (error) {
    process.stderr.write(
      `bench: could not format ${file} with biome (${(error as Error).message}); lint may flag it\n`,
    );
  }
}
