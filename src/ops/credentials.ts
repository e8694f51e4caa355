/**
 * Google credentials for the operators' tools (FR-SJ-006.2): where Application Default Credentials come from,
 * checked before any command talks to Google, with `~` expanded. The checked path is what the clients are
 * given (`keyFilename`): google-auth would otherwise read the raw variable from process.env, resolve `~/x`
 * against the working directory and fail later, inside a client, with a stack trace.
 *
 * @example
 * const keyFile = await credentialsFile(io, "stage"); // "/home/me/creds.json", or throws ConfigError (exit 2) with the fix
 * new JobsClient({ projectId, keyFilename: keyFile });
 */
import { access, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../runtime/errors.ts";
import type { Io } from "./io.ts";

/**
 * `~` and `~/…` against `home`; anything else unchanged (`~user` is not expanded: the shell did not either).
 *
 * @example
 * expandHome("~/creds.json", "/home/me") // "/home/me/creds.json"
 */
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

type Found = { file: string; problem: null } | { file: null; problem: string };

async function locate(io: Io): Promise<Found> {
  const home = io.env.HOME ?? homedir();
  const configured = io.env.GOOGLE_APPLICATION_CREDENTIALS;
  if (configured) {
    const file = expandHome(configured, home);
    return (await exists(file))
      ? { file, problem: null }
      : {
          file: null,
          problem: `GOOGLE_APPLICATION_CREDENTIALS=${configured}: no file at ${file}; point it at a service-account key or unset it and run \`gcloud auth application-default login\``,
        };
  }
  const wellKnown = join(
    io.env.CLOUDSDK_CONFIG ?? join(home, ".config", "gcloud"),
    "application_default_credentials.json",
  );
  return (await exists(wellKnown))
    ? { file: wellKnown, problem: null }
    : {
        file: null,
        problem: `no Google credentials: run \`gcloud auth application-default login\` or set GOOGLE_APPLICATION_CREDENTIALS to a key file (looked for ${wellKnown})`,
      };
}

/**
 * The problem with the credentials, with its fix, or null when there is a file to use.
 *
 * @example
 * await credentialsProblem({ ...io, env: { GOOGLE_APPLICATION_CREDENTIALS: "/nope.json" } }) // "…no file at /nope.json; …"
 */
export async function credentialsProblem(io: Io): Promise<string | null> {
  return (await locate(io)).problem;
}

/**
 * The credentials file the Google clients must use (expanded); throws a ConfigError naming the variable,
 * the path and the fix when there is none.
 *
 * @example
 * const keyFile = await credentialsFile(io, "stage"); // ConfigError "no usable Google credentials for stage …"
 */
export async function credentialsFile(io: Io, where: string): Promise<string> {
  const found = await locate(io);
  if (found.problem !== null)
    throw new ConfigError(`no usable Google credentials for ${where}`, [found.problem]);
  return found.file;
}

const CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform";

/**
 * The auth object the Google clients get for `keyFile` (`auth` in their options). Service-account keys and
 * gcloud's user credentials are built here, because google-auth's own `keyFilename` prints a deprecation
 * warning per client; other types (external or impersonated accounts) go through google-auth's loader.
 * Throws a ConfigError (exit 2) naming the file and the fix when the file is not a usable key.
 *
 * @example
 * new JobsClient({ projectId, auth: await googleAuth("/home/me/creds.json") });
 */
export async function googleAuth(keyFile: string) {
  const { googleAuthLibrary: auth } = await import("google-gax");
  const fix =
    "point GOOGLE_APPLICATION_CREDENTIALS at a service-account key (JSON) or run `gcloud auth application-default login`";
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(keyFile, "utf8"));
  } catch (error) {
    throw new ConfigError(
      `cannot read the Google credentials in ${keyFile}: ${(error as Error).message}; ${fix}`,
    );
  }
  const field = (name: string): string => {
    const value = json[name];
    if (typeof value === "string" && value) return value;
    throw new ConfigError(
      `the Google credentials in ${keyFile} (type ${json.type}) have no "${name}"; ${fix}`,
    );
  };
  if (json.type === "service_account") {
    const authClient = new auth.JWT({
      email: field("client_email"),
      key: field("private_key"),
      ...(typeof json.private_key_id === "string" ? { keyId: json.private_key_id } : {}),
      scopes: [CLOUD_PLATFORM],
    });
    return new auth.GoogleAuth({ authClient, scopes: [CLOUD_PLATFORM] });
  }
  if (json.type === "authorized_user") {
    const authClient = new auth.UserRefreshClient({
      clientId: field("client_id"),
      clientSecret: field("client_secret"),
      refreshToken: field("refresh_token"),
    });
    return new auth.GoogleAuth({ authClient, scopes: [CLOUD_PLATFORM] });
  }
  if (typeof json.type === "string" && OTHER_TYPES.has(json.type)) {
    return new auth.GoogleAuth({ keyFilename: keyFile, scopes: [CLOUD_PLATFORM] });
  }
  throw new ConfigError(
    `the Google credentials in ${keyFile} have type ${JSON.stringify(json.type)}, not one of service_account, authorized_user, ${[...OTHER_TYPES].join(", ")}; ${fix}`,
  );
}

/** Credential types google-auth loads itself (workload identity federation, impersonation, GDC). */
const OTHER_TYPES = new Set([
  "external_account",
  "external_account_authorized_user",
  "impersonated_service_account",
  "gdch_service_account",
]);
