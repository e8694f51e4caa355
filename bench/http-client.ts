/**
 * Benchmark 3: the cost of the http client's layers (pool, p-retry wrapper, redaction, zod validation)
 * per request, against raw `undici.request` to the same local node:http server. Sequential GETs, so the
 * number is latency per request on loopback, where the layers' cost is most visible.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Pool, request } from "undici";
import { z } from "zod";
import { createHttpClient } from "../src/runtime/http.ts";
import { type BenchResult, toCases } from "./lib/result.ts";
import { interleave } from "./lib/stats.ts";

const BASELINE = "raw undici.request";
const POOL = "raw undici Pool.request (the client's transport)";
const CLIENT = "createHttpClient (retry + zod)";
/** A body shaped like an org page: realistic work for JSON.parse and zod. */
const BODY = JSON.stringify({
  organizations: Array.from({ length: 20 }, (_, i) => ({ org_slug: `org_${i}`, status: "ACTIVE" })),
  total: 20,
  page: 1,
  page_size: 20,
  has_next: false,
});
const schema = z.object({
  organizations: z.array(z.object({ org_slug: z.string(), status: z.string() })),
  total: z.number().int(),
  page: z.number().int(),
  page_size: z.number().int(),
  has_next: z.boolean(),
});

/**
 * @example
 * const result = await benchHttpClient({ batch: 200, rounds: 9, budgetMs: 15_000 });
 */
export async function benchHttpClient(opts: {
  batch: number;
  rounds: number;
  budgetMs: number;
}): Promise<BenchResult> {
  const started = performance.now();
  let served = 0;
  const server = createServer((_req, res) => {
    served++;
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(BODY) });
    res.end(BODY);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = createHttpClient({ baseUrl: origin, headers: { "X-CA-Root-Key": "bench-key" } });
  const path = "/api/v1/organizations";
  // What the client uses underneath: the difference to it is the client's own layers, nothing else.
  const pool = new Pool(origin, { connections: 16 });
  /** One sample: mean µs per request over a batch of sequential GETs. */
  const batch = (one: () => Promise<unknown>) => async () => {
    const t = performance.now();
    for (let i = 0; i < opts.batch; i++) await one();
    return ((performance.now() - t) * 1000) / opts.batch;
  };
  const cases = [
    {
      label: BASELINE,
      run: batch(async () => {
        const res = await request(origin + path, { headers: { "x-ca-root-key": "bench-key" } });
        if (res.statusCode !== 200)
          throw new Error(`raw undici: status ${res.statusCode} from ${origin}${path}`);
        return res.body.json();
      }),
    },
    {
      label: POOL,
      run: batch(async () => {
        const res = await pool.request({ path, method: "GET", headers: { "x-ca-root-key": "bench-key" } });
        if (res.statusCode !== 200)
          throw new Error(`raw pool: status ${res.statusCode} from ${origin}${path}`);
        return res.body.json();
      }),
    },
    {
      label: CLIENT,
      run: batch(() => client.request({ method: "GET", path, schema })),
    },
  ];
  try {
    for (const c of cases) await c.run(); // warm up connections and JIT
    const before = served;
    const samples = await interleave(cases, opts);
    const perCase = [...samples.values()].reduce((n, s) => n + s.length, 0) * opts.batch;
    if (served - before !== perCase)
      throw new Error(`server saw ${served - before} requests, expected ${perCase}`);
    const results = toCases(samples, BASELINE, "µs/request");
    const [poolUs, clientUs] = [POOL, CLIENT].map((l) => results.find((c) => c.label === l)?.stats.median);
    const layers =
      poolUs && clientUs
        ? `${(clientUs - poolUs).toFixed(1)} µs per request (${(clientUs / poolUs).toFixed(2)}× Pool.request, medians)`
        : "not measured";
    return {
      id: "http-client",
      title: "HTTP client overhead",
      measures: `mean µs per request over a batch of ${opts.batch} sequential GETs (≈1.2 kB JSON) to a local node:http server`,
      ratioMeans: "overhead: median µs of the case ÷ median µs of raw undici.request, same run",
      cases: results,
      notes: [
        `The client's own layers over its transport: ${layers}.`,
        "All three keep connections alive (undici's global agent, or a Pool); the server is in the same process, so its cost is in every number alike.",
      ],
      durationMs: performance.now() - started,
    };
  } finally {
    await client.close();
    await pool.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
