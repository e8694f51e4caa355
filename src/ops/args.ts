/**
 * Argument parsing shared by the commands: node:util parseArgs for the syntax, zod for the meaning; both
 * fail as a ConfigError (exit 2) that ends with the command's usage line.
 *
 * @example
 * const args = parseCommandArgs(argv, { json: { type: "boolean" } }, z.object({ json: z.boolean().default(false) }), USAGE);
 */
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import type { z } from "zod";
import { ConfigError } from "../runtime/errors.ts";

export function parseCommandArgs<S extends z.ZodType>(
  argv: readonly string[],
  options: ParseArgsOptionsConfig,
  schema: S,
  usage: string,
): z.output<S> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\nusage: ${usage}`);
  }
  const result = schema.safeParse({ ...parsed.values, positionals: parsed.positionals });
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join(".") || "arguments"}: ${issue.message}`,
    );
    throw new ConfigError(`invalid arguments (usage: ${usage})`, problems);
  }
  return result.data;
}

/** `--help` / `-h` anywhere in the command's own arguments. */
export const wantsHelp = (argv: readonly string[]): boolean => argv.includes("--help") || argv.includes("-h");
