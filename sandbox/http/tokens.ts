/**
 * The bearer tokens the emulated Cloud Scheduler sends, and how the emulated Google APIs judge them.
 *
 * Why: on Google, a scheduler job with `oidcToken` sends an identity token, which `*.googleapis.com` refuses
 * (401: it wants an OAuth access token); one with `oauthToken` sends an access token for its `scope`, which
 * run.googleapis.com accepts only for cloud-platform (403 otherwise). The tokens below carry just enough to
 * tell these apart, so a trigger provisioned the wrong way fails in the sandbox as it would on Google.
 * A request with no Authorization header is accepted: the sandbox's own clients use pass-through auth.
 */
import { ApiError } from "./errors.ts";

export const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";
/** What a job with `oidcToken` sends (an identity token: not for Google APIs). */
export const OIDC_TOKEN = "sandbox-oidc-token";
/** What a job with `oauthToken` sends for the cloud-platform scope (Scheduler's default scope). */
export const OAUTH_TOKEN = "sandbox-oauth-token";

/**
 * The Authorization header Cloud Scheduler sends for a target, or undefined when it sends none.
 * @example schedulerAuthorization({ oauthToken: {} }) // "Bearer sandbox-oauth-token"
 */
export function schedulerAuthorization(target: {
  oauthToken?: { scope?: string };
  oidcToken?: unknown;
}): string | undefined {
  if (target.oauthToken) {
    const scope = target.oauthToken.scope || CLOUD_PLATFORM_SCOPE;
    // Another scope rides along in the token (base64url), so the API can refuse it.
    return scope === CLOUD_PLATFORM_SCOPE
      ? `Bearer ${OAUTH_TOKEN}`
      : `Bearer ${OAUTH_TOKEN}.${Buffer.from(scope).toString("base64url")}`;
  }
  if (target.oidcToken) return `Bearer ${OIDC_TOKEN}`;
  return undefined;
}

/**
 * Throws the error a Google API answers for a token it does not take (see the file comment).
 * @example requireGoogleApiToken(req.headers.authorization) // throws UNAUTHENTICATED for an OIDC token
 */
export function requireGoogleApiToken(authorization: string | undefined): void {
  if (!authorization) return;
  const token = authorization.replace(/^Bearer\s+/i, "");
  if (token === OIDC_TOKEN)
    throw new ApiError(
      "UNAUTHENTICATED",
      "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential: the caller sent an OIDC identity token; give the Cloud Scheduler job an oauthToken (scope https://www.googleapis.com/auth/cloud-platform) instead of an oidcToken",
    );
  if (token.startsWith(`${OAUTH_TOKEN}.`)) {
    const scope = Buffer.from(token.slice(OAUTH_TOKEN.length + 1), "base64url").toString();
    throw new ApiError(
      "PERMISSION_DENIED",
      `Request had insufficient authentication scopes (ACCESS_TOKEN_SCOPE_INSUFFICIENT): the OAuth token has scope ${JSON.stringify(scope)}; set the Cloud Scheduler job's oauthToken.scope to ${CLOUD_PLATFORM_SCOPE}`,
    );
  }
}
