/**
 * Google credentials for the operators' tools (CONTRACT §4): Application Default Credentials in
 * google-auth-library's own order, checked before any command talks to Google:
 *
 * 1. `GOOGLE_APPLICATION_CREDENTIALS` (`~` expanded): a service-account key, an external account (workload
 *    identity federation), an impersonated service account — whatever google-auth loads from such a file;
 * 2. gcloud's user file (`$CLOUDSDK_CONFIG` or `~/.config/gcloud`/application_default_credentials.json),
 *    loaded by google-auth, so its `quota_project_id` is kept (sent as `x-goog-user-project`);
 * 3. the metadata server (`GCE_METADATA_HOST`, else 169.254.169.254): the attached service account of
 *    Cloud Build, Cloud Run, GCE and GKE workload identity.
 *
 * Files are read with google-auth's own ADC loader; 1 and 2 are looked up here from the command's
 * environment so the message can name them and `~` works. A token is fetched at once, so a command that
 * cannot authenticate stops with exit 2 and the list of sources tried, before any call.
 *
 * Note: gcp-metadata reads `GCE_METADATA_HOST` / `METADATA_SERVER_DETECTION` from `process.env` itself.
 *
 * @example
 * const credentials = await resolveCredentials(io, "stage");
 * credentials.source // "metadata server 127.0.0.1:4312 (service account deployer@p.iam.gserviceaccount.com)"
 * new JobsClient({ projectId, auth: credentials.auth });
 */
import { access } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { GoogleAuth } from "google-gax";
import { ConfigError } from "../runtime/errors.ts";
import type { Io } from "./io.ts";
import { retryTransient } from "./retry.ts";

/**
 * `~` and `~/…` against `home`; anything else unchanged (`~user` is not expanded: the shell did not either).
 *
 * @example
 * expandHome("~/creds.json", "/home/me") // "/home/me/creds.json"
 */
export const expandHome = (path: string, home = homedir()): string =>
  path === "~" ? home : path.startsWith("~/") ? join(home, path.slice(2)) : path;

const CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform";

export const CREDENTIALS_FIX =
  "run `gcloud auth application-default login` (a workstation), set GOOGLE_APPLICATION_CREDENTIALS to a key or workload identity federation file, or run where a service account is attached (Cloud Build, Cloud Run, GCE, GKE)";

export interface Credentials {
  /** What every Google client gets as `auth`. */
  auth: GoogleAuth;
  /** Where they came from, for messages: "gcloud user credentials /home/me/.config/gcloud/…". */
  source: string;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** gcloud's ADC file, as google-auth looks for it (CLOUDSDK_CONFIG first). */
export function wellKnownFile(env: Record<string, string | undefined>): string {
  const home = env.HOME ?? homedir();
  return join(env.CLOUDSDK_CONFIG ?? join(home, ".config", "gcloud"), "application_default_credentials.json");
}

/** The host gcp-metadata will ask (it reads process.env, see the module comment). */
export const metadataHost = (): string =>
  process.env.GCE_METADATA_IP || process.env.GCE_METADATA_HOST || "169.254.169.254";

/**
 * A credentials file loaded by google-auth's ADC loader, with the scope ADC gives it; a ConfigError naming
 * the file and the fix when google-auth cannot use it. No token is fetched here.
 *
 * @example
 * const { auth, source } = await loadCredentialsFile("/home/me/key.json", "stage");
 */
export async function loadCredentialsFile(
  file: string,
  where: string,
  label = "GOOGLE_APPLICATION_CREDENTIALS",
): Promise<Credentials> {
  const { GoogleAuth } = await import("google-gax").then((gax) => gax.googleAuthLibrary);
  const loader = new GoogleAuth({ scopes: [CLOUD_PLATFORM] });
  try {
    const client = await loader._getApplicationCredentialsFromFilePath(file);
    // As GoogleAuth.getApplicationDefault does for service-account keys and external accounts.
    if ("scopes" in client) (client as { scopes?: string[] }).scopes = [CLOUD_PLATFORM];
    const type = client.constructor.name;
    return {
      auth: new GoogleAuth({ authClient: client, scopes: [CLOUD_PLATFORM] }),
      source: `${label} ${file} (${type})`,
    };
  } catch (error) {
    throw new ConfigError(`no usable Google credentials for ${where}`, [
      `the Google credentials in ${file} (${label}) cannot be used: ${(error as Error).message}`,
      `fix: point GOOGLE_APPLICATION_CREDENTIALS at a valid file, or ${CREDENTIALS_FIX}`,
    ]);
  }
}

/** The attached service account, through google-auth's own detection (GoogleAuth._checkIsGCE). */
async function fromMetadata(): Promise<Credentials | null> {
  const { GoogleAuth, Compute } = await import("google-gax").then((gax) => gax.googleAuthLibrary);
  if (!(await new GoogleAuth()._checkIsGCE())) return null;
  const client = new Compute({ scopes: [CLOUD_PLATFORM] });
  const auth = new GoogleAuth({ authClient: client, scopes: [CLOUD_PLATFORM] });
  const email = await auth.getCredentials().then(
    (c) => c.client_email,
    () => undefined,
  );
  return {
    auth,
    source: `metadata server ${metadataHost()}${email ? ` (service account ${email})` : ""}`,
  };
}

/**
 * Application Default Credentials for `where` (an environment name), token checked. Throws a ConfigError
 * (exit 2) that lists the sources tried and the fix.
 */
export async function resolveCredentials(io: Io, where: string): Promise<Credentials> {
  const home = io.env.HOME ?? homedir();
  const configured = io.env.GOOGLE_APPLICATION_CREDENTIALS;
  const tried: string[] = [];
  let found: Credentials | null = null;
  if (configured) {
    const file = expandHome(configured, home);
    if (!(await exists(file)))
      throw new ConfigError(`no usable Google credentials for ${where}`, [
        `GOOGLE_APPLICATION_CREDENTIALS=${configured}: no file at ${file}; point it at a key file or unset it and run \`gcloud auth application-default login\``,
      ]);
    found = await loadCredentialsFile(file, where);
  } else {
    tried.push("GOOGLE_APPLICATION_CREDENTIALS: not set");
    const wellKnown = wellKnownFile(io.env);
    if (await exists(wellKnown))
      found = await loadCredentialsFile(wellKnown, where, "gcloud user credentials");
    else {
      tried.push(`gcloud user credentials: no file at ${wellKnown}`);
      found = await fromMetadata();
      if (!found) tried.push(`metadata server ${metadataHost()}: not reachable (not on Google Cloud)`);
    }
  }
  if (!found)
    throw new ConfigError(`no Google credentials for ${where}; tried, in order:`, [
      ...tried,
      `fix: ${CREDENTIALS_FIX}`,
    ]);
  const source = found.source;
  try {
    await retryTransient(`a token from ${source}`, () => found.auth.getAccessToken());
  } catch (error) {
    throw new ConfigError(`no usable Google credentials for ${where}`, [
      `${source}: could not get an access token: ${(error as Error).message}`,
      `fix: ${CREDENTIALS_FIX}`,
    ]);
  }
  return found;
}

/**
 * The problem with the credentials, with its fix, or null when they work.
 *
 * @example
 * await credentialsProblem({ ...io, env: { GOOGLE_APPLICATION_CREDENTIALS: "/nope.json" } }) // "…no file at /nope.json; …"
 */
export async function credentialsProblem(io: Io): Promise<string | null> {
  try {
    await resolveCredentials(io, "this command");
    return null;
  } catch (error) {
    return error instanceof ConfigError ? error.problems.join("; ") : (error as Error).message;
  }
}
