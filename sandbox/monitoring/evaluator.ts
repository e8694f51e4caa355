/**
 * The alerting half of the Monitoring model: Cloud Run's job metrics sampled from the sandbox's own
 * executions on the scheduler clock, and PromQL conditions evaluated every `evaluationInterval` (whole
 * minutes of that clock) into incidents.
 *
 * Metrics (Cloud Monitoring's Cloud Run list, PromQL names):
 * - `run_googleapis_com:job_completed_execution_count` (DELTA): one point per execution when it completes,
 *   labels `job_name`, `result` ("succeeded", or "failed" — a cancelled execution counts as failed);
 * - `run_googleapis_com:job_running_executions` (GAUGE): running executions per job.
 * Like Google's 60 s sampling, a change is seen when `collect` runs, stamped at the clock's time then.
 *
 * Incidents: per policy, condition and label set; opened when the query returns the series for
 * `duration`, closed when it no longer does (Monitoring's behaviour for metric conditions).
 *
 * @example
 * const evaluator = new Evaluator({ now: () => clock.now(), executions, policies });
 * evaluator.evaluate(); // samples, then evaluates every minute since the last call
 */
import { evalPromql, type Labels, type Node, parsePromql, type SeriesData } from "./promql.ts";

export interface ExecutionView {
  /** Project and region of the job (its metrics' `project_id` and `location`). */
  project: string;
  location: string;
  /** Cloud Run job id (short name). */
  job: string;
  name: string;
  completed: boolean;
  succeeded: boolean;
}
export interface PolicyView {
  name: string;
  /** Its project: a policy sees only the series whose `project_id` is this. */
  project: string;
  displayName: string;
  enabled: boolean;
  /** Clock time (ms) of its last create or update: an incident needs data seen after it. */
  since: number;
  conditions: { name: string; displayName: string; query: string; durationMs: number; intervalMs: number }[];
}
export interface Incident {
  /** The policy's resource name, `projects/{p}/alertPolicies/{id}`: which project raised it. */
  policy: string;
  policyDisplayName: string;
  condition: string;
  conditionDisplayName: string;
  labels: Labels;
  openTime: string;
  closeTime?: string;
  state: "OPEN" | "CLOSED";
}

export const COMPLETED = "run_googleapis_com:job_completed_execution_count";
export const RUNNING = "run_googleapis_com:job_running_executions";
const MINUTE = 60_000;

export interface EvaluatorOptions {
  now: () => Date;
  executions: () => ExecutionView[];
  policies: () => PolicyView[];
}

export class Evaluator {
  readonly incidents: Incident[] = [];
  readonly #opts: EvaluatorOptions;
  readonly #series = new Map<string, SeriesData>();
  readonly #seen = new Set<string>();
  readonly #parsed = new Map<string, Node>();
  /** Open or pending state per policy|condition|labels. */
  readonly #state = new Map<string, { since: number; incident?: Incident }>();
  #lastMinute: number;

  constructor(opts: EvaluatorOptions) {
    this.#opts = opts;
    this.#lastMinute = Math.floor(opts.now().getTime() / MINUTE) * MINUTE;
  }

