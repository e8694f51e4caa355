/**
 * The GCE metadata server, as Cloud Build, Cloud Run, GCE and GKE workload identity serve it to a process
 * with an attached service account: the only credentials source there (CONTRACT §4). google-auth-library
 * and gcp-metadata reach it at `GCE_METADATA_HOST` (`127.0.0.1:<port>` here instead of 169.254.169.254).
 *
 * Like Google's: every request must carry `Metadata-Flavor: Google` (403 otherwise) and none may carry
 * `X-Forwarded-For`; every answer carries `Metadata-Flavor: Google` (gcp-metadata refuses one without it).
 * Served: the `instance` directory (the client's presence probe), `project/project-id`,
 * `project/numeric-project-id`, `instance/service-accounts/default/{email,token,scopes}`, `universe/universe-domain`.
 *
 * Tokens are opaque `ya29.sandbox-…` strings that expire like real ones; the Google emulators check any
 * such token they receive against {@link MetadataServer.isIssued} (see `guard`), so a tool that sends one
 * proves its credentials came from here.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type Handler, listen } from "../service.ts";

export interface MetadataOptions {
  project: string;
  numericProject?: string;
  /** The attached service account's email; null: no account attached (a token request answers 404). */
  serviceAccount?: string | null;
  /** Lifetime of an issued token (Google: ~1 h). */
  tokenTtlSeconds?: number;
}

export interface MetadataServer {
  url: string;
  /** What GCE_METADATA_HOST must be set to: `127.0.0.1:<port>`. */
  host: string;
  /** Requests answered, by path (tests: "did the tool ask here?"). */
  requests: string[];
  /** Tokens issued so far. */
  issued(): number;
  /** True when `token` was issued here and has not expired. */
  isIssued(token: string): boolean;
  /**
   * Wraps a Google emulator's handler: a request whose bearer token looks like ours (`ya29.sandbox-`) but
   * was not issued here, or expired, is answered 401 as Google answers a bad token. Requests with no
   * Authorization header pass (the sandbox's own pass-through clients send none).
   */
  guard(name: string, handler: Handler): Handler;
  /** Requests that carried a token issued here, per emulator `name` given to `guard`. */
  authorized: Map<string, number>;
  close(): Promise<void>;
}

export const TOKEN_PREFIX = "ya29.sandbox-";
const BASE = "/computeMetadata/v1";

function answer(res: ServerResponse, status: number, body: string, type = "application/text"): void {
  res.writeHead(status, {
    "metadata-flavor": "Google",
    "content-type": type,
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * @example
 * const metadata = await startMetadataServer({ project: "p", serviceAccount: "deployer@p.iam.gserviceaccount.com" });
 * process.env.GCE_METADATA_HOST = metadata.host;
 */
export async function startMetadataServer(opts: MetadataOptions): Promise<MetadataServer> {
  const account =
    opts.serviceAccount === undefined
      ? `deployer@${opts.project}.iam.gserviceaccount.com`
      : opts.serviceAccount;
  const ttl = opts.tokenTtlSeconds ?? 3599;
  const tokens = new Map<string, number>();
  const requests: string[] = [];
  const authorized = new Map<string, number>();

  const values: Record<string, () => string | null> = {
    "project/project-id": () => opts.project,
    "project/numeric-project-id": () => opts.numericProject ?? "123456789012",
    "universe/universe-domain": () => "googleapis.com",
    instance: () => "attributes/\nhostname\nid\nservice-accounts/\nzone\n",
    "instance/service-accounts": () => (account ? `default/\n${account}/\n` : ""),
    "instance/service-accounts/default/email": () => account,
    "instance/service-accounts/default/scopes": () =>
      account ? "https://www.googleapis.com/auth/cloud-platform\n" : null,
  };

  type Answer = [status: number, body: string, type?: string];
  const route = (req: IncomingMessage): Answer => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    requests.push(url.pathname);
    if (req.headers["x-forwarded-for"])
      return [403, "Request had X-Forwarded-For: the metadata server refuses proxied requests\n"];
    if (req.headers["metadata-flavor"] !== "Google")
      return [403, 'Missing required header "Metadata-Flavor": "Google"\n'];
    if (url.pathname === "/" || url.pathname === `${BASE}/` || url.pathname === BASE)
      return [200, "instance/\nproject/\nuniverse/\n"];
    if (!url.pathname.startsWith(`${BASE}/`)) return [404, "Not Found\n"];
    const key = url.pathname.slice(BASE.length + 1).replace(/\/$/, "");
    if (
      key === "instance/service-accounts/default/token" ||
      key === `instance/service-accounts/${account}/token`
    ) {
      if (!account) return [404, "No service account is attached to this instance\n"];
      const token = `${TOKEN_PREFIX}${randomBytes(12).toString("base64url")}`;
      tokens.set(token, Date.now() + ttl * 1000);
      const body = JSON.stringify({ access_token: token, expires_in: ttl, token_type: "Bearer" });
      return [200, body, "application/json"];
    }
    const value = values[key]?.();
    return value === undefined || value === null ? [404, "Not Found\n"] : [200, value];
  };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const [status, body, type] = route(req);
    answer(res, status, body, type);
  };

  const service = await listen(handler);
  const isIssued = (token: string) => (tokens.get(token) ?? 0) > Date.now();
  return {
    url: service.url,
    host: `127.0.0.1:${service.port}`,
    requests,
    issued: () => tokens.size,
    isIssued,
    authorized,
    guard: (name, inner) => (req, res) => {
      const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
      if (bearer?.startsWith(TOKEN_PREFIX)) {
        if (!isIssued(bearer)) {
          const message =
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.";
          res.writeHead(401, { "content-type": "application/json", "www-authenticate": "Bearer" });
          res.end(JSON.stringify({ error: { code: 401, message, status: "UNAUTHENTICATED" } }));
          return;
        }
        authorized.set(name, (authorized.get(name) ?? 0) + 1);
      }
      return inner(req, res);
    },
    close: () => service.close(),
  };
}
