/**
 * A latency-only stand-in for the admin API's two org-sync routes: no database, every sync answered
 * SUCCESS after `latencyMs`, requests handled concurrently. Against it, org-sync-all's throughput is the
 * job's own ceiling (the reference admin API handles one request at a time over PGlite, so there the
 * server is the bottleneck). Listens on 127.0.0.1 only.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface StubAdminApi {
  url: string;
  /** Sync requests answered since start. */
  syncs(): number;
  /** Most syncs in flight at once since the last call (then reset): what the job really overlapped. */
  takePeakInFlight(): number;
  close(): Promise<void>;
}

const slug = (i: number) => `stub_org_${String(i).padStart(5, "0")}`;

/**
 * @example
 * const api = await startStubAdminApi({ orgs: 200, latencyMs: 20 });
 * // API_SERVICE_URL = api.url
 * await api.close();
 */
export async function startStubAdminApi(opts: { orgs: number; latencyMs: number }): Promise<StubAdminApi> {
  let syncs = 0;
  let inFlight = 0;
  let peak = 0;
  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://stub");
    if (req.method === "GET" && url.pathname === "/api/v1/organizations") {
      const page = Number(url.searchParams.get("page") ?? "1");
      const size = Number(url.searchParams.get("page_size") ?? "100");
      const from = (page - 1) * size;
      const organizations = Array.from({ length: Math.max(0, Math.min(size, opts.orgs - from)) }, (_, i) => ({
        org_slug: slug(from + i),
        status: "ACTIVE",
      }));
      return send(res, 200, {
        organizations,
        total: opts.orgs,
        page,
        page_size: size,
        has_next: from + size < opts.orgs,
      });
    }
    const sync = /^\/api\/v1\/organizations\/([^/]+)\/sync$/.exec(url.pathname);
    if (req.method === "POST" && sync) {
      req.resume(); // the body is not needed, but must be read for the connection to be reused
      peak = Math.max(peak, ++inFlight);
      setTimeout(() => {
        syncs++;
        inFlight--;
        const body = {
          org_slug: sync[1],
          status: "SUCCESS",
          tables_created: [],
          columns_added: {},
          errors: [],
          message: "ok",
        };
        send(res, 200, body);
      }, opts.latencyMs);
      return;
    }
    send(res, 404, {
      error: { code: 404, message: `stub admin API: no route ${req.method} ${url.pathname}` },
    });
  };
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    syncs: () => syncs,
    takePeakInFlight: () => {
      const p = peak;
      peak = inFlight;
      return p;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
