/**
 * Checks before provisioning, each failure with its fix: credentials (GOOGLE_APPLICATION_CREDENTIALS with `~`
 * expanded and the file checked — FR-SJ-006.2; skipped for emulators), the secrets the jobs reference exist,
 * and the accounts the jobs and triggers use are named with the IAM roles they need (iam.ts).
 *
 * @example
 * await preflight(target, clients, desired.secrets, io); // throws ConfigError listing every problem
 */
import { access } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../runtime/errors.ts";
import type { Clients } from "./clients.ts";
import { IAM_ROLES } from "./iam.ts";
import { type Io, println } from "./io.ts";
import type { Target } from "./target.ts";

export const expandHome = (path: string, home = homedir()): string =>
  path === "~" ? home : path.startsWith("~/") ? join(home, path.slice(2)) : path;

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Where Application Default Credentials come from, or the problem with its fix. */
export async function credentialsProblem(io: Io): Promise<string | null> {
  const home = io.env.HOME ?? homedir();
  const configured = io.env.GOOGLE_APPLICATION_CREDENTIALS;
  if (configured) {
    const path = expandHome(configured, home);
    return (await exists(path))
      ? null
      : `GOOGLE_APPLICATION_CREDENTIALS=${configured}: no file at ${path}; point it at a service-account key or unset it and run \`gcloud auth application-default login\``;
  }
  const wellKnown = join(
    io.env.CLOUDSDK_CONFIG ?? join(home, ".config", "gcloud"),
    "application_default_credentials.json",
  );
  return (await exists(wellKnown))
    ? null
    : `no Google credentials: run \`gcloud auth application-default login\` or set GOOGLE_APPLICATION_CREDENTIALS to a key file (looked for ${wellKnown})`;
}

const roleNames = (roles: readonly string[]): string => roles.map((role) => role.split(" ")[0]).join(", ");

export async function preflight(
  target: Target,
  clients: Clients,
  secrets: Set<string>,
  io: Io,
): Promise<void> {
  const problems: string[] = [];
  if (!target.endpoints) {
    const problem = await credentialsProblem(io);
    // Without credentials every later call fails with a less helpful message: stop here.
    if (problem) throw new ConfigError(`preflight failed for ${target.env.name}`, [problem]);
  }
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
  if (problems.length) throw new ConfigError(`preflight failed for ${target.env.name}`, problems);
  println(
    io.stderr,
    `preflight: jobs run as ${target.env.jobServiceAccount} (needs ${roleNames(IAM_ROLES.job)})`,
  );
  println(
    io.stderr,
    `preflight: triggers call :run as ${target.env.invokerServiceAccount} (needs ${roleNames(IAM_ROLES.invoker)})`,
  );
  println(io.stderr, `preflight: secrets found: ${[...secrets].sort().join(", ")}`);
}
