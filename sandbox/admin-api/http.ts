/** The admin API's handler shape and its one error type (FastAPI-style `{detail}` bodies). */
import type { Warehouse, WarehouseDb } from "./warehouse.ts";

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface RouteContext {
  wh: Warehouse<WarehouseDb>;
  now: Date;
  body: Record<string, unknown>;
  query: URLSearchParams;
  params: Record<string, string>;
}

export type Route = (ctx: RouteContext) => Promise<Reply>;

/** An expected refusal: becomes `status` with `{detail, message}` (the real API is FastAPI). */
export class HttpError extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.headers = headers;
  }
}

export function ok(body: unknown): Reply {
  return { status: 200, body };
}

/** ISO date (UTC) of `d`. */
export function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** Reads an optional boolean body field, refusing anything that is not a boolean. */
export function flag(body: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const v = body[name];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "boolean")
    throw new HttpError(400, `body field ${name} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}
