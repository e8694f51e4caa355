import { describe, expect, it } from "vitest";
import { z } from "zod";
import { CONFIG_KEYS, configReferenceMarkdown, loadConfig } from "../../src/runtime/config.ts";
import { ConfigError } from "../../src/runtime/errors.ts";
import type { Dependency } from "../../src/runtime/job.ts";
import { fakeJob } from "./helpers/jobs.ts";

const job = (uses: Dependency[], env?: z.ZodObject) => fakeJob({ name: "some-job", uses, env: env ?? null });

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("reports every missing or bad key in one error", () => {
    const env = {
      ENVIRONMENT: "qa",
      LOG_LEVEL: "loud",
      CLOUD_RUN_TASK_COUNT: "0",
      CLOUD_RUN_TASK_ATTEMPT: "x",
      SUPABASE_API_URL: "ftp://example.com",
    };
    const found = problems(() => loadConfig(job(["admin-api", "supabase"]), env));
    const keys = found.map((p) => p.split(":")[0]);
    expect(keys.sort()).toEqual(
      [
        "ENVIRONMENT",
        "LOG_LEVEL",
        "CLOUD_RUN_TASK_COUNT",
        "CLOUD_RUN_TASK_ATTEMPT",
        "SUPABASE_API_URL",
        "CA_ROOT_API_KEY",
        "SUPABASE_ACCESS_TOKEN",
      ].sort(),
    );
    expect(found.find((p) => p.startsWith("ENVIRONMENT"))).toContain("test, stage, prod, sandbox");
    expect(found.find((p) => p.startsWith("CA_ROOT_API_KEY"))).toContain('job "some-job"');
  });

  it("requires only what the chosen job uses", () => {
    const env = { ENVIRONMENT: "prod" };
    expect(loadConfig(job([]), env).config.api).toBeNull();
    const bq = loadConfig(job(["bigquery"]), env).config;
    expect(bq.bigquery).toEqual({ projectId: "cloudact-prod", apiUrl: null });
    expect(problems(() => loadConfig(job(["admin-api"]), env))).toEqual([
      expect.stringMatching(/^CA_ROOT_API_KEY: required by job "some-job" \(it uses admin-api\)/),
    ]);
    expect(problems(() => loadConfig(job(["supabase"]), env))).toEqual([
      expect.stringMatching(/^SUPABASE_ACCESS_TOKEN: required/),
    ]);
  });

  it("takes the API URL from the environments table, and API_SERVICE_URL wins", () => {
    const base = { ENVIRONMENT: "production", CA_ROOT_API_KEY: "k-123456" };
    expect(loadConfig(job(["admin-api"]), base).config.api).toEqual({
      url: "https://api.cloudact.ai",
      key: "k-123456",
    });
    const overridden = loadConfig(job(["admin-api"]), {
      ...base,
      API_SERVICE_URL: "https://api.example.com/",
    });
    expect(overridden.config.api?.url).toBe("https://api.example.com");
  });

  it("asks for API_SERVICE_URL when the table has none for the environment", () => {
    const found = problems(() =>
      loadConfig(job(["admin-api"]), { ENVIRONMENT: "stage", CA_ROOT_API_KEY: "k-123456" }),
    );
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^API_SERVICE_URL: .*no API URL for "stage".*set API_SERVICE_URL/);
  });

  it.each([
    ["prod", "http://api.example.com", true],
    ["test", "http://10.0.0.8:8000", true],
    ["test", "http://127.0.0.1:8000", false],
    ["test", "http://localhost:8000", false],
    ["sandbox", "http://sandbox-api:8000", false],
    ["prod", "https://api.example.com", false],
  ])("ENVIRONMENT=%s with API_SERVICE_URL=%s refused: %s", (environment, url, refused) => {
    const env = { ENVIRONMENT: environment, API_SERVICE_URL: url, CA_ROOT_API_KEY: "k-123456" };
    if (refused)
      expect(problems(() => loadConfig(job(["admin-api"]), env))[0]).toMatch(
        /^API_SERVICE_URL: .*plain http/,
      );
    else expect(loadConfig(job(["admin-api"]), env).config.api?.url).toBe(url);
  });

  it.each(["SUPABASE_API_URL", "BIGQUERY_API_URL", "CLOUD_RUN_API_URL"])(
    "refuses plain http for %s outside the sandbox",
    (key) => {
      const env = { ENVIRONMENT: "stage", SUPABASE_ACCESS_TOKEN: "t-123456", [key]: "http://example.com" };
      expect(problems(() => loadConfig(job(["supabase", "bigquery"]), env))).toEqual([
        expect.stringMatching(new RegExp(`^${key}: `)),
      ]);
    },
  );

  it.each([
    ["testing", "test", "testing"],
    ["staging", "stage", "staging"],
    ["production", "prod", "production"],
    ["sandbox", "sandbox", "sandbox"],
    ["test", "test", "testing"],
  ])("accepts ENVIRONMENT=%s as %s", (value, name, label) => {
    const { config } = loadConfig(job([]), { ENVIRONMENT: value });
    expect([config.environment, config.environmentLabel]).toEqual([name, label]);
  });

  it("refuses a control character or surrounding spaces in any key it reads, naming the key, never the value", () => {
    const withDays = job(["admin-api"], z.object({ DAYS_TO_KEEP: z.string().optional() }));
    const base = { ENVIRONMENT: "prod", CA_ROOT_API_KEY: "root-key-123" };
    const cases: [string, string][] = [
      ["CA_ROOT_API_KEY", "root-key-123\n"],
      ["CA_ROOT_API_KEY", "root\tkey"],
      ["ENVIRONMENT", " prod"],
      ["CLOUD_RUN_TASK_INDEX", "0\r"],
      ["DAYS_TO_KEEP", " 30"],
      ["HTTP_TIMEOUT_MS", "2000 "],
      ["API_SERVICE_URL", "http://127.0.0.1:1\u0000"],
    ];
    for (const [key, value] of cases) {
      const found = problems(() => loadConfig(withDays, { ...base, [key]: value }));
      expect(found, `${key}=${JSON.stringify(value)}`).toEqual([
        expect.stringMatching(new RegExp(`^${key}: .*remove it`)),
      ]);
      if (value.trim().length > 4) expect(found[0]).not.toContain(value.trim());
    }
  });

  it("caps HTTP timeouts only when HTTP_TIMEOUT_MS is set", () => {
    expect(loadConfig(job([]), { ENVIRONMENT: "test" }).config.httpTimeoutMs).toBeNull();
    expect(loadConfig(job([]), { ENVIRONMENT: "test", HTTP_TIMEOUT_MS: "1500" }).config.httpTimeoutMs).toBe(
      1500,
    );
    expect(problems(() => loadConfig(job([]), { ENVIRONMENT: "test", HTTP_TIMEOUT_MS: "5" }))[0]).toMatch(
      /^HTTP_TIMEOUT_MS: must be a whole number from 100/,
    );
  });

  it("refuses ENVIRONMENT=local and points to the sandbox", () => {
    expect(problems(() => loadConfig(job([]), { ENVIRONMENT: "local" }))[0]).toMatch(/npm run sandbox/);
  });

  it("spells out the defaults", () => {
    const { config } = loadConfig(job(["supabase"]), {
      ENVIRONMENT: "stage",
      SUPABASE_ACCESS_TOKEN: "tok-123456",
      LOG_LEVEL: "",
    });
    expect(config).toEqual({
      environment: "stage",
      environmentLabel: "staging",
      project: "cloudact-testing-1",
      region: "us-central1",
      logLevel: "info",
      release: { version: "dev", commit: "dev" },
      idempotencyScope: null,
      cloudRun: { job: null, execution: null, taskIndex: 0, taskCount: 1, taskAttempt: 0, apiUrl: null },
      httpTimeoutMs: null,
      api: null,
      supabase: { url: "https://api.supabase.com", token: "tok-123456", projectRef: "kwroaccbrxppfiysqlzs" },
      bigquery: null,
      secrets: ["tok-123456"],
    });
  });

  it("reads the Cloud Run container contract", () => {
    const { config } = loadConfig(job([]), {
      ENVIRONMENT: "test",
      CLOUD_RUN_JOB: "quota-reset-test",
      CLOUD_RUN_EXECUTION: "quota-reset-test-abc12",
      CLOUD_RUN_TASK_INDEX: "3",
      CLOUD_RUN_TASK_COUNT: "4",
      CLOUD_RUN_TASK_ATTEMPT: "1",
      CLOUD_RUN_REGION: "europe-west1",
      RELEASE_VERSION: "1.4.0",
      GIT_COMMIT: "abc1234",
    });
    expect(config.cloudRun).toMatchObject({
      job: "quota-reset-test",
      execution: "quota-reset-test-abc12",
      taskIndex: 3,
      taskCount: 4,
      taskAttempt: 1,
    });
    expect([config.region, config.release]).toEqual([
      "europe-west1",
      { version: "1.4.0", commit: "abc1234" },
    ]);
  });

  it("refuses a task index outside the task count", () => {
    const env = { ENVIRONMENT: "test", CLOUD_RUN_TASK_INDEX: "4", CLOUD_RUN_TASK_COUNT: "4" };
    expect(problems(() => loadConfig(job([]), env))).toEqual([
      expect.stringMatching(/^CLOUD_RUN_TASK_INDEX: must be below/),
    ]);
  });

  it("parses the job's own keys in the same pass and reports them with the rest", () => {
    const days = z
      .string()
      .optional()
      .transform((raw, ctx) => {
        const n = Number(raw ?? "90");
        if (Number.isInteger(n) && n >= 1) return n;
        ctx.addIssue({ code: "custom", message: "must be a whole number ≥ 1" });
        return z.NEVER;
      });
    const withEnv = job(["bigquery"], z.object({ DAYS_TO_KEEP: days }));
    expect(loadConfig(withEnv, { ENVIRONMENT: "test", DAYS_TO_KEEP: "30" }).jobEnv).toEqual({
      DAYS_TO_KEEP: 30,
    });
    expect(loadConfig(withEnv, { ENVIRONMENT: "test" }).jobEnv).toEqual({ DAYS_TO_KEEP: 90 });
    const found = problems(() => loadConfig(withEnv, { DAYS_TO_KEEP: "0" }));
    expect(found.map((p) => p.split(":")[0]).sort()).toEqual(["DAYS_TO_KEEP", "ENVIRONMENT"]);
  });

  it("never echoes a secret value in a problem", () => {
    const secret = " padded-secret-value ";
    const error = (() => {
      try {
        loadConfig(job(["admin-api"]), { ENVIRONMENT: "prod", CA_ROOT_API_KEY: secret });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error?.problems).toEqual([
      expect.stringMatching(/^CA_ROOT_API_KEY: has leading or trailing whitespace/),
    ]);
    expect(error?.message).not.toContain("padded-secret-value");
  });

  it("describes every key it reads, with requirement and default", () => {
    const names = CONFIG_KEYS.map((k) => k.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of [
      "ENVIRONMENT",
      "API_SERVICE_URL",
      "CA_ROOT_API_KEY",
      "SUPABASE_ACCESS_TOKEN",
      "BIGQUERY_API_URL",
      "CLOUD_RUN_TASK_INDEX",
      "LOG_LEVEL",
    ]) {
      expect(names).toContain(name);
    }
    expect(CONFIG_KEYS.find((k) => k.name === "CA_ROOT_API_KEY")).toMatchObject({
      requiredWhen: "admin-api",
      secret: true,
    });
    expect(CONFIG_KEYS.every((k) => k.description.length > 10)).toBe(true);
  });
});

describe("configuration reference", () => {
  it("renders one Markdown row per key, marking secrets", () => {
    const table = configReferenceMarkdown().trim().split("\n");
    expect(table).toHaveLength(CONFIG_KEYS.length + 2);
    expect(table.find((row) => row.startsWith("| `CA_ROOT_API_KEY`"))).toBe(
      "| `CA_ROOT_API_KEY` | jobs using admin-api | — | Admin API root key, sent as X-CA-Root-Key to the API origin only. Secret: never logged. |",
    );
    expect(table.find((row) => row.startsWith("| `ENVIRONMENT`"))).toMatch(
      /^\| `ENVIRONMENT` \| always \| — \| test \\\| stage \\\| prod/,
    );
  });
});
