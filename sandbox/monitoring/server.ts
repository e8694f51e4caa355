/**
 * Cloud Monitoring API v3 emulator: the REST paths `@google-cloud/monitoring` v6 sends with `fallback: true`
 * — `alertPolicies` create, get, list, patch (`updateMask`) and delete, and `notificationChannels` list —
 * plus the sandbox-only `GET /sandbox/incidents` and `POST /sandbox/monitoring/evaluate`.
 *
 * Policies are validated as Monitoring does where it matters here: a display name, 1–6 conditions with
 * exactly one condition type, PromQL that parses, notification channels that exist, user labels of at most
 * 63 lowercase characters. Only PromQL conditions are evaluated (evaluator.ts); others are stored.
 */
import { randomUUID } from "node:crypto";
import { ApiError, invalid, notFound } from "../http/errors.ts";
import { type HttpService, type NodeHandler, type Request, Router, startHttpServer } from "../http/server.ts";
import { Collection } from "../http/store.ts";
import { paginate, parseDuration } from "../http/wire.ts";
import { Evaluator, type ExecutionView, type PolicyView } from "./evaluator.ts";
import { parsePromql } from "./promql.ts";

type Policy = Record<string, unknown> & { name: string; conditions: Record<string, unknown>[] };
export interface Channel {
  name: string;
  type: string;
  displayName: string;
  labels: Record<string, string>;
  enabled: boolean;
}

export interface MonitoringOptions {
  project: string;
  location: string;
  now: () => Date;
  executions: () => ExecutionView[];
  /** Notification channels that exist (display name → type and labels). */
  channels: { displayName: string; type: string; labels: Record<string, string> }[];
  dataDir?: string;
  /** Evaluate every second (real time) as the scheduler ticks; default true. */
  autoEvaluate?: boolean;
  wrap?: (handler: NodeHandler) => NodeHandler;
}
export interface Monitoring {
  service: HttpService;
  evaluator: Evaluator;
  stop(): Promise<void>;
}

const CONDITION_TYPES = [
  "conditionThreshold",
  "conditionAbsent",
  "conditionMatchedLog",
  "conditionMonitoringQueryLanguage",
  "conditionPrometheusQueryLanguage",
  "conditionSql",
];
const MUTABLE = [
  "displayName",
  "documentation",
  "userLabels",
  "conditions",
  "combiner",
  "enabled",
  "notificationChannels",
  "alertStrategy",
  "severity",
];
const camel = (path: string): string => path.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const LABEL = /^[a-z][a-z0-9_-]{0,62}$/;

function validate(policy: Policy, channels: Set<string>): void {
  if (typeof policy.displayName !== "string" || !policy.displayName)
    throw invalid("Field alertPolicy.displayName is required");
  const conditions = policy.conditions ?? [];
  if (conditions.length < 1 || conditions.length > 6)
    throw invalid(`An alert policy has 1 to 6 conditions, got ${conditions.length}`);
  conditions.forEach((condition, i) => {
    const types = CONDITION_TYPES.filter((type) => condition[type]);
    if (types.length !== 1)
      throw invalid(`alertPolicy.conditions[${i}] must set exactly one condition type, got ${types.length}`);
    const promql = condition.conditionPrometheusQueryLanguage as Record<string, unknown> | undefined;
    if (promql) {
      try {
        parsePromql(String(promql.query ?? ""));
      } catch (error) {
        throw invalid(
          `alertPolicy.conditions[${i}].conditionPrometheusQueryLanguage.query: ${(error as Error).message}`,
        );
      }
      for (const field of ["duration", "evaluationInterval"])
        if (promql[field] !== undefined) parseDuration(promql[field], `conditions[${i}].${field}`);
    }
  });
  for (const channel of (policy.notificationChannels as string[] | undefined) ?? [])
    if (!channels.has(channel)) throw notFound(`Notification channel ${channel} does not exist`);
  for (const [key, value] of Object.entries((policy.userLabels as Record<string, string>) ?? {}))
    if (!LABEL.test(key) || !/^[a-z0-9_-]{0,63}$/.test(value))
      throw invalid(
        `alertPolicy.userLabels: "${key}": "${value}" must be lowercase letters, digits, _ or -, at most 63`,
      );
}

