/**
 * Job flags: parsed with node:util `parseArgs` in strict mode from the job's `flags` specs, every problem
 * collected (not just the first), and the help texts of the entrypoint.
 */
import { parseArgs } from "node:util";
import type { AnyJob, FlagSpecs } from "./job.ts";

export interface ParsedFlags {
  values: Record<string, unknown>;
  /** One line per problem, naming the flag, e.g. `--types: unknown alert type(s) foo`. */
  problems: string[];
}

/**
 * @example
 * parseFlags(alerts, ["--dry-run", "--org", "acme"]) // { values: { "dry-run": true, org: "acme", ... }, problems: [] }
 */
export function parseFlags(job: AnyJob, args: readonly string[]): ParsedFlags {
  const specs: FlagSpecs = job.flags ?? {};
  const options = Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [
      name,
      spec.type === "boolean"
        ? {
            type: "boolean" as const,
            ...(typeof spec.default === "boolean" ? { default: spec.default } : {}),
          }
        : { type: "string" as const, ...(typeof spec.default === "string" ? { default: spec.default } : {}) },
    ]),
  );
  // Not strict: parseArgs would stop at the first problem; the tokens let us report every one.
  const { values: raw, tokens } = parseArgs({
    args: [...args],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const known = Object.keys(specs).map((n) => `--${n}`);
  const accepts = `job "${job.name}" accepts ${known.length ? known.join(", ") : "no flags"}`;
  const problems: string[] = [];
  for (const token of tokens) {
    if (token.kind === "positional") problems.push(`unexpected argument "${token.value}" (${accepts})`);
    if (token.kind !== "option") continue;
    const spec = specs[token.name];
    if (!spec) problems.push(`${token.rawName}: unknown flag (${accepts})`);
    else if (spec.type === "string" && token.value === undefined)
      problems.push(`${token.rawName}: needs a value`);
    else if (spec.type === "boolean" && token.value !== undefined)
      problems.push(`${token.rawName}: takes no value`);
  }
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const value = raw[name];
    if (spec.type === "boolean") {
      values[name] = value === true;
      continue;
    }
    if (typeof value !== "string" && value !== undefined) {
      values[name] = undefined; // "--org" without a value: already reported above
      continue;
    }
    const stray = value === undefined ? null : strayProblem(value);
    if (stray) {
      problems.push(`--${name}: ${stray}`);
      continue;
    }
    if (!spec.schema) {
      values[name] = value;
      continue;
    }
    const parsed = spec.schema.safeParse(value);
    if (parsed.success) values[name] = parsed.data;
    else problems.push(...parsed.error.issues.map((i) => `--${name}: ${i.message}`));
  }
  return { values, problems };
}

/** A control character anywhere or spaces around a value: a paste accident, never a meant value. */
function strayProblem(value: string): string | null {
  const at = [...value].findIndex((ch) => {
    const c = ch.codePointAt(0) ?? 0;
    return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029;
  });
  if (at >= 0) return `contains a control character at position ${at + 1}; remove it`;
  if (value.trim() !== value)
    return `has leading or trailing spaces; remove them (quote the value without them)`;
  return null;
}

/** `<job> --help`: description, usage, each flag with its description and default. */
export function formatJobHelp(job: AnyJob, entry: string): string {
  const specs = Object.entries((job.flags ?? {}) as FlagSpecs);
  const width = Math.max(0, ...specs.map(([n, s]) => flagLabel(n, s.type).length));
  const lines = [
    `${job.name} — ${job.description}`,
    "",
    `Usage: ${entry} ${job.name}${specs.length ? " [flags]" : ""}`,
    "",
    job.schedule
      ? `Schedule: ${job.schedule.cron} (${job.schedule.timeZone})`
      : "Schedule: none (run manually)",
    `Uses: ${job.uses.length ? job.uses.join(", ") : "nothing external"}`,
    "",
    specs.length ? "Flags:" : "Flags: none",
    ...specs.map(([name, spec]) => {
      const fallback = spec.default === undefined ? "" : ` (default: ${String(spec.default)})`;
      return `  ${flagLabel(name, spec.type).padEnd(width)}  ${spec.description}${fallback}`;
    }),
    `${"  --help".padEnd(width + 2)}  Show this help.`,
  ];
  return `${lines.join("\n")}\n`;
}

/** The list of jobs (for `--help` and for an unknown or missing job name). */
export function formatJobList(catalog: readonly AnyJob[], entry: string): string {
  const width = Math.max(0, ...catalog.map((j) => j.name.length));
  return [
    `Usage: ${entry} <job> [flags]    (${entry} <job> --help for the job's flags; --version)`,
    "",
    "Jobs:",
    ...catalog.map((j) => `  ${j.name.padEnd(width)}  ${j.description}`),
    "",
  ].join("\n");
}

const flagLabel = (name: string, type: "boolean" | "string") =>
  `--${name}${type === "string" ? " <value>" : ""}`;
