/**
 * Regenerates the README sections that restate the code — the job table (from the catalog), the IAM
 * roles (from src/ops/iam.ts) and the configuration reference (from the config schema) — between
 * `<!-- generated:NAME:start -->` and `<!-- generated:NAME:end -->` markers — and the counts in the prose,
 * `<!-- count:jobs|triggers|resources -->N<!-- /count -->`, so adding a job changes no hand-written number.
 *
 * @example
 *   npm run readme            # rewrite README.md
 *   npm run readme -- --check # exit 1 when README.md is stale (the test does the same)
 */
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { catalog } from "../jobs/index.ts";
import { categoryOf } from "../src/ops/catalog.ts";
import { IAM_ROLES } from "../src/ops/iam.ts";
import { configReferenceMarkdown } from "../src/runtime/config.ts";

export const README_PATH = resolve(import.meta.dirname, "..", "README.md");

const duration = (seconds: number) =>
  seconds % 3600 === 0 ? `${seconds / 3600} h` : seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
const cell = (text: string) => text.replaceAll("|", "\\|").replaceAll("\n", " ");

function jobsSection(): string {
  const rows = catalog.map((job) => {
    const schedule = job.schedule ? `\`${job.schedule.cron}\` ${job.schedule.timeZone}` : "— (manual)";
    const flags =
      Object.keys(job.flags)
        .map((f) => `\`--${f}\``)
        .join(" ") || "—";
    return `| \`${job.name}\` | ${categoryOf(job)} | ${schedule} | ${duration(job.timeoutSeconds)} | ${job.retries} | ${job.tasks} | ${job.resources.cpu} CPU / ${job.resources.memory} | ${flags} | ${cell(job.description)} |`;
  });
  return [
    "## The jobs",
    "",
    "Generated from the catalog (`jobs/index.ts`) by `npm run readme`; a test fails when this table is stale.",
    "",
    "| job | category | schedule | timeout | retries | tasks | resources | flags | what it does |",
    "|---|---|---|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

function iamSection(): string {
  const names: Record<keyof typeof IAM_ROLES, string> = {
    deployer: "Operator or CI running the scripts",
    job: "Job service account (`scheduler-jobs-runner@…`)",
    invoker: "Scheduler invoker account (`scheduler-jobs-invoker@…`)",
    serviceAgent:
      "Cloud Run service agent (`service-PROJECT_NUMBER@serverless-robot-prod.iam.gserviceaccount.com`)",
  };
  const lines = Object.entries(IAM_ROLES).flatMap(([account, roles]) => [
    `- **${names[account as keyof typeof IAM_ROLES]}**`,
    ...roles.map((role) => `  - ${role}`),
  ]);
  return ["### IAM roles each account needs", "", ...lines].join("\n");
}

function configSection(): string {
  const jobKeys = catalog.flatMap((job) =>
    job.env ? Object.keys(job.env.shape).map((key) => `\`${key}\` (${job.name})`) : [],
  );
  return [
    "## Configuration reference",
    "",
    "Every environment variable the job runtime reads, generated from the config schema (`src/runtime/config-keys.ts`).",
    "Only what the chosen job needs is required; every bad or missing key is reported at once, before any work (exit 2).",
    "",
    configReferenceMarkdown().trimEnd(),
    "",
    `Job-specific keys (declared in the job's own \`env\` schema): ${jobKeys.join(", ") || "none"}.`,
  ].join("\n");
}

/** The numbers the prose quotes: Cloud Run jobs, Scheduler triggers, and both (what a plan counts). */
export function readmeCounts(): Record<string, number> {
  const triggers = catalog.filter((job) => job.schedule).length;
  return { jobs: catalog.length, triggers, resources: catalog.length + triggers };
}

function renderCounts(text: string): string {
  const counts = readmeCounts();
  return text.replace(/(<!-- count:([a-z]+) -->)[^<]*(<!-- \/count -->)/g, (whole, open, name, close) => {
    if (!(name in counts)) throw new Error(`README.md: unknown count "${name}" in ${whole}`);
    return `${open}${counts[name]}${close}`;
  });
}

export function renderReadme(current: string): string {
  const sections: Record<string, string> = {
    jobs: jobsSection(),
    iam: iamSection(),
    config: configSection(),
  };
  let out = renderCounts(current);
  for (const [name, body] of Object.entries(sections)) {
    const start = `<!-- generated:${name}:start -->`;
    const end = `<!-- generated:${name}:end -->`;
    const from = out.indexOf(start);
    const to = out.indexOf(end);
    if (from < 0 || to < from) throw new Error(`README.md lacks the markers ${start} … ${end}`);
    out = `${out.slice(0, from + start.length)}\n${body}\n${out.slice(to)}`;
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const current = readFileSync(README_PATH, "utf8");
  const next = renderReadme(current);
  if (process.argv.includes("--check")) {
    if (next !== current) {
      console.error("README.md is stale: run `npm run readme` and commit the result.");
      process.exit(1);
    }
    console.log("README.md is up to date.");
  } else {
    writeFileSync(README_PATH, next);
    console.log(next === current ? "README.md unchanged." : "README.md regenerated.");
  }
}
