/**
 * The HTTP plumbing every emulator shares: a loopback-only server on a free port, JSON bodies, and a tiny
 * router whose handlers throw {@link ApiError} for Google-shaped error answers.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { ApiError, invalid } from "./errors.ts";

export interface Request {
  method: string;
  path: string;
  query: URLSearchParams;
  params: Record<string, string>;
  headers: IncomingMessage["headers"];
  body: unknown;
  /** The raw request, for handlers that answer with something other than JSON. */
  raw: IncomingMessage;
}
/** A JSON value to answer 200 with, or a full answer. */
export type Reply = unknown | { status: number; body: string; contentType: string };
export type Handler = (req: Request) => Reply | Promise<Reply>;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

/**
 * Routes by method and a path regex with named groups (decoded into `req.params`).
 * @example router.add("GET", /^\/v2\/(?<name>projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/:]+)$/, getJob)
 */
export class Router {
  readonly routes: Route[] = [];
  add(method: string, pattern: RegExp, handler: Handler): this {
    this.routes.push({ method, pattern, handler });
    return this;
  }

  find(method: string, path: string): { handler: Handler; params: Record<string, string> } | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const match = route.pattern.exec(path);
      if (match) return { handler: route.handler, params: { ...match.groups } };
    }
    return undefined;
  }
}

/** Marks a reply that is not JSON (an HTML log page). */
export const rawReply = (body: string, contentType: string, status = 200): Reply => ({
  status,
  body,
  contentType,
  __raw: true,
});
const isRaw = (r: unknown): r is { status: number; body: string; contentType: string } =>
  typeof r === "object" && r !== null && "__raw" in r;

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export interface HttpService {
  url: string;
  port: number;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw invalid(`Invalid JSON payload received for ${req.method} ${req.url}: fix the request body`);
  }
}

function send(res: ServerResponse, status: number, body: string, contentType: string): void {
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Starts a server on 127.0.0.1 (never another interface) with a port from listen(0).
 * @example const svc = await startHttpServer(router, "cloud-run"); await fetch(`${svc.url}/v2/...`);
 */
export async function startHttpServer(
  router: Router,
  name: string,
  opts: { wrap?: (handler: NodeHandler) => NodeHandler } = {},
): Promise<HttpService> {
  const sockets = new Set<Socket>();
  const handler: NodeHandler = async (raw, res) => {
    const url = new URL(raw.url ?? "/", "http://127.0.0.1");
    try {
      // The REST transport sends `$alt=json;enum-encoding=int`: a query value, not part of the path.
      let path: string;
      try {
        path = decodeURIComponent(url.pathname);
      } catch {
        throw invalid(`${name}: the path ${url.pathname} is not valid percent-encoding`);
      }
      const found = router.find(raw.method ?? "GET", path);
      if (!found) throw new ApiError("NOT_FOUND", `${name}: no route for ${raw.method} ${url.pathname}`);
      const body = raw.method === "GET" || raw.method === "DELETE" ? {} : await readBody(raw);
      const reply = await found.handler({
        method: raw.method ?? "GET",
        path,
        query: url.searchParams,
        params: found.params,
        headers: raw.headers,
        body,
        raw,
      });
      if (isRaw(reply)) send(res, reply.status, reply.body, reply.contentType);
      else send(res, 200, JSON.stringify(reply ?? {}), "application/json");
    } catch (error) {
      const apiError =
        error instanceof ApiError
          ? error
          : new ApiError("INTERNAL", `${name}: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent)
        send(res, apiError.httpStatus, JSON.stringify(apiError.toJSON()), "application/json");
      else res.destroy();
    }
  };
  // Fault injection (sandbox/faults.ts) wraps the whole handler, like a proxy in front of the API.
  const server = createServer(opts.wrap ? opts.wrap(handler) : handler);
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive sockets of the gax clients would hold close() open forever.
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}
