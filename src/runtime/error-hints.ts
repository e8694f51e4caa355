/**
 * The likely cause and the fix of a failure a person can act on, read from the error codes Node and
 * OpenSSL put on it (anywhere in its `cause` chain): nothing listening, a name that does not resolve, TLS
 * spoken to a plain-HTTP port. Used for the short lines on a terminal (logger.ts) and by the operators' CLI.
 *
 * @example
 * hintFor(new Error("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED", address: "127.0.0.1", port: 9 }) }))
 * // "nothing listens at 127.0.0.1:9 (connection refused): start that server, or point the URL at where it runs"
 */

interface Coded {
  code?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
  message?: unknown;
  cause?: unknown;
}

/** Every error of the chain, outermost first (bounded: causes can be cyclic). */
export function errorChain(error: unknown): Coded[] {
  const chain: Coded[] = [];
  let current: unknown = error;
  while (current && typeof current === "object" && chain.length < 8 && !chain.includes(current as Coded)) {
    chain.push(current as Coded);
    current = (current as Coded).cause;
  }
  return chain;
}

const TLS_CODES = new Set([
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "ERR_SSL_PACKET_LENGTH_TOO_LONG",
  "ERR_SSL_HTTP_REQUEST",
  "EPROTO",
]);
const DNS_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_NONAME", "EAI_FAIL"]);

/** `host:port` from the error itself, or from a URL in its message. */
function whereOf(chain: Coded[]): string | null {
  for (const e of chain) {
    if (typeof e.address === "string") return e.port ? `${e.address}:${e.port}` : e.address;
    if (typeof e.hostname === "string") return e.hostname;
  }
  for (const e of chain) {
    const url = typeof e.message === "string" ? /\bhttps?:\/\/([\w.-]+(?::\d+)?)/.exec(e.message) : null;
    if (url?.[1]) return url[1];
  }
  return null;
}

/**
 * One sentence: the likely cause and the fix, or null when the error is not one of the known kinds.
 * `service` names what was being reached (e.g. "the sandbox"), `start` the command that starts it.
 */
export function hintFor(error: unknown, options: { service?: string; start?: string } = {}): string | null {
  const chain = errorChain(error);
  const codes = chain.map((e) => (typeof e.code === "string" ? e.code : ""));
  const text = chain.map((e) => (typeof e.message === "string" ? e.message : "")).join(" ");
  const at = whereOf(chain);
  const where = at ?? "the server";
  const start = options.start ? `start it: ${options.start}` : "start that server";
  if (codes.includes("ECONNREFUSED") || /\bECONNREFUSED\b/.test(text)) {
    const what = options.service
      ? `${options.service} is not running${at ? ` at ${at}` : ""}`
      : `nothing listens at ${where}`;
    return `${what} (connection refused): ${start}, or point the URL at where it runs`;
  }
  if (codes.some((c) => DNS_CODES.has(c)) || /\b(ENOTFOUND|EAI_AGAIN)\b/.test(text)) {
    const temporary = codes.includes("EAI_AGAIN") || /\bEAI_AGAIN\b/.test(text);
    return temporary
      ? `the name ${at ?? "of the server"} could not be resolved right now (DNS lookup timed out): check the network or DNS, then retry`
      : `the host name ${at ?? "of the server"} does not exist (DNS lookup failed): check the URL for a typo`;
  }
  if (
    codes.some((c) => TLS_CODES.has(c)) ||
    /wrong version number|packet length too long|http request/i.test(text)
  ) {
    return `${at ? `the server at ${at}` : "the server"} answered TLS with plain HTTP: use http:// for a local or plain-HTTP server, or the server's HTTPS port`;
  }
  if (codes.includes("ETIMEDOUT") || codes.includes("UND_ERR_CONNECT_TIMEOUT")) {
    return `${where} did not answer in time (connect timeout): check that it is up and reachable from here (firewall, VPN)`;
  }
  if (codes.includes("ECONNRESET") || codes.includes("UND_ERR_SOCKET")) {
    return `${where} closed the connection: it may have restarted or crashed; a retry usually succeeds`;
  }
  return null;
}

/**
 * An error message fit for one terminal line: OpenSSL's raw record ("408D…:error:0A00010B:SSL
 * routines:…:wrong version number:…/tlsany_meth.c:77:") becomes "TLS error: wrong version number", and
 * line breaks become spaces.
 *
 * @example plainMessage("Request failed: GET https://x:1/: 40:error:0A00010B:SSL routines:f:wrong version number:a.c:7:\n")
 * // "Request failed: GET https://x:1/: TLS error: wrong version number"
 */
export function plainMessage(message: string): string {
  return message
    .replace(/[0-9A-F]{6,}:error:[0-9A-F]+:SSL routines:[^:]*:([^:]+):\S*/g, "TLS error: $1")
    .replace(/\s*\n\s*/g, " ")
    .trim();
}
