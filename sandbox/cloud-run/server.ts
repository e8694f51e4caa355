/**
 * Cloud Run Admin API v2 emulator, with the REST paths `@google-cloud/run` v4 sends with
 * `fallback: true`. Also serves Cloud Logging `POST /v2/entries:list` for job logs and each execution's
 * log page (its `logUri`).
 */
import { ApiError } from "../http/errors.ts";
import {
  type HttpService,
  type NodeHandler,
  type Request,
  Router,
  rawReply,
  startHttpServer,
} from "../http/server.ts";
import { Collection } from "../http/store.ts";
import { requireGoogleApiToken } from "../http/tokens.ts";
import { encodeEnums, paginate, wantsIntEnums } from "../http/wire.ts";
import { ExecutionManager, type ExecutionResource } from "./executions.ts";
import { jobMethods, trackExecution } from "./jobs.ts";
import { type ListRequest, listEntries } from "./logging.ts";
import { LogStore } from "./logs.ts";
import { type JobResource, RUN_ENUMS } from "./model.ts";
import { Operations } from "./operations.ts";

export interface CloudRunOptions {
  /** Task command: the container's args are appended. */
  entry: string[];
  cwd: string;
  /** Env every task starts from (the sandbox endpoints, PATH…), read when an execution starts. */
  baseEnv: () => Record<string, string>;
  secret: (secret: string, version: string) => string | undefined;
  /** SIGTERM → SIGKILL grace period of a task on timeout or cancel (Cloud Run: 10 s). */
  graceMs?: number;
  dataDir?: string;
  log?: (event: string, fields: Record<string, unknown>) => void;
  /** Wraps the HTTP handler (fault injection). */
  wrap?: (handler: NodeHandler) => NodeHandler;
}
export interface CloudRun {
  service: HttpService;
  executions: ExecutionManager;
  /**
   * Behaviours Google allows and tools must survive, off by default:
   * - `staleReads`: an execution that finishes from now on shows, to its next N reads, `completionTime`
   *   set while its counts and `Completed` condition are still those of a running execution (the proto
   *   does not order them across operations);
   * - `listOrder`: executions listed oldest first instead of newest first (the order is not documented).
   */
  quirks: { staleReads: number; listOrder: "newest-first" | "oldest-first" };
  /** Cancels running executions (SIGTERM, SIGKILL after `graceMs`), waits for them, closes the port. */
  stop(graceMs?: number): Promise<void>;
}

const LOC = "projects/[^/]+/locations/[^/]+";
const JOB = `${LOC}/jobs/[^/:]+`;
const EXEC = `${JOB}/executions/[^/:]+`;
const re = (pattern: string): RegExp => new RegExp(`^${pattern}$`);

function logPage(execution: ExecutionResource, logs: LogStore): string {
  const id = execution.name.split("/").at(-1) as string;
  const escapeHtml = (s: string) =>
    s.replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c] as string);
  const rows = logs.forExecution(id).map((e) => {
    const text = e.textPayload ?? JSON.stringify(e.jsonPayload);
    return `${e.timestamp} task ${e.labels["run.googleapis.com/task_index"]} attempt ${e.labels["run.googleapis.com/task_attempt"]} ${e.severity.padEnd(7)} ${escapeHtml(text)}`;
  });
  return `<!doctype html><title>Logs of ${id}</title><h1>${id}</h1><pre>\n${rows.join("\n")}\n</pre>\n`;
}

/**
 * @example const run = await startCloudRun({ entry: [process.execPath, "fixture.ts"], cwd, baseEnv: () => ({}), secret: () => undefined });
 */
