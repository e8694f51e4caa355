/**
 * BigQuery's REST surface as `@google-cloud/bigquery` v9 uses it for queries, over the warehouse:
 * - `POST /bigquery/v2/projects/{p}/queries` (jobs.query: what `bigquery.query()` sends), complete at once;
 * - `GET  /bigquery/v2/projects/{p}/queries/{jobId}` (getQueryResults: the stored result);
 * - `POST /bigquery/v2/projects/{p}/jobs` (jobs.insert: `createQueryJob()`), `GET …/jobs/{jobId}`.
 * Statements go through `translate.ts` (read it for exactly what is supported). Errors come back as
 * `{error:{code, message, status, errors:[{reason}]}}`: 400 invalidQuery for anything unsupported or
 * failing in Postgres, 404 notFound for an unknown job or project.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Warehouse, WarehouseDb } from "../admin-api/warehouse.ts";
import type { FaultRule, Faults } from "../faults.ts";
import { BadJson, listen, parseUrl, readJson, type Service, sendJson } from "../service.ts";
import { inBigQueryTerms } from "./invalid-query.ts";
import { InvalidQuery, type QueryParameter, type Translated, translate } from "./translate.ts";
import { encodeRows, schemaOf } from "./values.ts";

export interface BigQueryOptions {
  warehouse: Warehouse<WarehouseDb>;
  projectId: string;
  faults: Faults;
  port?: number;
  location?: string;
  /** One JSON object per request (method, path, status, ms); never the query text or parameters. */
  log?: (event: Record<string, unknown>) => void;
}

/** Datasets a query may not reach: the emulator's bookkeeping and Postgres's catalogs. */
const HIDDEN = /^(sandbox_admin|information_schema|pg_\w*|public)$/i;
/** How many finished jobs are kept for getQueryResults / jobs.get. */
const KEEP_JOBS = 1000;

/**
 * A fault rule making every DML query answer BigQuery's streaming-buffer refusal (400).
 *
 * @example
 * faults.set("bigquery", streamingBufferFault("sandbox-project", "organizations.org_usage_quotas"));
 */
export function streamingBufferFault(projectId: string, table: string): FaultRule & { message: string } {
  return {
    route: `POST /bigquery/v2/projects/${projectId}/queries`,
    status: 400,
    message: `UPDATE or DELETE statement over table ${projectId}.${table} would affect rows in the streaming buffer, which is not supported`,
  };
}

/**
 * @example
 * const bq = await startBigQuery({ warehouse, projectId: "sandbox-project", faults });
 * const client = new BigQuery({ projectId: "sandbox-project", apiEndpoint: bq.url, authClient });
 */
