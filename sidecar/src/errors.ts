/**
 * The sidecar's typed errors, each with a stable code from SidecarErrorCode.
 * Everything below the HTTP edge throws these; error-table.ts says how each
 * code reaches a client and http-errors.ts writes it. No message may ever
 * carry an API key: messages are built from our own words and the
 * provider's error text, never from request headers.
 */
import { LlmrouteError } from '../../common/errors.ts';
import type { ErrorClass } from './error-classes.ts';

/** The codes of BadRequestError: the client's request as sent cannot be served. */
export type BadRequestCode = 'invalid_request' | 'invalid_body' | 'invalid_json' | 'missing_model';

/** Every code a sidecar error carries; error-table.ts has one row for each. */
export type SidecarErrorCode =
  | BadRequestCode
  | 'request_too_large'
  | 'model_not_found'
  | 'not_found'
  | 'method_not_allowed'
  | 'draining'
  | 'upstream_rejected'
  | 'all_targets_failed'
  | 'unsupported_request'
  | 'stream_error'
  | 'stream_timeout'
  | 'client_closed'
  | 'invalid_config'
  | 'stream_idle'
  | 'credentials_unavailable'
  | 'stored_response_unavailable'
  // undici's own code for an aborted request: ours stands in for it, and the transport's errors are read by code.
  | 'UND_ERR_ABORTED';

export interface AttemptRecord {
  target: string;
  /**
   * `unsupported`: the target was skipped, it cannot serve this request (`detail` says why); no upstream call.
   * `hedged-out`: a try of a hedged request that another try beat to its commit point; it was aborted (README, "Hedged requests").
   */
  class: ErrorClass | 'ok' | 'unsupported' | 'hedged-out';
  status: number | null;
  detail?: string;
}

/** The client's request cannot be served as sent (400). */
export class BadRequestError extends LlmrouteError<BadRequestCode> {
  readonly param: string | null;
  constructor(message: string, param: string | null = null, code: BadRequestCode = 'invalid_request') {
    super(code, message);
    this.param = param;
  }
}

/**
 * The request body is larger than the limit (413): the route's
 * maxRequestBody when the route is known, else the largest of any route
 * (what is read before the model is known).
 */
export class BodyTooLargeError extends LlmrouteError<'request_too_large'> {
  readonly limitBytes: number;
  readonly route: string | undefined;
  constructor(limitBytes: number, route?: string) {
    super(
      'request_too_large',
      route === undefined
        ? `request body is larger than ${sizeText(limitBytes)}, the largest maxRequestBody of this sidecar's routes`
        : `request body is larger than ${sizeText(limitBytes)}, the maxRequestBody of route '${route}'`,
    );
    this.limitBytes = limitBytes;
    this.route = route;
  }
}

