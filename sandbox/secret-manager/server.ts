/**
 * Secret Manager v1 emulator: the REST paths `@google-cloud/secret-manager` v7 sends with
 * `fallback: true` — access a version, get a secret, create a secret, add a version, get a version.
 */
import { ApiError, invalid, notFound } from "../http/errors.ts";
import { type HttpService, type NodeHandler, type Request, Router, startHttpServer } from "../http/server.ts";
import { encodeEnums, wantsIntEnums } from "../http/wire.ts";
import { crc32c } from "./crc32c.ts";
import { SecretStore, type StoredSecret, type StoredVersion } from "./store.ts";

const STATES = { state: { STATE_UNSPECIFIED: 0, ENABLED: 1, DISABLED: 2, DESTROYED: 3 } };
const SECRET = "(?<secret>projects/[^/]+/secrets/[^/:]+)";

const secretJson = ({ versions: _versions, ...secret }: StoredSecret) => secret;
const versionJson = ({ data: _data, ...version }: StoredVersion, req: Request) =>
  encodeEnums(version, STATES, wantsIntEnums(req.query));

function mustGet(store: SecretStore, name: string): StoredSecret {
  const secret = store.get(name);
  if (!secret)
    throw notFound(`Secret [${name}] not found or has no versions; create it (or check the project id)`);
  return secret;
}

function access(store: SecretStore, req: Request) {
  const name = req.params.secret as string;
  mustGet(store, name);
  const version = store.version(name, req.params.version as string);
  if (!version) throw notFound(`Secret Version [${name}/versions/${req.params.version}] not found`);
  if (version.state !== "ENABLED")
    throw new ApiError(
      "FAILED_PRECONDITION",
      `Secret Version [${version.name}] is in ${version.state} state`,
    );
  const data = Buffer.from(version.data, "base64");
  return { name: version.name, payload: { data: version.data, dataCrc32c: String(crc32c(data)) } };
}

function create(store: SecretStore, req: Request) {
  const secretId = req.query.get("secretId") ?? "";
  if (!/^[\w-]{1,255}$/.test(secretId))
    throw invalid(`secretId ${JSON.stringify(secretId)} must be 1-255 letters, digits, '-' or '_'`);
  const name = `${req.params.parent}/secrets/${secretId}`;
  if (store.get(name)) throw new ApiError("ALREADY_EXISTS", `Secret [${name}] already exists`);
  const body = req.body as { labels?: Record<string, string>; replication?: unknown };
  return secretJson(store.create(name, body));
}

function addVersion(store: SecretStore, req: Request) {
  const name = req.params.secret as string;
  mustGet(store, name);
  const data = (req.body as { payload?: { data?: string } }).payload?.data;
  if (typeof data !== "string") throw invalid("payload.data is required (base64) to add a secret version");
  return versionJson(store.addVersion(name, data), req);
}

/**
 * Starts the emulator on a loopback port.
 * @example const { service, store } = await startSecretManager({ project: "sandbox-project", seed: { k: "v" } });
 */
export async function startSecretManager(opts: {
  project: string;
  dataDir?: string;
  seed?: Record<string, string>;
  /** Wraps the HTTP handler (fault injection). */
  wrap?: (handler: NodeHandler) => NodeHandler;
}): Promise<{ service: HttpService; store: SecretStore }> {
  const store = new SecretStore(opts.project, opts.dataDir);
  for (const [id, value] of Object.entries(opts.seed ?? {})) store.put(id, value);
  const router = new Router()
    .add("GET", new RegExp(`^/v1/${SECRET}/versions/(?<version>[^/:]+):access$`), (req) => access(store, req))
    .add("GET", new RegExp(`^/v1/${SECRET}/versions/(?<version>[^/:]+)$`), (req) => {
      const version = store.version(req.params.secret as string, req.params.version as string);
      if (!version)
        throw notFound(`Secret Version [${req.params.secret}/versions/${req.params.version}] not found`);
      return versionJson(version, req);
    })
    .add("GET", new RegExp(`^/v1/${SECRET}$`), (req) =>
      secretJson(mustGet(store, req.params.secret as string)),
    )
    .add("POST", /^\/v1\/(?<parent>projects\/[^/]+)\/secrets$/, (req) => create(store, req))
    .add("POST", new RegExp(`^/v1/${SECRET}:addVersion$`), (req) => addVersion(store, req));
  return {
    service: await startHttpServer(router, "secret-manager", opts.wrap ? { wrap: opts.wrap } : {}),
    store,
  };
}
