/**
 * Cloud Scheduler v1 emulator: create / get / list / patch (updateMask) / delete / pause / resume / run, as
 * `@google-cloud/scheduler` v6 sends them with `fallback: true`; plus `GET|POST /sandbox/clock` to read or
 * move the clock (`{advanceMs}`, `{set}`, `{fireDue}`).
 */
import { ApiError, invalid, notFound } from "../http/errors.ts";
import { type HttpService, type NodeHandler, type Request, Router, startHttpServer } from "../http/server.ts";
import { Collection } from "../http/store.ts";
import { encodeEnums, paginate, wantsIntEnums } from "../http/wire.ts";
import { SchedulerClock } from "./clock.ts";
import { type AttemptResult, attempt } from "./fire.ts";
import { applyMask } from "./mask.ts";
import { nextRun, normaliseJob, SCHEDULER_ENUMS, type SchedulerJob } from "./model.ts";

export interface SchedulerOptions {
  dataDir?: string;
  autoTick?: boolean;
  start?: Date;
  /** Where `https://run.googleapis.com/...` targets go (read at fire time). */
  cloudRunUrl?: () => string;
  log?: (event: string, fields: Record<string, unknown>) => void;
  /** Wraps the HTTP handler (fault injection). */
  wrap?: (handler: NodeHandler) => NodeHandler;
}
export interface Scheduler {
  service: HttpService;
  clock: SchedulerClock;
  stop(): Promise<void>;
}

const LOC = "projects/[^/]+/locations/[^/]+";
const JOB = `(?<name>${LOC}/jobs/[^/:]+)`;
const re = (pattern: string): RegExp => new RegExp(`^${pattern}$`);

