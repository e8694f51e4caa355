/** The Secret Manager v1 emulator through the real `@google-cloud/secret-manager` REST client. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../../sandbox/index.ts";
import { crc32c } from "../../../sandbox/secret-manager/crc32c.ts";
import { secretClient } from "./helpers.ts";

let sandbox: Sandbox;
let client: ReturnType<typeof secretClient>;
const project = "projects/sandbox-project";

beforeAll(async () => {
  sandbox = await startSandbox({ data: false, quiet: true, scheduler: { autoTick: false } });
  client = secretClient(sandbox.urls.secretManager);
});
afterAll(async () => {
  await client.close();
  await sandbox.stop();
});

describe("Secret Manager", () => {
  it.each([
    ["ca-root-api-key-sandbox", "CA_ROOT_API_KEY"],
    ["supabase-access-token-sandbox", "SUPABASE_ACCESS_TOKEN"],
  ])("is seeded with %s holding the sandbox's %s", async (secret, envKey) => {
    const [version] = await client.accessSecretVersion({
      name: `${project}/secrets/${secret}/versions/latest`,
    });
    expect(version.payload?.data?.toString()).toBe(sandbox.env[envKey]);
  });

  it("computes crc32c like Google (the standard check value of '123456789')", () => {
    expect(crc32c(Buffer.from("123456789"))).toBe(0xe3069283);
  });

  it("returns dataCrc32c as a decimal string matching the payload", async () => {
    const res = await fetch(
      `${sandbox.urls.secretManager}/v1/${project}/secrets/ca-root-api-key-sandbox/versions/latest:access`,
    );
    const body = await res.json();
    expect(body.payload.dataCrc32c).toBe(String(crc32c(Buffer.from(body.payload.data, "base64"))));
  });

  it("creates a secret, adds versions, and accesses latest or a number", async () => {
    const [secret] = await client.createSecret({
      parent: project,
      secretId: "app-key",
      secret: { replication: { automatic: {} } },
    });
    expect(secret.name).toBe(`${project}/secrets/app-key`);
    await client.addSecretVersion({ parent: secret.name as string, payload: { data: Buffer.from("one") } });
    const [v2] = await client.addSecretVersion({
      parent: secret.name as string,
      payload: { data: Buffer.from("two") },
    });
    expect(v2.name).toBe(`${project}/secrets/app-key/versions/2`);
    const [latest] = await client.accessSecretVersion({ name: `${secret.name}/versions/latest` });
    const [first] = await client.accessSecretVersion({ name: `${secret.name}/versions/1` });
    expect([latest.payload?.data?.toString(), first.payload?.data?.toString()]).toEqual(["two", "one"]);
  });

  it("gets a secret so operators can check it exists", async () => {
    const [secret] = await client.getSecret({ name: `${project}/secrets/ca-root-api-key-sandbox` });
    expect(secret.name).toBe(`${project}/secrets/ca-root-api-key-sandbox`);
  });

  it.each([
    ["a missing secret", `${project}/secrets/nope/versions/latest`, 5],
    ["a missing version", `${project}/secrets/ca-root-api-key-sandbox/versions/99`, 5],
  ])("answers NOT_FOUND for %s", async (_what, name, code) => {
    await expect(client.accessSecretVersion({ name })).rejects.toMatchObject({ code });
  });

  it("refuses to create a secret twice (409 ALREADY_EXISTS)", async () => {
    await expect(
      client.createSecret({ parent: project, secretId: "app-key", secret: {} }),
    ).rejects.toMatchObject({ code: 6 });
  });
});
