/**
 * Where the jobs' API_SERVICE_URL comes from outside the sandbox, in one precedence: `--api-url` (checked
 * here) > the environments table > the value deployed on the job (kept by the plan, keep.ts) > a plan
 * problem asking for --api-url. Never the operator's shell API_SERVICE_URL.
 */
import { ConfigError } from "../runtime/errors.ts";
import type { Target } from "./target.ts";

/**
 * The admin API URL to deploy for `target`, from `--api-url`: refused for the sandbox (it uses its own
 * endpoints), when not https, and for an environment whose table row has a different URL (prod: changing
 * prod's URL is a reviewed change to src/runtime/environments.ts, not a flag).
 *
 * @example
 * resolveApiUrl(stageTarget, "https://api-stage.example.com") // "https://api-stage.example.com"
 * resolveApiUrl(prodTarget, undefined) // "https://api.cloudact.ai" (the table's)
 */
export function resolveApiUrl(target: Target, flag: string | undefined): string | undefined {
  const env = target.env;
  if (flag === undefined) return env.name === "sandbox" ? undefined : (env.apiUrl ?? undefined);
  if (env.name === "sandbox")
    throw new ConfigError(
      "--api-url is not used for the sandbox: its jobs get the running sandbox's own API_SERVICE_URL; drop --api-url",
    );
  if (URL.parse(flag)?.protocol !== "https:")
    throw new ConfigError(`--api-url ${JSON.stringify(flag)} is not an https URL: pass --api-url https://…`);
  const wanted = flag.replace(/\/+$/, "");
  if (env.apiUrl && wanted !== env.apiUrl.replace(/\/+$/, "")) {
    throw new ConfigError(
      `--api-url ${wanted} differs from ${env.name}'s API URL ${env.apiUrl}: ${env.name}'s URL lives in src/runtime/environments.ts; change it there (a reviewed change) or drop --api-url`,
    );
  }
  return wanted;
}
