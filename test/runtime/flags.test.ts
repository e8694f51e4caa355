import { describe, expect, it } from "vitest";
import { z } from "zod";
import { formatJobHelp, parseFlags } from "../../src/runtime/flags.ts";
import { fakeJob } from "./helpers/jobs.ts";

const job = fakeJob({
  name: "alerts",
  flags: {
    "dry-run": { type: "boolean", description: "Change nothing.", default: false },
    org: { type: "string", description: "One organisation." },
    concurrency: {
      type: "string",
      description: "Parallel calls.",
      default: "8",
      schema: z.coerce.number().int().min(1).max(64),
    },
  },
});

describe("parseFlags", () => {
  it.each([
    { args: [], values: { "dry-run": false, org: undefined, concurrency: 8 } },
    { args: ["--dry-run", "--org", "acme"], values: { "dry-run": true, org: "acme", concurrency: 8 } },
    {
      args: ["--org=acme", "--concurrency", "16"],
      values: { "dry-run": false, org: "acme", concurrency: 16 },
    },
  ])("parses $args", ({ args, values }) => {
    expect(parseFlags(job, args)).toEqual({ values, problems: [] });
  });

  it.each([
    {
      args: ["--force"],
      problem: /^--force: unknown flag \(job "alerts" accepts --dry-run, --org, --concurrency\)$/,
    },
    { args: ["acme"], problem: /^unexpected argument "acme"/ },
    { args: ["--org"], problem: /^--org: needs a value$/ },
    { args: ["--dry-run=yes"], problem: /^--dry-run: takes no value$/ },
    { args: ["--concurrency", "0"], problem: /^--concurrency: / },
    { args: ["-x"], problem: /^-x: unknown flag/ },
    { args: ["--concurrency", " 8"], problem: /^--concurrency: has leading or trailing spaces; remove them/ },
    {
      args: ["--concurrency", "8\n"],
      problem: /^--concurrency: contains a control character at position 2; remove it/,
    },
    { args: ["--org", "ac\tme"], problem: /^--org: contains a control character at position 3/ },
  ])("reports $args", ({ args, problem }) => {
    const { problems } = parseFlags(job, args);
    expect(problems).toEqual([expect.stringMatching(problem)]);
  });

  it("reports every problem at once", () => {
    expect(parseFlags(job, ["--force", "x", "--concurrency", "999", "--org"]).problems).toHaveLength(4);
  });
});

describe("formatJobHelp", () => {
  it("lists each flag with its description and default", () => {
    const help = formatJobHelp(job, "npm run job --");
    expect(help).toContain("Usage: npm run job -- alerts [flags]");
    expect(help).toContain("Schedule: none (run manually)");
    expect(help).toMatch(/--dry-run\s+Change nothing\. \(default: false\)\n/);
    expect(help).toMatch(/--concurrency <value>\s+Parallel calls\. \(default: 8\)\n/);
  });
});