/** `32Mi (33554432 bytes)`, or `1000 bytes`. */
function sizeText(bytes: number): string {
  for (const [unit, size] of [['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit} (${bytes} bytes)`;
  }
  return `${bytes} bytes`;
}

/** No route has this name or alias (404). */
export class ModelNotFoundError extends LlmrouteError<'model_not_found'> {
  readonly model: string;
  constructor(model: string) {
    super('model_not_found', `model '${model.slice(0, 200)}' is not a route or alias of this sidecar; GET /v1/models lists them`);
    this.model = model;
  }
}

/** No such endpoint (404) or wrong method (405). */
export class NotFoundError extends LlmrouteError<'not_found' | 'method_not_allowed'> {
  readonly method: string;
  readonly path: string;
  readonly allowed: string | undefined;
  constructor(method: string, path: string, allowed?: string, message?: string) {
    const p = path.slice(0, 200);
    super(allowed ? 'method_not_allowed' : 'not_found', message ?? (allowed ? `${method} is not allowed on ${p}; use ${allowed}` : `no endpoint ${method} ${p}`));
    this.method = method;
    this.path = path;
    this.allowed = allowed;
  }
}

/** The sidecar is draining after SIGTERM and takes no new requests (503). */
export class DrainingError extends LlmrouteError<'draining'> {
  constructor() {
    super('draining', 'the sidecar is shutting down and takes no new requests');
  }
}

/**
 * The provider's answer goes back to the client as it is, in OpenAI's shape:
 * a bad request, or a class the route does not fall back on; or, inside a
 * committed stream, the provider's error event.
 */
export class UpstreamRejectedError extends LlmrouteError<'upstream_rejected'> {
  readonly status: number;
  readonly type: string;
  readonly errorCode: string | null;
  readonly param: string | null;
  readonly attempts: AttemptRecord[];
  constructor(status: number, type: string, errorCode: string | null, message: string, param: string | null, attempts: AttemptRecord[]) {
    super('upstream_rejected', message);
    this.status = status;
    this.type = type;
    this.errorCode = errorCode;
    this.param = param;
    this.attempts = attempts;
  }
}

/** Every target failed (429 when all were rate-limited, 504 on the total deadline, else 502). */
export class AllTargetsFailedError extends LlmrouteError<'all_targets_failed'> {
  readonly route: string;
  readonly attempts: AttemptRecord[];
  readonly reason: 'rate-limited' | 'deadline' | 'failed';
  /** Seconds until the soonest rate-limited target cools down (for Retry-After). */
  readonly retryAfterSeconds: number | undefined;
  constructor(route: string, attempts: AttemptRecord[], reason: 'rate-limited' | 'deadline' | 'failed', retryAfterSeconds?: number) {
    super(
      'all_targets_failed',
      reason === 'deadline'
        ? `route '${route}': the total deadline ran out after ${attempts.length} attempt(s)`
        : reason === 'rate-limited'
          ? `route '${route}': every target is rate-limited`
          : `route '${route}': every target failed (${attempts.length} attempt(s))`,
    );
    this.route = route;
    this.attempts = attempts;
    this.reason = reason;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * No target of the route can serve the request as sent (400): each of them
 * lacks a feature it uses (an OpenAI built-in tool on a route of Anthropic
 * targets, say). The attempts list names each target and what it lacks.
 */
export class UnsupportedRequestError extends LlmrouteError<'unsupported_request'> {
  readonly route: string;
  readonly attempts: AttemptRecord[];
  constructor(route: string, attempts: AttemptRecord[]) {
    const reasons = [...new Set(attempts.map((a) => a.detail ?? 'unsupported'))];
    super('unsupported_request', `route '${route}' has no target that can serve this request: ${reasons.join('; ')} (targets: ${attempts.map((a) => a.target).join(', ')})`);
    this.route = route;
    this.attempts = attempts;
  }
}

/**
 * A committed stream broke (the upstream failed, stalled or the total
 * deadline ran out): its client gets this as the last SSE event, and no
 * [DONE]. The message says so; `errorClass` is the event's code.
 */
export class StreamFailedError extends LlmrouteError<'stream_error' | 'stream_timeout'> {
  readonly errorClass: ErrorClass;
  constructor(errorClass: ErrorClass, message: string) {
    super(errorClass === 'timeout' ? 'stream_timeout' : 'stream_error', `${message} after the stream started`);
    this.errorClass = errorClass;
  }
}

/** The client went away before an answer: nothing is sent (counted as 499). */
export class ClientClosedError extends LlmrouteError<'client_closed'> {
  constructor() {
    super('client_closed', 'the client closed the connection');
  }
}

/**
 * We aborted an upstream exchange (the request's signal, a body over its
 * limit, a stream its reader closed). `cause` is the signal's reason when
 * there was one. The code is undici's, as undici's own aborts carry it.
 */
export class UpstreamAbortedError extends LlmrouteError<'UND_ERR_ABORTED'> {
  constructor(message: string, cause?: unknown) {
    super('UND_ERR_ABORTED', message, cause === undefined ? undefined : { cause });
  }
}

/**
 * A committed stream sent nothing for longer than the route's idle timeout (StreamSession's
 * watch; before the commit point the gaps are bounded by firstContent instead).
 */
export class StreamIdleError extends LlmrouteError<'stream_idle'> {
  readonly idleMs: number;
  constructor(idleMs: number, message: string) {
    super('stream_idle', message);
    this.idleMs = idleMs;
  }
}

/**
 * A target's credentials could not be had (bedrock: no Secret and nothing in the pod's AWS
 * credential chain, or the chain's endpoint failed). The attempt counts it as an `auth` failure
 * of that target. The message names the source, never a credential.
 */
export class CredentialsError extends LlmrouteError<'credentials_unavailable'> {
  constructor(message: string, cause?: unknown) {
    super('credentials_unavailable', message, cause === undefined ? undefined : { cause });
  }
}

/**
 * A request about a stored response (GET, DELETE, POST …/cancel of
 * /v1/responses/{id}) that only the native target holding it can answer
 * rightly, and that target could not be reached or answered 5xx or 429 (502,
 * or 429 when the target said so): a background response's status in the
 * sidecar's store would be stale; a delete went through locally but not at the
 * provider. The message names the target and route, never a key.
 */
export class StoredResponseUnavailableError extends LlmrouteError<'stored_response_unavailable'> {
  readonly status: number;
  constructor(message: string, status = 502) {
    super('stored_response_unavailable', message);
    this.status = status;
  }
}

/** The config file is invalid (at start-up: exit 2; on reload: the last good one stays). */
export class ConfigError extends LlmrouteError<'invalid_config'> {
  readonly problems: string[];
  readonly file: string | undefined;
  constructor(problems: string[], file?: string) {
    super('invalid_config', `${file ? `${file}: ` : ''}invalid config:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
    this.file = file;
  }
}

/** Every error class of the sidecar, one per row group of error-table.ts. */
export type SidecarError =
  | BadRequestError
  | BodyTooLargeError
  | ModelNotFoundError
  | NotFoundError
  | DrainingError
  | UpstreamRejectedError
  | AllTargetsFailedError
  | UnsupportedRequestError
  | StreamFailedError
  | ClientClosedError
  | UpstreamAbortedError
  | StreamIdleError
  | CredentialsError
  | StoredResponseUnavailableError
  | ConfigError;
