/**
 * Where a command acts: the environment's row from the table plus the endpoints to reach.
 *
 * - `sandbox`: endpoints from the environment (CLOUD_RUN_API_URL, …) or from `.sandbox/endpoints.json`
 *   written by `npm run sandbox`; neither → a ConfigError that says to start it.
 * - test / stage / prod: Application Default Credentials, resolved and checked here (credentials.ts: a
 *   ConfigError listing the sources tried and the fix), sent to Google's endpoints — or, when
 *   CLOUD_RUN_API_URL is set, to that emulator (a testing override: a notice says so on stderr). The
 *   override changes where requests go, never how credentials are found: only `sandbox` uses pass-through.
 *
 * @example
 * const target = await resolveTarget("sandbox", io);
 * target.endpoints?.cloudRun // "http://127.0.0.1:40123"
 */
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import {
  ENVIRONMENT_NAMES,
  ENVIRONMENTS,
  type Environment,
  isEnvironmentName,
  REFUSED_ENVIRONMENTS,
} from "../runtime/environments.ts";
import { ConfigError } from "../runtime/errors.ts";
import { type Credentials, resolveCredentials } from "./credentials.ts";
import type { Io } from "./io.ts";
import { assertSandboxAnswers } from "./sandbox-probe.ts";

export interface Endpoints {
  cloudRun: string;
  scheduler: string;
  secretManager: string;
  /** Everything the sandbox published (API_SERVICE_URL, SUPABASE_API_URL, …). */
  env: Record<string, string>;
}

export interface Target {
  env: Environment;
  /** Emulator endpoints (an override of where requests go); null = Google's APIs. */
  endpoints: Endpoints | null;
  /** Base URL of the Cloud Run `:run` URLs the triggers POST to. */
  runApiBase: string;
  /** Base URL of Cloud Logging `entries:list`. */
  loggingBase: string;
  /** test / stage / prod: the checked Application Default Credentials every client uses; sandbox: none. */
  credentials?: Credentials | undefined;
}

/** Validates an environment name: `local` gets its own explanation, anything unknown lists the valid ones. */
export function parseEnvironment(name: string | undefined): Environment {
  if (name === undefined) {
    throw new ConfigError(`missing environment: pass one of ${ENVIRONMENT_NAMES.join(", ")}`);
  }
  const refused = REFUSED_ENVIRONMENTS[name];
  if (refused) throw new ConfigError(refused);
  if (!isEnvironmentName(name)) {
    throw new ConfigError(
      `unknown environment "${name}": valid environments are ${ENVIRONMENT_NAMES.join(", ")}`,
    );
  }
  return ENVIRONMENTS[name];
}

const ENDPOINT_KEYS = ["CLOUD_RUN_API_URL", "CLOUD_SCHEDULER_API_URL", "SECRET_MANAGER_API_URL"] as const;

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

async function readSandboxFile(io: Io): Promise<Record<string, string> | null> {
  // SANDBOX_STATE_DIR: a second sandbox started with its own state directory (sandbox/cli.ts --state-dir).
  const root = io.cwd ?? process.cwd();
  const file = join(resolve(root, io.env.SANDBOX_STATE_DIR ?? ".sandbox"), "endpoints.json");
  let parsed: { env?: Record<string, string>; pid?: number; starting?: boolean };
  try {
    parsed = JSON.parse(await readFile(file, "utf8"));
  } catch {
    // Absent or unreadable: the caller explains how to start the sandbox.
    return null;
  }
  if (typeof parsed.pid === "number" && !isAlive(parsed.pid)) {
    throw new ConfigError(
      `${file} is stale: the sandbox (pid ${parsed.pid}) has stopped; start the sandbox: npm run sandbox`,
    );
  }
  if (parsed.starting)
    throw new ConfigError(`the sandbox (pid ${parsed.pid}) is still starting: try again in a moment`);
  return parsed.env ?? null;
}

function endpointsFrom(vars: Record<string, string | undefined>): Endpoints | null {
  const [run, scheduler, secrets] = ENDPOINT_KEYS.map((key) => vars[key]);
  if (!run) return null;
  const env = Object.fromEntries(
    Object.entries(vars).filter((e): e is [string, string] => e[1] !== undefined),
  );
  // One emulator URL may serve everything; fall back to Cloud Run's when a service has none of its own.
  return { cloudRun: run, scheduler: scheduler ?? run, secretManager: secrets ?? run, env };
}

/** The environment plus the endpoints to reach; see the module comment for the rules. */
export async function resolveTarget(name: string | undefined, io: Io): Promise<Target> {
  const env = parseEnvironment(name);
  let endpoints = endpointsFrom(io.env);
  const from = endpoints ? "CLOUD_RUN_API_URL" : ".sandbox/endpoints.json";
  if (!endpoints && env.name === "sandbox") {
    const file = await readSandboxFile(io);
    endpoints = file ? endpointsFrom(file) : null;
    if (!endpoints) {
      throw new ConfigError(
        "the sandbox is not running (no CLOUD_RUN_API_URL and no .sandbox/endpoints.json): start the sandbox: npm run sandbox",
      );
    }
  }
  if (endpoints && env.name === "sandbox") await assertSandboxAnswers(endpoints.cloudRun, from);
  if (endpoints && env.name !== "sandbox") {
    io.stderr.write(
      `note: CLOUD_RUN_API_URL is set: "${env.name}" talks to the emulator at ${endpoints.cloudRun}, not to Google\n`,
    );
  }
  // Every command that talks to Google checks its credentials first: exit 2 with the fix, not a stack trace.
  const credentials = env.name === "sandbox" ? undefined : await resolveCredentials(io, env.name);
  if (credentials) io.stderr.write(`credentials: ${credentials.source}\n`);
  return {
    env,
    endpoints,
    credentials,
    runApiBase: endpoints ? endpoints.cloudRun.replace(/\/$/, "") : "https://run.googleapis.com",
    loggingBase: endpoints ? endpoints.cloudRun.replace(/\/$/, "") : "https://logging.googleapis.com",
  };
}
