/**
 * What every sandbox server is to the rest of the sandbox: a URL, a port and a clean close.
 * Also the small node:http helpers the service half shares (listen on loopback, read JSON, answer JSON),
 * so each server stays a thin router over its own logic.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A running sandbox server. `close()` stops listening and drops idle keep-alive sockets. */
export interface Service {
  url: string;
  port: number;
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

/**
 * Starts `handler` on 127.0.0.1 (never another interface) and resolves once it listens.
 *
 * @example
 * const svc = await listen((req, res) => sendJson(res, 200, { ok: true }));
 * await fetch(svc.url); await svc.close();
 */
export async function listen(handler: Handler, opts: { port?: number; onClose?: () => Promise<void> } = {}) {
  const server: Server = createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((error: unknown) => {
      // Last line of defence: a bug in a handler must answer, not hang the client.
      if (!res.headersSent) sendJson(res, 500, { error: { code: 500, message: String(error) } });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  const service: Service = {
    url: `http://127.0.0.1:${port}`,
    port,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await opts.onClose?.();
      })();
      return closing;
    },
  };
  return service;
}

/** Reads the whole body as text (bodies here are small JSON documents). */
export async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Reads a JSON body; an empty body is `{}`. Throws `BadJson` with a readable message otherwise. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readText(req);
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BadJson(`request body is not valid JSON: ${(error as Error).message}`);
  }
}

export class BadJson extends Error {
  override name = "BadJson";
}

/** Answers JSON; bigint values (Postgres int8) are written as numbers when safe, else as strings. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const text = JSON.stringify(body, (_key, value) =>
    typeof value === "bigint"
      ? value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
        ? Number(value)
        : value.toString()
      : value,
  );
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(text);
}

/** Splits `req.url` into a path and its query parameters. */
export function parseUrl(req: IncomingMessage): { path: string; query: URLSearchParams } {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  return { path: url.pathname, query: url.searchParams };
}

/**
 * A promise-chain mutex: `run(fn)` executes after every earlier `run` has settled.
 * PGlite is one connection, so a multi-statement script or a check-then-write must not interleave.
 */
export function createMutex() {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run<T>(fn: () => Promise<T>): Promise<T> {
      const result = tail.then(fn, fn);
      tail = result.catch(() => undefined);
      return result;
    },
  };
}
