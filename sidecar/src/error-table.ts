/**
 * How each sidecar error code reaches a client, one row per code: the HTTP
 * status when the error is the whole answer, OpenAI's error.type, and the
 * rest of the `{"error": {message, type, code, param}}` object. The same
 * object is the body of an error response (with `attempts`, where a row has
 * them) and the last SSE event of a stream that broke after its commit
 * point (without). http-errors.ts writes both from here; no other code
 * decides a status or an error type.
 *
 * `retry` is what `x-should-retry` tells the client's SDK (the openai and
 * anthropic SDKs obey it before their own status rules): false when the
 * sidecar has already made every try its route allows, or when the request
 * itself is at fault, so an SDK's own retries do not multiply the upstream
 * load; true (with Retry-After) when a later try can succeed.
 */
import { LlmrouteError } from '../../common/errors.ts';
import type { AttemptRecord, SidecarError, SidecarErrorCode } from './errors.ts';

/** The error class that carries `C`. */
export type ErrorWithCode<C extends SidecarErrorCode> = SidecarError extends infer E ? (E extends { code: infer K } ? (C extends K ? E : never) : never) : never;

export interface ErrorRow<E> {
  /** The HTTP status when the error is the whole answer. */
  status: number | ((err: E) => number);
  /** OpenAI's error.type. */
  type: string | ((err: E) => string);
  /** error.code when it is not the error's own code. */
  code?: (err: E) => string | null;
  /** error.param; null when the row has none. */
  param?: (err: E) => string | null;
  /** Headers of the error response beyond its content headers. */
  headers?: (err: E) => Record<string, string>;
  /** error.attempts, in a response body (an SSE event has none). */
  attempts?: (err: E) => AttemptRecord[];
  /** `x-should-retry`: whether another try from the client can help; undefined sends no header (the SDK decides). */
  retry?: boolean | ((err: E) => boolean | undefined);
}

const INVALID_REQUEST = 'invalid_request_error';
const INTERNAL = 'llmroute_internal_error';

const badRequest: ErrorRow<ErrorWithCode<'invalid_request'>> = { status: 400, type: INVALID_REQUEST, param: (e) => e.param, retry: false };

export const ERROR_TABLE: { readonly [C in SidecarErrorCode]: ErrorRow<ErrorWithCode<C>> } = {
  invalid_request: badRequest,
  invalid_body: badRequest,
  invalid_json: badRequest,
  missing_model: badRequest,
  request_too_large: { status: 413, type: INVALID_REQUEST, retry: false },
  model_not_found: { status: 404, type: INVALID_REQUEST, param: () => 'model', retry: false },
  not_found: { status: 404, type: INVALID_REQUEST, retry: false },
  method_not_allowed: { status: 405, type: INVALID_REQUEST, headers: (e) => ({ allow: e.allowed ?? '' }), retry: false },
  // Another sidecar (the pod's replacement) or this one after a restart will take it.
  draining: { status: 503, type: 'llmroute_unavailable', headers: () => ({ 'retry-after': '1', connection: 'close' }), retry: true },
  // The provider's own answer: its status (when it is an error status), type, code and param.
  upstream_rejected: {
    status: (e) => (e.status >= 400 && e.status < 600 ? e.status : 502),
    type: (e) => e.type,
    code: (e) => e.errorCode,
    param: (e) => e.param,
    attempts: (e) => e.attempts,
    // The route's own retries are spent; a 429 the route does not fall back on is the SDK's to wait out.
    retry: (e) => (e.status === 429 ? undefined : false),
  },
  all_targets_failed: {
    status: (e) => (e.reason === 'rate-limited' ? 429 : e.reason === 'deadline' ? 504 : 502),
    type: 'llmroute_all_targets_failed',
    code: (e) => (e.reason === 'deadline' ? 'deadline_exceeded' : e.reason === 'rate-limited' ? 'rate_limited' : 'all_targets_failed'),
    headers: (e): Record<string, string> => (e.reason === 'rate-limited' && e.retryAfterSeconds ? { 'retry-after': String(e.retryAfterSeconds) } : {}),
    attempts: (e) => e.attempts,
    // Every target failed or the deadline ran out: a client's retry would repeat every try. Rate limits lift.
    retry: (e) => e.reason === 'rate-limited',
  },
  unsupported_request: { status: 400, type: INVALID_REQUEST, code: () => 'unsupported_request', attempts: (e) => e.attempts, retry: false },
  // Written as SSE events once a stream has begun, so their statuses are never sent; the event's code is the error class.
  stream_error: { status: 502, type: 'llmroute_stream_error', code: (e) => e.errorClass },
  stream_timeout: { status: 504, type: 'llmroute_stream_timeout', code: (e) => e.errorClass },
  // Never a client's answer: no client is left, a config error stays in the process, an abort is read by the caller.
  client_closed: { status: 500, type: INTERNAL },
  invalid_config: { status: 500, type: INTERNAL },
  UND_ERR_ABORTED: { status: 500, type: INTERNAL },
  // The provider's copy is the only right answer and it could not be had: a later try may reach it.
  stored_response_unavailable: { status: (e) => e.status, type: 'llmroute_upstream_unavailable', code: (e) => (e.status === 429 ? 'rate_limited' : 'stored_response_unavailable'), retry: true },
  // Read by the attempt, which counts it as an auth failure of the target.
  credentials_unavailable: { status: 500, type: INTERNAL },
  // Read by the relay, which ends the stream with a stream_timeout event.
  stream_idle: { status: 500, type: INTERNAL },
};

/** What a client is told of an error that is not one of ours: nothing of its insides. */
export const NOT_OURS = { status: 500, message: 'internal error', type: INTERNAL, code: 'internal_error' } as const;

/** The row of a sidecar error, or undefined for anything else. */
export function errorRow(err: unknown): ErrorRow<SidecarError> | undefined {
  if (!(err instanceof LlmrouteError) || !Object.hasOwn(ERROR_TABLE, err.code)) return undefined;
  // A code names its class (SidecarErrorCode), so the row's accessors fit the error.
  return ERROR_TABLE[err.code as SidecarErrorCode] as ErrorRow<SidecarError>;
}