export async function startCloudRun(opts: CloudRunOptions): Promise<CloudRun> {
  const jobs = new Collection<JobResource>("run-jobs", opts.dataDir);
  const logs = new LogStore(opts.dataDir);
  const operations = new Operations(opts.dataDir);
  let baseUrl = "";
  const executions = new ExecutionManager({
    executions: new Collection<ExecutionResource>("run-executions", opts.dataDir),
    logs,
    secret: opts.secret,
    entry: opts.entry,
    cwd: opts.cwd,
    baseEnv: opts.baseEnv,
    graceMs: opts.graceMs ?? 10_000,
    logUri: (name) => `${baseUrl}/sandbox/logs/${name}`,
    onChange: (execution) => {
      trackExecution(jobs, execution);
      onFinish(execution);
    },
    log: opts.log ?? (() => {}),
  });
  const methods = jobMethods({ jobs, executions, operations });
  const quirks: CloudRun["quirks"] = { staleReads: 0, listOrder: "newest-first" };
  /** Early views of finished executions still to be served (see `quirks.staleReads`). */
  const early = new Map<string, { view: ExecutionResource; reads: number }>();
  const onFinish = (execution: ExecutionResource) => {
    if (!execution.completionTime || quirks.staleReads <= 0 || early.has(execution.name)) return;
    const view = structuredClone(execution);
    Object.assign(view, {
      runningCount: view.taskCount,
      succeededCount: 0,
      failedCount: 0,
      cancelledCount: 0,
    });
    view.conditions = view.conditions.map((c) =>
      c.type === "Completed" ? { ...c, state: "CONDITION_RECONCILING", message: "0 tasks completed." } : c,
    );
    early.set(execution.name, { view, reads: quirks.staleReads });
  };
  const readExecution = (name: string): ExecutionResource => {
    const stale = early.get(name);
    if (!stale || stale.reads <= 0) return executions.get(name);
    stale.reads -= 1;
    return stale.view;
  };
  const send = (req: Request, value: unknown) => encodeEnums(value, RUN_ENUMS, wantsIntEnums(req.query));
  const flag = (req: Request, key: string) => req.query.get(key) === "true";
  const lookup = (name: string) => executions.deps.executions.get(name);

  const router = new Router()
    .add("POST", re("/v2/entries:list"), (req) => listEntries(logs.all(), req.body as ListRequest))
    .add("GET", re(`/sandbox/logs/(?<name>${EXEC})`), (req) =>
      rawReply(logPage(executions.get(req.params.name as string), logs), "text/html; charset=utf-8"),
    )
    .add("POST", re(`/v2/(?<parent>${LOC})/jobs`), (req) =>
      send(
        req,
        methods.create(
          req.params.parent as string,
          req.query.get("jobId") ?? "",
          req.body as object,
          flag(req, "validateOnly"),
        ),
      ),
    )
    .add("GET", re(`/v2/(?<parent>${LOC})/jobs`), (req) =>
      send(req, methods.list(req.params.parent as string, req.query)),
    )
    .add("GET", re(`/v2/(?<name>${LOC}/operations/[^/]+)`), (req) => {
      const op = operations.render(req.params.name as string, lookup);
      if (!op) throw new ApiError("NOT_FOUND", `Operation ${req.params.name} not found`);
      return send(req, op);
    })
    .add("POST", re(`/v2/(?<name>${JOB}):run`), (req) => {
      // Cloud Scheduler calls this with its job's token: an OIDC one (or a narrow scope) is refused.
      requireGoogleApiToken(req.headers.authorization);
      return send(req, methods.run(req.params.name as string, req.body as object));
    })
    .add("GET", re(`/v2/(?<name>${JOB})`), (req) => send(req, methods.get(req.params.name as string)))
    .add("PATCH", re(`/v2/(?<name>${JOB})`), (req) =>
      send(
        req,
        methods.update(
          req.params.name as string,
          req.body as object,
          flag(req, "allowMissing"),
          flag(req, "validateOnly"),
        ),
      ),
    )
    .add("DELETE", re(`/v2/(?<name>${JOB})`), (req) => send(req, methods.delete(req.params.name as string)))
    .add("GET", re(`/v2/(?<parent>${JOB})/executions`), (req) => {
      const parent = req.params.parent as string;
      methods.get(parent);
      const all = executions.deps.executions
        .values()
        .filter((e) => e.name.startsWith(`${parent}/executions/`))
        // Newest first, as Google lists them; the store keeps creation order, so reversing it first puts
        // the later of two executions created in the same millisecond first too (the sort is stable).
        .reverse()
        .sort((a, b) => b.createTime.localeCompare(a.createTime));
      if (quirks.listOrder === "oldest-first") all.reverse();
      const { items, nextPageToken } = paginate(all, req.query);
      return send(req, nextPageToken ? { executions: items, nextPageToken } : { executions: items });
    })
    .add("GET", re(`/v2/(?<name>${EXEC})`), (req) => send(req, readExecution(req.params.name as string)))
    .add("POST", re(`/v2/(?<name>${EXEC}):cancel`), (req) => {
      const name = req.params.name as string;
      const execution = executions.cancel(name);
      return send(req, operations.forExecution(name.split("/").slice(0, 4).join("/"), execution));
    })
    .add("DELETE", re(`/v2/(?<name>${EXEC})`), (req) => {
      const name = req.params.name as string;
      const execution = executions.delete(name);
      return send(req, operations.finished(name.split("/").slice(0, 4).join("/"), "Execution", execution));
    });

  const service = await startHttpServer(router, "cloud-run", opts.wrap ? { wrap: opts.wrap } : {});
  baseUrl = service.url;
  // Persisted executions point their logUri at this run's port (it changes on every start).
  for (const execution of executions.deps.executions.values())
    execution.logUri = executions.deps.logUri(execution.name);
  return {
    service,
    executions,
    quirks,
    async stop(graceMs = 2_000) {
      await executions.stopAll(graceMs);
      await service.close();
    },
  };
}
