/**
 * The edge: turns typed errors into HTTP statuses and OpenAI-shaped error
 * bodies ({"error": {"message", "type", "code", "param"}}). Nothing else
 * decides a status code.
 */
import {
  AllTargetsFailedError,
  BadRequestError,
  BodyTooLargeError,
  DrainingError,
  LlmrouteError,
  ModelNotFoundError,
  NotFoundError,
  UpstreamRejectedError,
} from './errors.ts';

export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: { error: Record<string, unknown> };
}

export function errorResponse(err: unknown): ErrorResponse {
  if (err instanceof AllTargetsFailedError) {
    const status = err.reason === 'rate-limited' ? 429 : err.reason === 'deadline' ? 504 : 502;
    return {
      status,
      headers: err.reason === 'rate-limited' && err.retryAfterSeconds ? { 'retry-after': String(err.retryAfterSeconds) } : {},
      body: { error: { message: err.message, type: 'llmroute_all_targets_failed', code: err.reason === 'deadline' ? 'deadline_exceeded' : err.reason === 'rate-limited' ? 'rate_limited' : 'all_targets_failed', param: null, attempts: err.attempts } },
    };
  }
  if (err instanceof UpstreamRejectedError) {
    return {
      status: err.status >= 400 && err.status < 600 ? err.status : 502,
      headers: {},
      body: { error: { message: err.message, type: err.type, code: err.errorCode, param: err.param, attempts: err.attempts } },
    };
  }
  if (err instanceof ModelNotFoundError) return simple(404, err, 'invalid_request_error', 'model');
  if (err instanceof BadRequestError) return simple(400, err, 'invalid_request_error', err.param);
  if (err instanceof BodyTooLargeError) return simple(413, err, 'invalid_request_error', null);
  if (err instanceof NotFoundError) {
    const r = simple(err.allowed ? 405 : 404, err, 'invalid_request_error', null);
    if (err.allowed) r.headers.allow = err.allowed;
    return r;
  }
  if (err instanceof DrainingError) return { ...simple(503, err, 'llmroute_unavailable', null), headers: { 'retry-after': '1', connection: 'close' } };
  if (err instanceof LlmrouteError) return simple(500, err, 'llmroute_internal_error', null);
  return { status: 500, headers: {}, body: { error: { message: 'internal error', type: 'llmroute_internal_error', code: 'internal_error', param: null } } };
}

function simple(status: number, err: LlmrouteError, type: string, param: string | null): ErrorResponse {
  return { status, headers: {}, body: { error: { message: err.message, type, code: err.code, param } } };
}
