/**
 * Typed errors with stable codes. Everything below the HTTP edge throws
 * these; only http-errors.ts turns them into status codes and bodies.
 * No message may ever carry an API key: messages are built from our own
 * words and the provider's error text, never from request headers.
 */
import type { ErrorClass } from './error-classes.ts';

export interface AttemptRecord {
  target: string;
  class: ErrorClass | 'ok';
  status: number | null;
}

export class LlmrouteError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LlmrouteError';
    this.code = code;
  }
}

/** The client's request cannot be served as sent (400). */
export class BadRequestError extends LlmrouteError {
  readonly param: string | null;
  constructor(message: string, param: string | null = null, code = 'invalid_request') {
    super(code, message);
    this.name = 'BadRequestError';
    this.param = param;
  }
}

/** The request body is larger than the limit (413). */
export class BodyTooLargeError extends LlmrouteError {
  readonly limitBytes: number;
  constructor(limitBytes: number) {
    super('request_too_large', `request body is larger than ${limitBytes} bytes`);
    this.name = 'BodyTooLargeError';
    this.limitBytes = limitBytes;
  }
}

/** No route has this name or alias (404). */
export class ModelNotFoundError extends LlmrouteError {
  readonly model: string;
  constructor(model: string) {
    super('model_not_found', `model '${model.slice(0, 200)}' is not a route or alias of this sidecar; GET /v1/models lists them`);
    this.name = 'ModelNotFoundError';
    this.model = model;
  }
}

/** No such endpoint (404) or wrong method (405). */
export class NotFoundError extends LlmrouteError {
  readonly method: string;
  readonly path: string;
  readonly allowed: string | undefined;
  constructor(method: string, path: string, allowed?: string) {
    const p = path.slice(0, 200);
    super(allowed ? 'method_not_allowed' : 'not_found', allowed ? `${method} is not allowed on ${p}; use ${allowed}` : `no endpoint ${method} ${p}`);
    this.name = 'NotFoundError';
    this.method = method;
    this.path = path;
    this.allowed = allowed;
  }
}

/** The sidecar is draining after SIGTERM and takes no new requests (503). */
export class DrainingError extends LlmrouteError {
  constructor() {
    super('draining', 'the sidecar is shutting down and takes no new requests');
    this.name = 'DrainingError';
  }
}

/**
 * The provider's answer goes back to the client as it is, in OpenAI's shape:
 * a bad request, or a class the route does not fall back on.
 */
export class UpstreamRejectedError extends LlmrouteError {
  readonly status: number;
  readonly type: string;
  readonly errorCode: string | null;
  readonly param: string | null;
  readonly attempts: AttemptRecord[];
  constructor(status: number, type: string, errorCode: string | null, message: string, param: string | null, attempts: AttemptRecord[]) {
    super('upstream_rejected', message);
    this.name = 'UpstreamRejectedError';
    this.status = status;
    this.type = type;
    this.errorCode = errorCode;
    this.param = param;
    this.attempts = attempts;
  }
}

/** Every target failed (429 when all were rate-limited, 504 on the total deadline, else 502). */
export class AllTargetsFailedError extends LlmrouteError {
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
    this.name = 'AllTargetsFailedError';
    this.route = route;
    this.attempts = attempts;
    this.reason = reason;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The config file is invalid (at start-up: exit 2; on reload: the last good one stays). */
export class ConfigError extends LlmrouteError {
  readonly problems: string[];
  readonly file: string | undefined;
  constructor(problems: string[], file?: string) {
    super('invalid_config', `${file ? `${file}: ` : ''}invalid config:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
    this.file = file;
  }
}
