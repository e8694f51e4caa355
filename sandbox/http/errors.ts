/**
 * Google-style API errors: `{error:{code,message,status}}` with the matching HTTP status, which is what the
 * REST transport of the `@google-cloud/*` clients turns into a GoogleError with the gRPC code.
 */

/** gRPC status names and the HTTP status Google maps each to. */
export const STATUS_HTTP = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  ABORTED: 409,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNIMPLEMENTED: 501,
  UNAVAILABLE: 503,
} as const;
export type GoogleStatus = keyof typeof STATUS_HTTP;

/**
 * An error the emulators answer with.
 * @example throw new ApiError("NOT_FOUND", `Job ${name} not found; create it first`);
 */
export class ApiError extends Error {
  readonly status: GoogleStatus;
  readonly httpStatus: number;
  constructor(status: GoogleStatus, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.httpStatus = STATUS_HTTP[status];
  }

  toJSON(): { error: { code: number; message: string; status: string } } {
    return { error: { code: this.httpStatus, message: this.message, status: this.status } };
  }
}

export const invalid = (message: string): ApiError => new ApiError("INVALID_ARGUMENT", message);
export const notFound = (message: string): ApiError => new ApiError("NOT_FOUND", message);
