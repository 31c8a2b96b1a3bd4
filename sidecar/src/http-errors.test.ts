import { AllTargetsFailedError, BadRequestError, BodyTooLargeError, DrainingError, ModelNotFoundError, NotFoundError, UpstreamRejectedError } from './errors.ts';
import { errorResponse } from './http-errors.ts';

const attempts = [{ target: 'a', class: 'rate-limit' as const, status: 429 }];

describe('errorResponse: typed errors to HTTP, only here', () => {
  it('all targets rate-limited → 429 with Retry-After and the attempts', () => {
    const r = errorResponse(new AllTargetsFailedError('chat', attempts, 'rate-limited', 7));
    expect(r.status).toBe(429);
    expect(r.headers['retry-after']).toBe('7');
    expect(r.body.error).toMatchObject({ type: 'llmroute_all_targets_failed', attempts });
  });
  it('total deadline → 504', () => expect(errorResponse(new AllTargetsFailedError('chat', [], 'deadline')).status).toBe(504));
  it('otherwise → 502', () => expect(errorResponse(new AllTargetsFailedError('chat', [], 'failed')).status).toBe(502));
  it('an upstream rejection keeps its status and OpenAI fields', () => {
    const r = errorResponse(new UpstreamRejectedError(400, 'invalid_request_error', 'context_length_exceeded', 'too long', 'messages', []));
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ message: 'too long', type: 'invalid_request_error', code: 'context_length_exceeded', param: 'messages' });
  });
  it('unknown model → 404 model_not_found', () => {
    const r = errorResponse(new ModelNotFoundError('gpt-9'));
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('model_not_found');
  });
  it('bad request → 400, too large → 413, wrong method → 405 with Allow, draining → 503', () => {
    expect(errorResponse(new BadRequestError('x', 'model')).status).toBe(400);
    expect(errorResponse(new BodyTooLargeError(10)).status).toBe(413);
    const m = errorResponse(new NotFoundError('GET', '/v1/chat/completions', 'POST'));
    expect(m.status).toBe(405);
    expect(m.headers.allow).toBe('POST');
    expect(errorResponse(new NotFoundError('GET', '/nope')).status).toBe(404);
    expect(errorResponse(new DrainingError()).status).toBe(503);
  });
  it('an unknown error is a 500 that says nothing of its insides', () => {
    const r = errorResponse(new Error('secret internals sk-123'));
    expect(r.status).toBe(500);
    expect(JSON.stringify(r.body)).not.toContain('sk-123');
  });
});