/** @example const monitoring = await startMonitoring({ project, location, now, executions, channels: [] }); */
export async function startMonitoring(opts: MonitoringOptions): Promise<Monitoring> {
  const policies = new Collection<Policy & { sandboxSince?: number }>(
    "monitoring-alert-policies",
    opts.dataDir,
  );
  const parent = `projects/${opts.project}`;
  const channels: Channel[] = opts.channels.map((channel, i) => ({
    name: `${parent}/notificationChannels/${1000 + i}`,
    ...channel,
    enabled: true,
  }));
  const channelNames = new Set(channels.map((c) => c.name));
  const views = (): PolicyView[] =>
    policies.values().map((policy) => ({
      name: policy.name,
      displayName: String(policy.displayName),
      enabled: policy.enabled !== false,
      since: policy.sandboxSince ?? 0,
      conditions: policy.conditions.flatMap((condition) => {
        const promql = condition.conditionPrometheusQueryLanguage as Record<string, unknown> | undefined;
        if (!promql) return [];
        return [
          {
            name: String(condition.name),
            displayName: String(condition.displayName ?? ""),
            query: String(promql.query),
            durationMs: promql.duration ? parseDuration(promql.duration, "duration") : 0,
            intervalMs: promql.evaluationInterval
              ? parseDuration(promql.evaluationInterval, "evaluationInterval")
              : 60_000,
          },
        ];
      }),
    }));
  const evaluator = new Evaluator({ ...opts, policies: views });
  const mustGet = (name: string) => {
    const policy = policies.get(name);
    if (!policy) throw notFound(`Alert policy ${name} does not exist`);
    return policy;
  };
  const stamp = (policy: Policy, created: boolean): Policy & { sandboxSince: number } => {
    const at = opts.now();
    const record = { mutateTime: at.toISOString(), mutatedBy: "sandbox" };
    policy.conditions = policy.conditions.map((condition, i) => ({
      ...condition,
      name: `${policy.name}/conditions/${i}`,
    }));
    return {
      ...policy,
      ...(created ? { creationRecord: record } : {}),
      mutationRecord: record,
      sandboxSince: at.getTime(),
    };
  };
  const show = ({ sandboxSince: _since, ...policy }: Policy & { sandboxSince?: number }) => policy;
  const checkProject = (req: Request) => {
    if (req.params.project !== opts.project)
      throw new ApiError(
        "PERMISSION_DENIED",
        `Project ${req.params.project} is not the sandbox's (${opts.project})`,
      );
  };
  const P = "^/v3/projects/(?<project>[^/]+)";
  const router = new Router()
    .add("POST", new RegExp(`${P}/alertPolicies$`), (req) => {
      checkProject(req);
      const body = { ...(req.body as Policy), conditions: (req.body as Policy).conditions ?? [] };
      validate(body, channelNames);
      const policy = stamp(
        { ...body, name: `${parent}/alertPolicies/${randomUUID().replace(/-/g, "").slice(0, 20)}` },
        true,
      );
      policies.set(policy.name, policy);
      return show(policy);
    })
    .add("GET", new RegExp(`${P}/alertPolicies$`), (req) => {
      checkProject(req);
      const { items, nextPageToken } = paginate(policies.values(), req.query, 1000);
      return {
        alertPolicies: items.map(show),
        totalSize: policies.values().length,
        ...(nextPageToken ? { nextPageToken } : {}),
      };
    })
    .add("GET", new RegExp(`${P}/alertPolicies/(?<id>[^/]+)$`), (req) => {
      checkProject(req);
      return show(mustGet(`${parent}/alertPolicies/${req.params.id}`));
    })
    .add("PATCH", new RegExp(`${P}/alertPolicies/(?<id>[^/]+)$`), (req) => {
      checkProject(req);
      const name = `${parent}/alertPolicies/${req.params.id}`;
      const current = mustGet(name);
      const body = req.body as Record<string, unknown>;
      const mask = (req.query.get("updateMask") ?? "").split(",").filter(Boolean).map(camel);
      const fields = mask.length ? mask : MUTABLE;
      const next: Policy = { ...current };
      for (const field of fields) {
        const top = field.split(".")[0] as string;
        if (!MUTABLE.includes(top))
          throw invalid(`updateMask path "${field}" is not a field of an alert policy`);
        if (body[top] === undefined) delete next[top];
        else next[top] = body[top];
      }
      next.conditions = (next.conditions as Policy["conditions"] | undefined) ?? [];
      validate(next, channelNames);
      evaluator.reset(name);
      const policy = stamp(next, false);
      policies.set(name, policy);
      return show(policy);
    })
    .add("DELETE", new RegExp(`${P}/alertPolicies/(?<id>[^/]+)$`), (req) => {
      checkProject(req);
      const name = `${parent}/alertPolicies/${req.params.id}`;
      mustGet(name);
      policies.delete(name);
      evaluator.reset(name);
      return {};
    })
    .add("GET", new RegExp(`${P}/notificationChannels$`), (req) => {
      checkProject(req);
      return { notificationChannels: channels, totalSize: channels.length };
    })
    .add("GET", /^\/sandbox\/incidents$/, () => ({ incidents: evaluator.incidents }))
    .add("POST", /^\/sandbox\/monitoring\/evaluate$/, () => ({
      opened: evaluator.evaluate(),
      now: opts.now().toISOString(),
    }));
  const service = await startHttpServer(router, "monitoring", opts.wrap ? { wrap: opts.wrap } : {});
  const timer =
    opts.autoEvaluate === false
      ? undefined
      : setInterval(() => {
          try {
            evaluator.evaluate();
          } catch {
            // A policy that cannot be evaluated was refused at create; nothing else can throw here.
          }
        }, 1000).unref();
  return {
    service,
    evaluator,
    stop: async () => {
      if (timer) clearInterval(timer);
      await service.close();
    },
  };
}
