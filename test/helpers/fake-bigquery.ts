/**
 * A fake BigQuery `jobs.query` endpoint (`POST /bigquery/v2/projects/{p}/queries`) that records the SQL
 * and parameters it receives and answers from a handler: rows for a SELECT, numDmlAffectedRows for DML,
 * or an error in BigQuery's shape. Enough for the real `@google-cloud/bigquery` client to talk to it.
 */
import { type JsonServer, type RecordedRequest, type Reply, startJsonServer } from "./http-server.ts";

export interface ReceivedQuery {
  project: string;
  sql: string;
  /** Named parameters as `{ name: { type, value } }`. */
  params: Record<string, { type: string; value: unknown }>;
  /** Sent as a BigQuery dry run (jobs.insert with configuration.dryRun). */
  dryRun?: true;
}

const toParams = (body: QueryRequest | undefined): ReceivedQuery["params"] =>
  Object.fromEntries(
    (body?.queryParameters ?? []).map((p) => [
      p.name,
      { type: p.parameterType.type, value: p.parameterValue.value },
    ]),
  );

export type QueryAnswer =
  | { rows: Record<string, string | number | null>[] }
  | { affected: number }
  | { error: { status: number; message: string; reason?: string } };

export interface FakeBigQuery extends JsonServer {
  queries: ReceivedQuery[];
  answer(fn: (q: ReceivedQuery) => QueryAnswer): void;
}

interface QueryRequest {
  query?: string;
  queryParameters?: { name: string; parameterType: { type: string }; parameterValue: { value: unknown } }[];
}

export async function startFakeBigQuery(): Promise<FakeBigQuery> {
  const queries: ReceivedQuery[] = [];
  let answerFn: (q: ReceivedQuery) => QueryAnswer = () => ({ affected: 0 });
  const server = await startJsonServer((req: RecordedRequest): Reply => {
    // jobs.insert: only BigQuery's own dry run goes this way (validate and estimate, run nothing).
    const insert = /^\/bigquery\/v2\/projects\/([^/]+)\/jobs$/.exec(req.path);
    if (req.method === "POST" && insert) {
      const job = req.body as {
        jobReference?: { jobId?: string };
        configuration?: { dryRun?: boolean; query?: QueryRequest };
      };
      const q: ReceivedQuery = {
        project: insert[1] ?? "",
        sql: job.configuration?.query?.query ?? "",
        params: toParams(job.configuration?.query),
        dryRun: true,
      };
      queries.push(q);
      return {
        body: {
          kind: "bigquery#job",
          jobReference: { projectId: q.project, jobId: job.jobReference?.jobId ?? "dry", location: "US" },
          configuration: job.configuration,
          status: { state: "DONE" },
          statistics: { totalBytesProcessed: "1024", query: { totalBytesProcessed: "1024" } },
        },
      };
    }
    const m = /^\/bigquery\/v2\/projects\/([^/]+)\/queries$/.exec(req.path);
    if (req.method !== "POST" || !m)
      return { status: 404, body: { error: { code: 404, message: `no route ${req.method} ${req.path}` } } };
    const body = req.body as QueryRequest;
    const q: ReceivedQuery = {
      project: m[1] ?? "",
      sql: body.query ?? "",
      params: Object.fromEntries(
        (body.queryParameters ?? []).map((p) => [
          p.name,
          { type: p.parameterType.type, value: p.parameterValue.value },
        ]),
      ),
    };
    queries.push(q);
    const a = answerFn(q);
    const jobReference = { projectId: q.project, jobId: `job_${queries.length}`, location: "US" };
    if ("error" in a) {
      const { status, message, reason = "invalidQuery" } = a.error;
      return {
        status,
        body: { error: { code: status, message, errors: [{ message, reason }], status: "INVALID_ARGUMENT" } },
      };
    }
    if ("affected" in a) {
      return {
        body: {
          kind: "bigquery#queryResponse",
          jobReference,
          jobComplete: true,
          numDmlAffectedRows: String(a.affected),
          totalRows: "0",
        },
      };
    }
    const names = Object.keys(a.rows[0] ?? { row_count: 0 });
    return {
      body: {
        kind: "bigquery#queryResponse",
        jobReference,
        jobComplete: true,
        schema: {
          fields: names.map((name) => ({
            name,
            type: typeof a.rows[0]?.[name] === "number" ? "INTEGER" : "STRING",
          })),
        },
        rows: a.rows.map((r) => ({ f: names.map((n) => ({ v: r[n] === null ? null : String(r[n]) })) })),
        totalRows: String(a.rows.length),
      },
    };
  });
  return Object.assign(server, {
    queries,
    answer(fn: (q: ReceivedQuery) => QueryAnswer) {
      answerFn = fn;
    },
  });
}
