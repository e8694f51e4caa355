/**
 * Where a job's API_SERVICE_URL comes from outside the sandbox: --api-url, else the environments table, else
 * what is deployed; never the operator's shell. And the plan shows what a create deploys.
 */
import { describe, expect, it } from "vitest";
import { catalog } from "../../jobs/index.ts";
import { resolveApiUrl } from "../../src/ops/api-url.ts";
import { desiredState, type RunJob } from "../../src/ops/desired.ts";
import { buildPlan, count, formatPlan } from "../../src/ops/plan.ts";
import type { Target } from "../../src/ops/target.ts";
import { ENVIRONMENTS, type EnvironmentName } from "../../src/runtime/environments.ts";
import { catalogCounts } from "../helpers/catalog-counts.ts";

const targetOf = (name: EnvironmentName): Target => ({
  env: ENVIRONMENTS[name],
  endpoints:
    name === "sandbox"
      ? {
          cloudRun: "http://127.0.0.1:1",
          scheduler: "http://127.0.0.1:1",
          secretManager: "http://127.0.0.1:1",
          env: { API_SERVICE_URL: "http://127.0.0.1:4" },
        }
      : null,
  runApiBase: "https://run.googleapis.com",
  loggingBase: "https://logging.googleapis.com",
});
const stage = targetOf("stage");
const prod = targetOf("prod");
const IMAGE = "repo/jobs@sha256:1";

const apiUrlOf = (job: RunJob | undefined): string | undefined =>
  job?.template?.template?.containers?.[0]?.env?.find((v) => v.name === "API_SERVICE_URL")?.value ??
  undefined;

/** The jobs as deployed with `url` as their API_SERVICE_URL. */
function deployedWith(url: string) {
  const state = desiredState(catalog, stage, { commit: "old", image: IMAGE, apiUrl: url });
  return { runJobs: [...state.runJobs.values()], triggers: [...state.triggers.values()] };
}

describe("resolveApiUrl", () => {
  it.each<[EnvironmentName, string | undefined, string | undefined]>([
    ["prod", undefined, "https://api.cloudact.ai"],
    ["prod", "https://api.cloudact.ai/", "https://api.cloudact.ai"],
    ["stage", undefined, undefined],
    ["stage", "https://api-stage.example.com", "https://api-stage.example.com"],
    ["sandbox", undefined, undefined],
  ])("for %s with --api-url %s gives %s", (env, flag, expected) => {
    expect(resolveApiUrl(targetOf(env), flag)).toBe(expected);
  });

  it.each<[EnvironmentName, string, string]>([
    ["prod", "https://laptop.example.com", "prod's URL lives in src/runtime/environments.ts"],
    ["stage", "http://api-stage.example.com", "pass --api-url https://"],
    ["test", "not a url", "is not an https URL"],
    ["sandbox", "https://api.example.com", "not used for the sandbox"],
  ])("refuses --api-url for %s: %s", (env, flag, message) => {
    expect(() => resolveApiUrl(targetOf(env), flag)).toThrow(message);
  });
});

describe("API_SERVICE_URL in the plan", () => {
  it("deploys prod's table URL into prod, whatever the shell says", () => {
    const state = desiredState(catalog, prod, {
      commit: "c",
      image: IMAGE,
      apiUrl: resolveApiUrl(prod, undefined),
    });
    const urls = [...state.runJobs.values()].map(apiUrlOf);
    expect(new Set(urls)).toEqual(new Set(["https://api.cloudact.ai"]));
  });

  it("keeps the deployed URL in stage when no --api-url is given", () => {
    const state = desiredState(catalog, stage, { commit: "c" });
    const plan = buildPlan(state, deployedWith("https://api-stage.example.com"), stage, {});
    expect(count(plan, "update")).toBe(0);
    expect(plan.problems).toEqual([]);
  });

  it("changes the deployed URL in stage with --api-url, as a visible field change", () => {
    const state = desiredState(catalog, stage, { commit: "c", apiUrl: "https://api-stage-2.example.com" });
    const plan = buildPlan(state, deployedWith("https://api-stage.example.com"), stage, {});
    expect(count(plan, "update")).toBe(8);
    expect(plan.items[0]?.changes).toEqual([
      {
        field: "env.API_SERVICE_URL",
        from: "https://api-stage.example.com",
        to: "https://api-stage-2.example.com",
      },
    ]);
  });

  it("refuses to create an admin-API job in stage without a URL, saying to pass --api-url", () => {
    const state = desiredState(catalog, stage, { commit: "c", image: IMAGE });
    const plan = buildPlan(state, { runJobs: [], triggers: [] }, stage, { image: IMAGE });
    const adminJobs = catalog.filter((job) => job.uses.includes("admin-api"));
    expect(plan.problems).toHaveLength(adminJobs.length);
    expect(plan.problems[0]).toMatch(/pass --api-url https:\/\/… for stage$/);
  });

  it("lists what a create deploys: env values and secrets as references", () => {
    const state = desiredState(catalog, prod, {
      commit: "c",
      image: IMAGE,
      apiUrl: "https://api.cloudact.ai",
    });
    const plan = buildPlan(state, { runJobs: [], triggers: [] }, prod, { image: IMAGE });
    const text = formatPlan(plan, prod);
    expect(text).toContain('env.API_SERVICE_URL: (none) → "https://api.cloudact.ai"');
    expect(text).toContain('secret.CA_ROOT_API_KEY: (none) → "ca-root-api-key-prod:latest"');
    expect(text).toContain('env.ENVIRONMENT: (none) → "production"');
    expect(count(plan, "create")).toBe(catalogCounts().resources);
  });
});
