import { LlmrouteError } from '../../common/errors.ts';
import { ERROR_TABLE } from './error-table.ts';
import { AllTargetsFailedError, BadRequestError, BodyTooLargeError, ClientClosedError, ConfigError, CredentialsError, DrainingError, ModelNotFoundError, NotFoundError, StreamFailedError, StreamIdleError, StoredResponseUnavailableError, UnsupportedRequestError, UpstreamAbortedError, UpstreamRejectedError, type SidecarError, type SidecarErrorCode } from './errors.ts';
import { errorResponse, sseErrorEvent } from './http-errors.ts';

const attempts = [{ target: 'a', class: 'server-error' as const, status: 500 }];

/** One row per code: an error that carries it, and what a client is told of it. */
const ROWS: Array<[SidecarErrorCode, SidecarError, number, string, { code?: string | null; param?: string | null; headers?: Record<string, string>; attempts?: boolean }]> = [
  ['invalid_request', new BadRequestError("'messages' must be a non-empty array", 'messages'), 400, 'invalid_request_error', { param: 'messages', headers: { 'x-should-retry': 'false' } }],
  ['invalid_body', new BadRequestError('the client aborted the request body', null, 'invalid_body'), 400, 'invalid_request_error', { headers: { 'x-should-retry': 'false' } }],
  ['invalid_json', new BadRequestError('the request body is empty; send a JSON object', null, 'invalid_json'), 400, 'invalid_request_error', { headers: { 'x-should-retry': 'false' } }],
  ['missing_model', new BadRequestError("'model' is required and must be a non-empty string", 'model', 'missing_model'), 400, 'invalid_request_error', { param: 'model', headers: { 'x-should-retry': 'false' } }],
  ['request_too_large', new BodyTooLargeError(10), 413, 'invalid_request_error', { headers: { 'x-should-retry': 'false' } }],
  ['model_not_found', new ModelNotFoundError('gpt-9'), 404, 'invalid_request_error', { param: 'model', headers: { 'x-should-retry': 'false' } }],
  ['not_found', new NotFoundError('GET', '/nope'), 404, 'invalid_request_error', { headers: { 'x-should-retry': 'false' } }],
  ['method_not_allowed', new NotFoundError('GET', '/v1/chat/completions', 'POST'), 405, 'invalid_request_error', { headers: { allow: 'POST', 'x-should-retry': 'false' } }],
  ['draining', new DrainingError(), 503, 'llmroute_unavailable', { headers: { 'retry-after': '1', connection: 'close', 'x-should-retry': 'true' } }],
  ['upstream_rejected', new UpstreamRejectedError(400, 'invalid_request_error', 'context_length_exceeded', 'too long', 'messages', attempts), 400, 'invalid_request_error', { code: 'context_length_exceeded', param: 'messages', attempts: true, headers: { 'x-should-retry': 'false' } }],
  ['unsupported_request', new UnsupportedRequestError('chat', attempts), 400, 'invalid_request_error', { code: 'unsupported_request', attempts: true, headers: { 'x-should-retry': 'false' } }],
  ['all_targets_failed', new AllTargetsFailedError('chat', attempts, 'failed'), 502, 'llmroute_all_targets_failed', { code: 'all_targets_failed', attempts: true, headers: { 'x-should-retry': 'false' } }],
  ['stream_error', new StreamFailedError('connection-error', 'the provider ended the stream early'), 502, 'llmroute_stream_error', { code: 'connection-error' }],
  ['stream_timeout', new StreamFailedError('timeout', 'the total deadline ran out'), 504, 'llmroute_stream_timeout', { code: 'timeout' }],
  ['client_closed', new ClientClosedError(), 500, 'llmroute_internal_error', {}],
  ['invalid_config', new ConfigError(['bad'], '/etc/llmroute.yaml'), 500, 'llmroute_internal_error', {}],
  ['UND_ERR_ABORTED', new UpstreamAbortedError('the request was aborted', 'deadline'), 500, 'llmroute_internal_error', {}],
  ['credentials_unavailable', new CredentialsError('no AWS credentials for bedrock'), 500, 'llmroute_internal_error', {}],
  ['stored_response_unavailable', new StoredResponseUnavailableError("target 'gpt' of route 'r' could not be reached"), 502, 'llmroute_upstream_unavailable', { headers: { 'x-should-retry': 'true' } }],
  ['stream_idle', new StreamIdleError(30_000, 'the stream stalled longer than the idle timeout (30s)'), 500, 'llmroute_internal_error', {}],
];

