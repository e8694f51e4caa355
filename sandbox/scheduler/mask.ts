/**
 * Cloud Scheduler's updateJob field mask: each path (camelCase or snake_case segments, dot-separated) names
 * one field, possibly nested, and only that field is replaced; its siblings keep their values. So
 * `retry_config.retry_count` leaves a 30s minBackoffDuration alone, and `httpTarget.headers` changes the
 * headers of a target whose uri the request does not repeat.
 */
import { invalid } from "../http/errors.ts";
import { camel } from "./model.ts";

type Shape = { [field: string]: Shape | true };

/** The writable fields and, for messages, their sub-fields (google.cloud.scheduler.v1.Job). */
const FIELDS: Shape = {
  description: true,
  schedule: true,
  timeZone: true,
  attemptDeadline: true,
  httpTarget: {
    uri: true,
    httpMethod: true,
    headers: true,
    body: true,
    oauthToken: { serviceAccountEmail: true, scope: true },
    oidcToken: { serviceAccountEmail: true, audience: true },
  },
  retryConfig: {
    retryCount: true,
    maxRetryDuration: true,
    minBackoffDuration: true,
    maxBackoffDuration: true,
    maxDoublings: true,
  },
};
/** Members of a oneof: setting one clears the others (httpTarget's authorization_header). */
const ONEOF: Record<string, string> = { oauthToken: "oidcToken", oidcToken: "oauthToken" };

type Doc = Record<string, unknown>;
const isDoc = (v: unknown): v is Doc => typeof v === "object" && v !== null && !Array.isArray(v);

/** Splits and checks one mask path; returns its camelCase segments. */
function segments(path: string): string[] {
  const parts = path.trim().split(".").map(camel);
  let shape: Shape | true = FIELDS;
  for (const part of parts) {
    if (shape === true || !Object.hasOwn(shape, part))
      throw invalid(
        `updateMask path ${JSON.stringify(path.trim())} does not name a writable field of the job (top level: ${Object.keys(FIELDS).join(", ")}; nested like retryConfig.retryCount or httpTarget.headers)`,
      );
    shape = shape[part] as Shape | true;
  }
  return parts;
}

/**
 * The job after applying `body` at each mask path (a path the body leaves out is cleared, so it gets its
 * default). Without a mask, every top-level field the body sets is replaced.
 * @example applyMask(job, { retryConfig: { retryCount: 2 } }, "retry_config.retry_count")
 */
export function applyMask(previous: Doc, body: Doc, mask: string | null): Doc {
  const next = structuredClone(previous);
  const paths = mask
    ? mask
        .split(",")
        .filter((p) => p.trim())
        .map(segments)
    : Object.keys(body)
        .filter((key) => Object.hasOwn(FIELDS, key))
        .map((key) => [key]);
  for (const path of paths) {
    let from: unknown = body;
    let into: Doc = next;
    for (const [i, key] of path.entries()) {
      from = isDoc(from) ? from[key] : undefined;
      if (i === path.length - 1) break;
      if (!isDoc(into[key])) into[key] = {};
      into = into[key] as Doc;
    }
    const last = path.at(-1) as string;
    if (from === undefined || from === null) delete into[last];
    else {
      into[last] = structuredClone(from);
      const other = ONEOF[last];
      if (other && path.length === 2) delete into[other];
    }
  }
  return next;
}
