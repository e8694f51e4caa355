/**
 * Secrets and their versions, shared in-process with the Cloud Run emulator (which resolves
 * `valueSource.secretKeyRef` into task env exactly as Cloud Run does at task start).
 */
import { Collection } from "../http/store.ts";

export interface StoredVersion {
  name: string;
  createTime: string;
  state: "ENABLED" | "DISABLED" | "DESTROYED";
  /** base64 payload, never logged. */
  data: string;
}
export interface StoredSecret {
  name: string;
  createTime: string;
  labels: Record<string, string>;
  replication: unknown;
  etag: string;
  versions: StoredVersion[];
}

/**
 * @example const secrets = new SecretStore("sandbox-project"); secrets.put("ca-root-api-key-sandbox", "k");
 *          secrets.access("ca-root-api-key-sandbox", "latest") // "k"
 */
export class SecretStore {
  readonly project: string;
  readonly #secrets: Collection<StoredSecret>;

  constructor(project: string, dataDir?: string) {
    this.project = project;
    this.#secrets = new Collection<StoredSecret>("secrets", dataDir);
  }

  /** Accepts a bare secret id or `projects/{p}/secrets/{id}` (what a secretKeyRef may hold). */
  fullName(secret: string, project = this.project): string {
    return secret.startsWith("projects/") ? secret : `projects/${project}/secrets/${secret}`;
  }

  get(name: string): StoredSecret | undefined {
    return this.#secrets.get(name);
  }

  create(name: string, fields: { labels?: Record<string, string>; replication?: unknown }): StoredSecret {
    const secret: StoredSecret = {
      name,
      createTime: new Date().toISOString(),
      labels: fields.labels ?? {},
      replication: fields.replication ?? { automatic: {} },
      etag: `"${Date.now().toString(16)}"`,
      versions: [],
    };
    return this.#secrets.set(name, secret);
  }

  addVersion(name: string, dataBase64: string): StoredVersion {
    const secret = this.#secrets.get(name);
    if (!secret) throw new Error(`secret ${name} does not exist`);
    const version: StoredVersion = {
      name: `${name}/versions/${secret.versions.length + 1}`,
      createTime: new Date().toISOString(),
      state: "ENABLED",
      data: dataBase64,
    };
    secret.versions.push(version);
    this.#secrets.save();
    return version;
  }

  /** Creates the secret if needed and adds a version holding `value` (seeding). */
  put(secretId: string, value: string): void {
    const name = this.fullName(secretId);
    if (!this.get(name)) this.create(name, { labels: { sandbox: "seeded" } });
    const latest = this.get(name)?.versions.at(-1);
    if (latest && Buffer.from(latest.data, "base64").toString("utf8") === value) return;
    this.addVersion(name, Buffer.from(value).toString("base64"));
  }

  /** The version named by `version` ("latest" = newest enabled), or undefined. */
  version(name: string, version: string): StoredVersion | undefined {
    const secret = this.get(name);
    if (!secret) return undefined;
    if (version === "latest") return secret.versions.filter((v) => v.state === "ENABLED").at(-1);
    return secret.versions.find((v) => v.name === `${name}/versions/${version}`);
  }

  /** The plaintext of a secret version, or undefined when the secret or version does not exist. */
  access(secret: string, version = "latest"): string | undefined {
    const found = this.version(this.fullName(secret), version);
    return found?.state === "ENABLED" ? Buffer.from(found.data, "base64").toString("utf8") : undefined;
  }
}
