/**
 * Google credentials: every command that talks to Google checks them first (exit 2 with the variable, the
 * expanded path and the fix), and the clients use the checked, `~`-expanded file — never a stack trace.
 * Nothing here reaches Google: each case stops at the check or at reading the key file.
 */
import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCredentialsFile } from "../../src/ops/credentials.ts";
import { cli } from "./support.ts";

const root = join(import.meta.dirname, "..", "..");
let home: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "ops-credentials-"));
  // Valid JSON, but not a usable key: proves which file was read without any token request.
  await writeFile(join(home, "incomplete.json"), JSON.stringify({ type: "service_account" }));
  await writeFile(join(home, "empty.json"), "{}");
});
afterAll(() => rm(home, { recursive: true, force: true }));

const STACK_LINE = /^\s+at .+\(.+:\d+:\d+\)$/m;

const COMMANDS: [string, string[]][] = [
  ["create-all-jobs", ["create-all-jobs", "stage", "--plan"]],
  ["list-jobs", ["list-jobs", "stage"]],
  ["run-job", ["run-job", "stage", "quota-reset"]],
  ["release", ["release", "stage"]],
];

describe("the credentials check", () => {
  it.each(COMMANDS)("stops %s with exit 2 when the key file does not exist", async (_name, argv) => {
    const missing = join(home, "nope.json");
    const result = await cli(argv, { env: { HOME: home, GOOGLE_APPLICATION_CREDENTIALS: missing } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`GOOGLE_APPLICATION_CREDENTIALS=${missing}: no file at ${missing}`);
    expect(result.stderr).toContain("gcloud auth application-default login");
    expect(result.stderr).not.toMatch(STACK_LINE);
  });

  it.each(COMMANDS.slice(0, 2))(
    "gives %s's clients the key file with ~ expanded against HOME",
    async (_name, argv) => {
      const result = await cli(argv, {
        env: { HOME: home, GOOGLE_APPLICATION_CREDENTIALS: "~/incomplete.json" },
      });
      expect(result.code).toBe(2);
      // The error comes from reading the file's content: the clients found it at the expanded path.
      expect(result.stderr).toContain(`the Google credentials in ${join(home, "incomplete.json")}`);
      expect(result.stderr).toContain("client_email");
      expect(result.stderr).not.toContain("/~");
    },
  );

  it("checks credentials for stage even when an endpoint override points it at an emulator", async () => {
    // No key file, no gcloud file, no metadata server: the sources tried are listed with the fix.
    const result = await cli(["list-jobs", "stage"], {
      env: { HOME: home, CLOUD_RUN_API_URL: "http://127.0.0.1:1" },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("no Google credentials for stage; tried, in order:");
    expect(result.stderr).toContain("GOOGLE_APPLICATION_CREDENTIALS: not set");
    expect(result.stderr).toContain(
      `gcloud user credentials: no file at ${join(home, ".config", "gcloud", "application_default_credentials.json")}`,
    );
    expect(result.stderr).toMatch(/metadata server \S+: not reachable/);
    expect(result.stderr).toContain("gcloud auth application-default login");
    expect(result.stderr).not.toMatch(STACK_LINE);
  });
});

describe("the scripts", () => {
  it("end a bad ~ key file with one error line and exit 2, not a stack trace", async () => {
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(join(root, "scripts", "create-all-jobs.sh"), ["stage", "--plan"], {
        env: { PATH: process.env.PATH ?? "", HOME: home, GOOGLE_APPLICATION_CREDENTIALS: "~/empty.json" },
        cwd: root,
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (chunk) => (stderr += chunk));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, stderr }));
    });
    expect(result.stderr).not.toMatch(STACK_LINE);
    expect(result.stderr).toContain(`the Google credentials in ${join(home, "empty.json")}`);
    expect(result.stderr).toMatch(/^error: /);
    expect(result.code).toBe(2);
  });
});

describe("gcloud's user credentials file", () => {
  it("is used when GOOGLE_APPLICATION_CREDENTIALS is unset, and keeps its quota_project_id", async () => {
    const config = join(home, "gcloud-config");
    await mkdir(config, { recursive: true });
    await writeFile(
      join(config, "application_default_credentials.json"),
      JSON.stringify({
        type: "authorized_user",
        client_id: "id.apps.googleusercontent.com",
        client_secret: "s",
        refresh_token: "r",
        quota_project_id: "billing-project",
      }),
    );
    // The refresh needs Google (no network here): the check stops there, after loading the file.
    const result = await cli(["list-jobs", "stage"], { env: { HOME: home, CLOUDSDK_CONFIG: config } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `gcloud user credentials ${join(config, "application_default_credentials.json")}`,
    );
    expect(result.stderr).toContain("could not get an access token");

    const { auth } = await loadCredentialsFile(join(config, "application_default_credentials.json"), "stage");
    const client = await auth.getClient();
    // A token in hand (as after a refresh): every request then names the quota project.
    client.credentials = { access_token: "token", expiry_date: Date.now() + 3_600_000 };
    const headers = await client.getRequestHeaders();
    expect(headers.get("x-goog-user-project")).toBe("billing-project");
    expect(headers.get("authorization")).toBe("Bearer token");
  });
});

describe("a key file named by GOOGLE_APPLICATION_CREDENTIALS", () => {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
  it.each<[string, Record<string, unknown>, string]>([
    [
      "a service-account key",
      {
        type: "service_account",
        client_email: "jobs@p.iam.gserviceaccount.com",
        private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      },
      "JWT",
    ],
    [
      "an external account (workload identity federation)",
      {
        type: "external_account",
        audience: "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/gh",
        subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
        token_url: "https://sts.googleapis.com/v1/token",
        credential_source: { file: "/var/run/token" },
      },
      "IdentityPoolClient",
    ],
    [
      "an impersonated service account",
      {
        type: "impersonated_service_account",
        service_account_impersonation_url:
          "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/deployer@p.iam.gserviceaccount.com:generateAccessToken",
        source_credentials: {
          type: "authorized_user",
          client_id: "i",
          client_secret: "s",
          refresh_token: "r",
        },
      },
      "Impersonated",
    ],
  ])("loads %s through google-auth's own loader", async (_what, key, type) => {
    const file = join(home, `${key.type}.json`);
    await writeFile(file, JSON.stringify(key));
    const credentials = await loadCredentialsFile(file, "stage");
    expect(credentials.source).toBe(`GOOGLE_APPLICATION_CREDENTIALS ${file} (${type})`);
    expect((await credentials.auth.getClient()).constructor.name).toBe(type);
  });

  it.each([
    ["not JSON", "{"],
    ["of an unknown type", JSON.stringify({ type: "api_key" })],
  ])("refuses a file that is %s with the fix", async (_what, content) => {
    const file = join(home, "bad.json");
    await writeFile(file, content);
    const error = loadCredentialsFile(file, "stage");
    await expect(error).rejects.toThrow(`the Google credentials in ${file}`);
    await expect(error).rejects.toThrow("GOOGLE_APPLICATION_CREDENTIALS");
  });
});