describe('the error table', () => {
  it('has a row for every code, and every code has an example here', () => {
    expect(ROWS.map(([code]) => code).sort()).toEqual(Object.keys(ERROR_TABLE).sort());
  });

  it.each(ROWS)('%s: its status, type and fields', (code, err, status, type, o) => {
    expect(err).toBeInstanceOf(LlmrouteError);
    expect(err.code).toBe(code);
    expect(err.name).toBe(err.constructor.name);
    const r = errorResponse(err);
    expect(r.status).toBe(status);
    expect(r.headers).toEqual(o.headers ?? {});
    expect(r.body).toEqual({
      error: { message: err.message, type, code: o.code === undefined ? code : o.code, param: o.param ?? null, ...(o.attempts ? { attempts } : {}) },
    });
    // As an SSE event: the same fields, without the attempts.
    expect(sseErrorEvent(err)).toBe(`data: ${JSON.stringify({ error: { message: err.message, type, code: o.code === undefined ? code : o.code, param: o.param ?? null } })}\n\n`);
  });

  it('all targets failed: 429 with Retry-After when all were rate-limited, 504 on the deadline', () => {
    expect(errorResponse(new AllTargetsFailedError('chat', attempts, 'rate-limited', 7))).toMatchObject({ status: 429, headers: { 'retry-after': '7', 'x-should-retry': 'true' }, body: { error: { code: 'rate_limited' } } });
    expect(errorResponse(new AllTargetsFailedError('chat', attempts, 'rate-limited')).headers).toEqual({ 'x-should-retry': 'true' });
    expect(errorResponse(new AllTargetsFailedError('chat', [], 'deadline'))).toMatchObject({ status: 504, headers: { 'x-should-retry': 'false' }, body: { error: { code: 'deadline_exceeded' } } });
  });

  it("x-should-retry: false where the client's retry would repeat the sidecar's tries; a 429 passed back is left to the SDK", () => {
    expect(errorResponse(new UpstreamRejectedError(503, 'server_error', null, 'down', null, attempts)).headers).toEqual({ 'x-should-retry': 'false' });
    expect(errorResponse(new UpstreamRejectedError(429, 'requests', 'rate_limit_exceeded', 'slow down', null, attempts)).headers).toEqual({});
    // A stream's error event has no headers; an internal error keeps the SDK's own rules.
    expect(errorResponse(new StreamFailedError('timeout', 'x')).headers).toEqual({});
    expect(errorResponse(new Error('bug')).headers).toEqual({});
  });

  it("an upstream rejection without an error status is a 502; the provider's stream error event keeps its fields", () => {
    expect(errorResponse(new UpstreamRejectedError(200, 'server_error', null, 'odd', null, [])).status).toBe(502);
    const overloaded = new UpstreamRejectedError(529, 'overloaded_error', 'overloaded', 'Overloaded', null, []);
    expect(sseErrorEvent(overloaded)).toBe('data: {"error":{"message":"Overloaded","type":"overloaded_error","code":"overloaded","param":null}}\n\n');
  });

  it('a stream that broke says so in its message', () => {
    expect(sseErrorEvent(new StreamFailedError('timeout', 'the total deadline ran out'))).toBe(
      'data: {"error":{"message":"the total deadline ran out after the stream started","type":"llmroute_stream_timeout","code":"timeout","param":null}}\n\n',
    );
  });

  it('an error that is not one of ours, or of ours with a code the sidecar does not use, says nothing of its insides', () => {
    const internal = { status: 500, headers: {}, body: { error: { message: 'internal error', type: 'llmroute_internal_error', code: 'internal_error', param: null } } };
    expect(errorResponse(Object.assign(new Error('sk-123'), { code: 'not_found' }))).toEqual(internal);
    expect(errorResponse(new LlmrouteError('usage', 'bad flag'))).toEqual(internal);
    expect(errorResponse('thrown string')).toEqual(internal);
  });
});