export async function startBigQuery(opts: BigQueryOptions): Promise<Service> {
  const location = opts.location ?? "US";
  const jobs = new Map<string, Record<string, unknown>>();
  const base = `/bigquery/v2/projects/${opts.projectId}`;

  const remember = (jobId: string, result: Record<string, unknown>) => {
    jobs.set(jobId, result);
    if (jobs.size > KEEP_JOBS) jobs.delete(jobs.keys().next().value as string);
  };

  const execute = async (query: unknown, parameters: unknown, jobId: string, dryRun = false) => {
    if (typeof query !== "string" || query.trim() === "")
      throw new InvalidQuery("query must be a non-empty string");
    const t = translate(
      query,
      opts.projectId,
      Array.isArray(parameters) ? (parameters as QueryParameter[]) : [],
      opts.warehouse.now(),
    );
    const jobReference = { projectId: opts.projectId, jobId, location };
    const result = await opts.warehouse
      .exclusive(async (db) => {
        await checkTables(db, t, opts.projectId);
        if (dryRun)
          return { kind: "bigquery#queryResponse", jobReference, jobComplete: true, totalRows: "0" };
        return run(db, t, jobReference);
      })
      .catch((error: unknown) => {
        throw error instanceof InvalidQuery ? error : inBigQueryTerms(error, t.paramNames);
      });
    remember(jobId, { ...result, statementType: t.statementType });
    return result;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const { path } = parseUrl(req);
    try {
      if (!path.startsWith(`${base}/`)) {
        return fail(
          res,
          404,
          "NOT_FOUND",
          "notFound",
          `Not found: project in ${path}: this sandbox serves ${opts.projectId}`,
        );
      }
      const rest = path.slice(base.length);
      if (req.method === "POST" && rest === "/queries") {
        const body = (await readJson(req)) as Record<string, unknown>;
        if (body.useLegacySql === true)
          throw new InvalidQuery("legacy SQL is not supported: use standard SQL");
        return sendJson(res, 200, await execute(body.query, body.queryParameters, `job_${randomUUID()}`));
      }
      if (req.method === "POST" && rest === "/jobs") {
        const body = (await readJson(req)) as {
          configuration?: { query?: { query?: unknown; queryParameters?: unknown }; dryRun?: boolean };
          jobReference?: { jobId?: string };
        };
        const q = body.configuration?.query;
        if (!q) throw new InvalidQuery("only query jobs are supported by the sandbox (configuration.query)");
        const jobId = body.jobReference?.jobId ?? `job_${randomUUID()}`;
        const r = await execute(q.query, q.queryParameters, jobId, body.configuration?.dryRun === true);
        return sendJson(res, 200, jobResource(opts.projectId, location, jobId, body.configuration ?? {}, r));
      }
      const m = /^\/(queries|jobs)\/([\w.-]+)$/.exec(rest);
      if (req.method === "GET" && m?.[2]) {
        const stored = jobs.get(m[2]);
        if (!stored)
          return fail(
            res,
            404,
            "NOT_FOUND",
            "notFound",
            `Not found: Job ${opts.projectId}:${location}.${m[2]}`,
          );
        return sendJson(
          res,
          200,
          m[1] === "queries" ? stored : jobResource(opts.projectId, location, m[2], {}, stored),
        );
      }
      fail(res, 404, "NOT_FOUND", "notFound", `no route ${req.method} ${path} in the sandbox's BigQuery`);
    } catch (error) {
      if (error instanceof InvalidQuery || error instanceof BadJson) {
        return fail(res, 400, "INVALID_ARGUMENT", "invalidQuery", error.message);
      }
      fail(
        res,
        400,
        "INVALID_ARGUMENT",
        "invalidQuery",
        `Query error: ${(error as Error).message ?? String(error)}`,
      );
    }
  };

  const logged = async (req: IncomingMessage, res: ServerResponse) => {
    const started = Date.now();
    await handle(req, res);
    opts.log?.({
      service: "bigquery",
      method: req.method,
      path: parseUrl(req).path,
      status: res.statusCode,
      ms: Date.now() - started,
    });
  };
  return listen(opts.faults.wrap("bigquery", logged), { port: opts.port });
}

async function checkTables(db: WarehouseDb, t: Translated, projectId: string) {
  for (const { dataset, table } of t.tables) {
    const found = await db.query(
      "SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2",
      [dataset, table],
    );
    if (HIDDEN.test(dataset) || found.rows.length === 0) {
      throw new InvalidQuery(`Not found: Table ${projectId}:${dataset}.${table} was not found`);
    }
  }
}

async function run(db: WarehouseDb, t: Translated, jobReference: Record<string, string>) {
  const common = {
    kind: "bigquery#queryResponse",
    jobReference,
    jobComplete: true,
    cacheHit: false,
    totalBytesProcessed: "0",
  };
  if (t.statementType === "SELECT") {
    // Read-only: a WITH … DELETE (valid Postgres, invalid BigQuery) must not change anything.
    const r = await db.transaction(async (tx) => {
      await tx.exec("SET TRANSACTION READ ONLY");
      return tx.query<unknown[]>(t.sql, t.params, { rowMode: "array" });
    });
    const schema = schemaOf(r.fields);
    return { ...common, schema, rows: encodeRows(r.rows, schema), totalRows: String(r.rows.length) };
  }
  const r = await db.query(t.sql, t.params);
  const n = String(r.affectedRows ?? 0);
  const key =
    t.statementType === "INSERT"
      ? "insertedRowCount"
      : t.statementType === "UPDATE"
        ? "updatedRowCount"
        : "deletedRowCount";
  return { ...common, totalRows: "0", numDmlAffectedRows: n, dmlStats: { [key]: n } };
}

function jobResource(
  projectId: string,
  location: string,
  jobId: string,
  configuration: Record<string, unknown>,
  result: Record<string, unknown>,
) {
  return {
    kind: "bigquery#job",
    id: `${projectId}:${location}.${jobId}`,
    jobReference: { projectId, jobId, location },
    configuration,
    status: { state: "DONE" },
    statistics: {
      totalBytesProcessed: "0",
      query: {
        statementType: result.statementType,
        numDmlAffectedRows: result.numDmlAffectedRows,
        dmlStats: result.dmlStats,
        totalBytesProcessed: "0",
      },
    },
  };
}

function fail(res: ServerResponse, code: number, status: string, reason: string, message: string) {
  sendJson(res, code, { error: { code, message, status, errors: [{ reason, message, domain: "global" }] } });
}