/** @example const scheduler = await startScheduler({ autoTick: false }); await scheduler.clock.advance(3_600_000); */
export async function startScheduler(opts: SchedulerOptions = {}): Promise<Scheduler> {
  const jobs = new Collection<SchedulerJob>("scheduler-jobs", opts.dataDir);
  const log = opts.log ?? (() => {});
  const mustGet = (name: string): SchedulerJob => {
    const job = jobs.get(name);
    if (!job) throw notFound(`Job not found: ${name}; create it first or check project, location and name`);
    return job;
  };

  async function fire(job: SchedulerJob, scheduleTime: Date): Promise<AttemptResult> {
    job.lastAttemptTime = clock.now().toISOString();
    const result = await attempt(job, scheduleTime.toISOString(), {
      cloudRunUrl: opts.cloudRunUrl?.() ?? "",
    });
    job.status = result.status;
    jobs.save();
    log("scheduler attempt", {
      job: job.name,
      scheduleTime: result.scheduleTime,
      httpStatus: result.httpStatus,
      code: result.status.code ?? 0,
    });
    return result;
  }

  const clock = new SchedulerClock(
    async (from, to) => {
      const due: [SchedulerJob, Date][] = [];
      for (const job of jobs.values()) {
        if (job.state !== "ENABLED") continue;
        const slot = nextRun(job.schedule, job.timeZone, from);
        if (slot.getTime() > to.getTime()) continue;
        // Fire once, for the latest slot in the window (no backfill of missed runs).
        let latest = slot;
        for (
          let next = nextRun(job.schedule, job.timeZone, latest);
          next.getTime() <= to.getTime();
          next = nextRun(job.schedule, job.timeZone, next)
        )
          latest = next;
        due.push([job, latest]);
      }
      return Promise.all(due.map(([job, slot]) => fire(job, slot)));
    },
    { ...(opts.start ? { start: opts.start } : {}), autoTick: opts.autoTick ?? true },
  );

  const view = (req: Request, job: SchedulerJob) => {
    const scheduleTime =
      job.state === "ENABLED" ? nextRun(job.schedule, job.timeZone, clock.now()).toISOString() : undefined;
    return encodeEnums(
      { ...job, ...(scheduleTime ? { scheduleTime } : {}) },
      SCHEDULER_ENUMS,
      wantsIntEnums(req.query),
    );
  };
  const write = (name: string, fields: Record<string, unknown>, previous?: SchedulerJob): SchedulerJob => {
    const job: SchedulerJob = {
      ...normaliseJob({ ...fields, name }),
      userUpdateTime: new Date().toISOString(),
      state: previous?.state ?? "ENABLED",
      status: previous?.status ?? {},
      ...(previous?.lastAttemptTime ? { lastAttemptTime: previous.lastAttemptTime } : {}),
    };
    return jobs.set(name, job);
  };

  const router = new Router()
    .add("GET", re("/sandbox/clock"), () => ({
      now: clock.now().toISOString(),
      lastCheck: clock.lastCheck.toISOString(),
    }))
    .add("POST", re("/sandbox/clock"), async (req) => {
      const body = req.body as { advanceMs?: number; set?: string; fireDue?: string };
      let fired: AttemptResult[] = [];
      if (body.set !== undefined) {
        if (Number.isNaN(Date.parse(body.set)))
          throw invalid(`set must be an ISO date; got ${JSON.stringify(body.set)}`);
        clock.set(new Date(body.set));
      }
      if (body.advanceMs !== undefined) fired = await clock.advance(Number(body.advanceMs));
      if (body.fireDue !== undefined) fired = await clock.fireDue(new Date(body.fireDue));
      return { now: clock.now().toISOString(), fired };
    })
    .add("POST", re(`/v1/(?<parent>${LOC})/jobs`), (req) => {
      const body = req.body as Partial<SchedulerJob>;
      const parent = req.params.parent as string;
      const name = body.name ?? "";
      if (!name.startsWith(`${parent}/jobs/`) || !/^[\w-]{1,500}$/.test(name.split("/").at(-1) ?? ""))
        throw invalid(
          `job.name must be ${parent}/jobs/<id> (letters, digits, '-' or '_'); got ${JSON.stringify(name)}`,
        );
      if (jobs.has(name))
        throw new ApiError(
          "ALREADY_EXISTS",
          `Job ${name} already exists: update it with updateJob and an update mask`,
        );
      return view(req, write(name, body));
    })
    .add("GET", re(`/v1/(?<parent>${LOC})/jobs`), (req) => {
      const all = jobs
        .values()
        .filter((j) => j.name.startsWith(`${req.params.parent}/jobs/`))
        .sort((a, b) => a.name.localeCompare(b.name));
      const { items, nextPageToken } = paginate(all, req.query, 500);
      const out = items.map((j) => view(req, j));
      return nextPageToken ? { jobs: out, nextPageToken } : { jobs: out };
    })
    .add("GET", re(`/v1/${JOB}`), (req) => view(req, mustGet(req.params.name as string)))
    .add("PATCH", re(`/v1/${JOB}`), (req) => {
      const previous = mustGet(req.params.name as string);
      const body = req.body as Record<string, unknown>;
      const next = applyMask(
        previous as unknown as Record<string, unknown>,
        body,
        req.query.get("updateMask"),
      );
      return view(req, write(previous.name, next, previous));
    })
    .add("DELETE", re(`/v1/${JOB}`), (req) => {
      mustGet(req.params.name as string);
      jobs.delete(req.params.name as string);
      return {};
    })
    .add("POST", re(`/v1/${JOB}:pause`), (req) => {
      const job = mustGet(req.params.name as string);
      job.state = "PAUSED";
      jobs.save();
      return view(req, job);
    })
    .add("POST", re(`/v1/${JOB}:resume`), (req) => {
      const job = mustGet(req.params.name as string);
      job.state = "ENABLED";
      jobs.save();
      return view(req, job);
    })
    .add("POST", re(`/v1/${JOB}:run`), async (req) => {
      // Run now: one attempt, answered after it (the sandbox awaits it so callers see status at once).
      const job = mustGet(req.params.name as string);
      await fire(job, clock.now());
      return view(req, job);
    });

  const service = await startHttpServer(router, "cloud-scheduler", opts.wrap ? { wrap: opts.wrap } : {});
  return {
    service,
    clock,
    async stop() {
      clock.stop();
      await service.close();
    },
  };
}
