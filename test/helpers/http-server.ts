/**
 * A tiny JSON HTTP server on 127.0.0.1 (port from listen(0)) for the fakes: records every request,
 * tracks requests in flight (for concurrency assertions) and closes idle keep-alive sockets on close().
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface Reply {
  status?: number;
  body?: unknown;
  /** Sent verbatim (e.g. an HTML error page) instead of JSON. */
  raw?: string;
  headers?: Record<string, string>;
  delayMs?: number;
}

export interface JsonServer {
  url: string;
  requests: RecordedRequest[];
  inFlight: number;
  maxInFlight: number;
  close(): Promise<void>;
}

export async function startJsonServer(
  handle: (req: RecordedRequest) => Promise<Reply> | Reply,
): Promise<JsonServer> {
  const state = { requests: [] as RecordedRequest[], inFlight: 0, maxInFlight: 0 };
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString("utf8");
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const recorded: RecordedRequest = {
        method: req.method ?? "GET",
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body: text ? safeJson(text) : undefined,
      };
      state.requests.push(recorded);
      const reply = await handle(recorded);
      if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
      if (res.destroyed) return;
      const payload = reply.raw ?? JSON.stringify(reply.body ?? {});
      res.writeHead(reply.status ?? 200, {
        "content-type": reply.raw !== undefined ? "text/html" : "application/json",
        ...reply.headers,
      });
      res.end(payload);
    } catch (error) {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: `fake server bug: ${(error as Error).message}` }));
    } finally {
      state.inFlight--;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return state.requests;
    },
    set requests(v) {
      state.requests = v;
    },
    get inFlight() {
      return state.inFlight;
    },
    get maxInFlight() {
      return state.maxInFlight;
    },
    set maxInFlight(v) {
      state.maxInFlight = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
