/**
 * Cloud Monitoring API v3 emulator: the REST paths `@google-cloud/monitoring` v6 sends with `fallback: true`
 * — `alertPolicies` create, get, list, patch (`updateMask`) and delete, and `notificationChannels` create,
 * get and list (channels.ts) — plus the sandbox-only `GET /sandbox/incidents` and
 * `POST /sandbox/monitoring/evaluate`.
 *
 * Any project, like the real API (and the other emulators): policies and channels live under their
 * `projects/{p}`, and a policy sees only its own project's metrics (the evaluator's `project_id`).
 *
 * Policies are validated as Monitoring does where it matters here: a display name, 1–6 conditions with
 * exactly one condition type, PromQL that parses, notification channels that exist, user labels of at most
 * 63 lowercase characters. Only PromQL conditions are evaluated (evaluator.ts); others are stored.
 */
import { randomUUID } from "node:crypto";
import { invalid, notFound } from "../http/errors.ts";
import { type HttpService, type NodeHandler, type Request, Router, startHttpServer } from "../http/server.ts";
import { Collection } from "../http/store.ts";
import { paginate, parseDuration } from "../http/wire.ts";
import { type ChannelSeed, Channels } from "./channels.ts";
import { Evaluator, type ExecutionView, type PolicyView } from "./evaluator.ts";
import { parsePromql } from "./promql.ts";

type Policy = Record<string, unknown> & { name: string; conditions: Record<string, unknown>[] };

export type { Channel } from "./channels.ts";

export interface MonitoringOptions {
  now: () => Date;
  executions: () => ExecutionView[];
  /** Notification channels every project starts with (more through `notificationChannels.create`). */
  channels: ChannelSeed[];
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

function validate(policy: Policy, channelExists: (name: string) => boolean): void {
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
    if (!channelExists(channel)) throw notFound(`Notification channel ${channel} does not exist`);
  for (const [key, value] of Object.entries((policy.userLabels as Record<string, string>) ?? {}))
    if (!LABEL.test(key) || !/^[a-z0-9_-]{0,63}$/.test(value))
      throw invalid(
        `alertPolicy.userLabels: "${key}": "${value}" must be lowercase letters, digits, _ or -, at most 63`,
      );
}

/** @example const monitoring = await startMonitoring({ now, executions, channels: [] }); */
export async function startMonitoring(opts: MonitoringOptions): Promise<Monitoring> {
  const policies = new Collection<Policy & { sandboxSince?: number }>(
    "monitoring-alert-policies",
    opts.dataDir,
  );
  const channels = new Channels(opts.channels, opts.dataDir);
  const projectOf = (name: string) => name.split("/")[1] ?? "";
  const views = (): PolicyView[] =>
    policies.values().map((policy) => ({
      name: policy.name,
      project: projectOf(policy.name),
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
  const parentOf = (req: Request) => `projects/${req.params.project}`;
  /** A policy may name only channels of its own project. */
  const channelIn = (req: Request) => (name: string) => channels.has(String(req.params.project), name);
  const P = "^/v3/projects/(?<project>[^/]+)";
  const router = new Router()
    .add("POST", new RegExp(`${P}/alertPolicies$`), (req) => {
      const body = { ...(req.body as Policy), conditions: (req.body as Policy).conditions ?? [] };
      validate(body, channelIn(req));
      const id = randomUUID().replace(/-/g, "").slice(0, 20);
      const policy = stamp({ ...body, name: `${parentOf(req)}/alertPolicies/${id}` }, true);
      policies.set(policy.name, policy);
      return show(policy);
    })
    .add("GET", new RegExp(`${P}/alertPolicies$`), (req) => {
      const mine = policies.values().filter((policy) => policy.name.startsWith(`${parentOf(req)}/`));
      const { items, nextPageToken } = paginate(mine, req.query, 1000);
      return {
        alertPolicies: items.map(show),
        totalSize: mine.length,
        ...(nextPageToken ? { nextPageToken } : {}),
      };
    })
    .add("GET", new RegExp(`${P}/alertPolicies/(?<id>[^/]+)$`), (req) =>
      show(mustGet(`${parentOf(req)}/alertPolicies/${req.params.id}`)),
    )
    .add("PATCH", new RegExp(`${P}/alertPolicies/(?<id>[^/]+)$`), (req) => {
      const name = `${parentOf(req)}/alertPolicies/${req.params.id}`;
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
      validate(next, channelIn(req));
      evaluator.reset(name);
      const policy = stamp(next, false);
      policies.set(name, policy);
      return show(policy);
    })
    .add("DELETE", new RegExp(`${P}/alertPolicies/(?<id>[^/]+)$`), (req) => {
      const name = `${parentOf(req)}/alertPolicies/${req.params.id}`;
      mustGet(name);
      policies.delete(name);
      evaluator.reset(name);
      return {};
    })
    .add("POST", new RegExp(`${P}/notificationChannels$`), (req) =>
      channels.create(String(req.params.project), req.body as Record<string, unknown>),
    )
    .add("GET", new RegExp(`${P}/notificationChannels$`), (req) => {
      const list = channels.list(String(req.params.project));
      const { items, nextPageToken } = paginate(list, req.query, 1000);
      return {
        notificationChannels: items,
        totalSize: list.length,
        ...(nextPageToken ? { nextPageToken } : {}),
      };
    })
    .add("GET", new RegExp(`${P}/notificationChannels/(?<id>[^/]+)$`), (req) =>
      channels.get(String(req.params.project), String(req.params.id)),
    )
    .add("GET", /^\/sandbox\/incidents$/, (req) => {
      // ?project=p: only that project's incidents (each names its policy, projects/{p}/alertPolicies/{id}).
      const project = req.query.get("project");
      return {
        incidents: project
          ? evaluator.incidents.filter((incident) => projectOf(incident.policy) === project)
          : evaluator.incidents,
      };
    })
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