  #point(metric: string, labels: Labels, kind: SeriesData["kind"], t: number, v: number): void {
    const id = `${metric}|${JSON.stringify(labels)}`;
    let series = this.#series.get(id);
    if (!series) {
      series = { labels, points: [], kind };
      this.#series.set(id, series);
    }
    if (kind === "gauge" && series.points.at(-1)?.v === v) return;
    series.points.push({ t, v });
  }

  /** Samples the executions as at `t` (the clock's now). */
  collect(t = this.#opts.now().getTime()): void {
    // Per job resource (project, location, job): its running count.
    const running = new Map<string, { labels: Labels; count: number }>();
    for (const execution of this.#opts.executions()) {
      const base = {
        monitored_resource: "cloud_run_job",
        project_id: execution.project,
        location: execution.location,
        job_name: execution.job,
      };
      const key = JSON.stringify(base);
      const job = running.get(key) ?? { labels: base, count: 0 };
      job.count += execution.completed ? 0 : 1;
      running.set(key, job);
      if (!execution.completed || this.#seen.has(execution.name)) continue;
      this.#seen.add(execution.name);
      const result = execution.succeeded ? "succeeded" : "failed";
      this.#point(COMPLETED, { ...base, result }, "delta", t, 1);
    }
    for (const { labels, count } of running.values()) this.#point(RUNNING, labels, "gauge", t, count);
  }

  #query(text: string): Node {
    let node = this.#parsed.get(text);
    if (!node) {
      node = parsePromql(text);
      this.#parsed.set(text, node);
    }
    return node;
  }

  /** Samples now, then evaluates every whole minute since the last call; returns the incidents opened. */
  evaluate(): Incident[] {
    const now = this.#opts.now().getTime();
    // The clock was set back: evaluation restarts from there.
    if (now < this.#lastMinute) this.#lastMinute = Math.floor(now / MINUTE) * MINUTE;
    this.collect(now);
    const opened: Incident[] = [];
    // Series per project and metric: a policy reads its own project's only.
    const byMetric = new Map<string, SeriesData[]>();
    for (const [id, s] of this.#series) {
      const key = `${s.labels.project_id}|${id.slice(0, id.indexOf("|"))}`;
      byMetric.set(key, [...(byMetric.get(key) ?? []), s]);
    }
    const policies = this.#opts.policies().filter((p) => p.enabled);
    for (let minute = this.#lastMinute + MINUTE; minute <= now; minute += MINUTE) {
      for (const policy of policies) {
        if (minute < policy.since) continue;
        for (const condition of policy.conditions) {
          if (Math.round(minute / MINUTE) % Math.max(1, Math.round(condition.intervalMs / MINUTE)) !== 0)
            continue;
          const ctx = {
            at: minute,
            series: (metric: string) => byMetric.get(`${policy.project}|${metric}`) ?? [],
          };
          const value = evalPromql(this.#query(condition.query), ctx);
          const result = typeof value === "number" ? [] : value;
          opened.push(
            ...this.#advance(
              policy,
              condition,
              result.map((s) => s.labels),
              minute,
            ),
          );
        }
      }
      this.#lastMinute = minute;
    }
    return opened;
  }

  #advance(
    policy: PolicyView,
    condition: PolicyView["conditions"][number],
    active: Labels[],
    at: number,
  ): Incident[] {
    const prefix = `${policy.name}|${condition.name}|`;
    const activeKeys = new Set(active.map((labels) => prefix + JSON.stringify(labels)));
    const opened: Incident[] = [];
    for (const [id, state] of this.#state) {
      if (!id.startsWith(prefix) || activeKeys.has(id)) continue;
      if (state.incident)
        Object.assign(state.incident, { state: "CLOSED", closeTime: new Date(at).toISOString() });
      this.#state.delete(id);
    }
    for (const labels of active) {
      const id = prefix + JSON.stringify(labels);
      const state = this.#state.get(id) ?? { since: at };
      this.#state.set(id, state);
      if (state.incident || at - state.since < condition.durationMs) continue;
      state.incident = {
        policy: policy.name,
        policyDisplayName: policy.displayName,
        condition: condition.name,
        conditionDisplayName: condition.displayName,
        labels,
        openTime: new Date(at).toISOString(),
        state: "OPEN",
      };
      this.incidents.push(state.incident);
      opened.push(state.incident);
    }
    return opened;
  }

  /** Forgets the state of a deleted or changed policy (its open incidents close). */
  reset(policy: string, at = this.#opts.now().getTime()): void {
    for (const [id, state] of this.#state) {
      if (!id.startsWith(`${policy}|`)) continue;
      if (state.incident)
        Object.assign(state.incident, { state: "CLOSED", closeTime: new Date(at).toISOString() });
      this.#state.delete(id);
    }
  }
}
