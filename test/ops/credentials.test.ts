/**
 * Google credentials: every command that talks to Google checks them first (exit 2 with the variable, the
 * expanded path and the fix), and the clients use the checked, `~`-expanded file — never a stack trace.
 * Nothing here reaches Google: each case stops at the check or at reading the key file.
 */
import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { googleAuth } from "../../src/ops/credentials.ts";
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
      expect(result.stderr).toContain('no "client_email"');
      expect(result.stderr).not.toContain("/~");
    },
  );

  it("does not check credentials for an emulator endpoint", async () => {
    // A closed port: the command gets past the check and fails on the connection instead (exit 1).
    const result = await cli(["list-jobs", "stage"], {
      env: {
        HOME: home,
        GOOGLE_APPLICATION_CREDENTIALS: join(home, "nope.json"),
        CLOUD_RUN_API_URL: "http://127.0.0.1:1",
      },
    });
    expect(result.stderr).not.toContain("no file at");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: /m);
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

describe("googleAuth", () => {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
  it.each<[string, Record<string, string>, Record<string, unknown>]>([
    [
      "a service-account key",
      {
        type: "service_account",
        client_email: "jobs@p.iam.gserviceaccount.com",
        private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      },
      { email: "jobs@p.iam.gserviceaccount.com" },
    ],
    [
      "gcloud's user credentials",
      { type: "authorized_user", client_id: "id", client_secret: "s", refresh_token: "r" },
      { _clientId: "id" },
    ],
  ])("builds the client for %s from the file's content", async (_what, key, expected) => {
    const file = join(home, `${key.type}.json`);
    await writeFile(file, JSON.stringify(key));
    const client = await (await googleAuth(file)).getClient();
    expect(client).toMatchObject(expected);
  });

  it.each([
    ["not JSON", "{", "cannot read the Google credentials in"],
    ["of an unknown type", JSON.stringify({ type: "api_key" }), 'have type "api_key"'],
  ])("refuses a file that is %s with the fix", async (_what, content, message) => {
    const file = join(home, "bad.json");
    await writeFile(file, content);
    await expect(googleAuth(file)).rejects.toThrow(message);
    await expect(googleAuth(file)).rejects.toThrow("GOOGLE_APPLICATION_CREDENTIALS");
  });
});
