/**
 * Checks before provisioning, each failure with its fix: (credentials are checked earlier, for every command,
 * by resolveTarget — credentials.ts, FR-SJ-006.2), the secrets the jobs reference exist,
 * and the accounts the jobs and triggers use are named with the IAM roles they need (iam.ts).
 *
 * The checks that call Google run in create-all-jobs' one wave of reads (provision-reads.ts), next to the
 * reads of what exists: none depends on another.
 *
 * @example
 * assertPreflight(target, [...(await secretProblems(target, clients, desired.secrets)), ...channelProblems]);
 * reportPreflight(target, desired.secrets, io);
 */
import { ConfigError } from "../runtime/errors.ts";
import type { Clients } from "./clients.ts";
import { IAM_ROLES } from "./iam.ts";
import { type Io, println } from "./io.ts";
import { screenWidth, wrapLine } from "./screen.ts";
import type { Target } from "./target.ts";

// The credentials check moved to credentials.ts (every command runs it, in resolveTarget); re-exported here
// for the callers that know it as part of the preflight.
export { credentialsProblem, expandHome } from "./credentials.ts";

/** Every `roles/…` a line names ("roles/bigquery.jobUser and roles/bigquery.dataEditor on …" has two). */
export const roleNames = (roles: readonly string[]): string =>
  roles.flatMap((role) => role.match(/roles\/[\w.]+/g) ?? []).join(", ");

/** Every secret the jobs reference that cannot be read, each with its fix; empty when all exist. */
export async function secretProblems(
  target: Target,
  clients: Clients,
  secrets: ReadonlySet<string>,
): Promise<string[]> {
  const problems: string[] = [];
  // Credentials were checked by resolveTarget (credentials.ts) before any client was made.
  const client = await clients.secrets();
  await Promise.all(
    [...secrets].map(async (secret) => {
      try {
        await client.getSecret({ name: `projects/${target.env.project}/secrets/${secret}` });
      } catch (error) {
        const code = (error as { code?: number | string }).code;
        problems.push(
          code === 404 || code === 5 || code === "NOT_FOUND"
            ? `secret "${secret}" does not exist in project ${target.env.project}: create it with \`printf %s "$VALUE" | gcloud secrets create ${secret} --data-file=- --project ${target.env.project}\``
            : `secret "${secret}": ${(error as Error).message} (the deployer needs roles/secretmanager.viewer)`,
        );
      }
    }),
  );
  return problems.sort();
}

/** Throws one ConfigError listing every preflight problem (secrets, notification channels), if any. */
export function assertPreflight(target: Target, problems: readonly string[]): void {
  if (problems.length) throw new ConfigError(`preflight failed for ${target.env.name}`, [...problems]);
}

/** What the preflight found, for the operator (stderr): the accounts, their roles, the secrets. */
export function reportPreflight(target: Target, secrets: ReadonlySet<string>, io: Io): void {
  const width = screenWidth(io);
  for (const line of [
    `preflight: jobs run as ${target.env.jobServiceAccount} (needs ${roleNames(IAM_ROLES.job)})`,
    `preflight: triggers call :run as ${target.env.invokerServiceAccount} (needs ${roleNames(IAM_ROLES.invoker)})`,
    `preflight: secrets found: ${[...secrets].sort().join(", ")}`,
  ])
    for (const part of wrapLine(line, width, 2)) println(io.stderr, part);
}
