import { describe, expect, it } from '@jest/globals';
import { errorResponse } from '../../http-errors.ts';
import { AllTargetsFailedError, BadRequestError, UpstreamRejectedError } from '../../errors.ts';
import { anthropicTypeForStatus, toMessagesError } from './messages-errors.ts';
import { errorFrame } from './frames.ts';
import { parseAnthropicError } from '../../providers/anthropic-response.ts';

describe('toMessagesError', () => {
  it.each([
    [400, 'invalid_request_error'],
    [401, 'authentication_error'],
    [403, 'permission_error'],
    [404, 'not_found_error'],
    [413, 'request_too_large'],
    [429, 'rate_limit_error'],
    [500, 'api_error'],
    [502, 'api_error'],
    [503, 'overloaded_error'],
    [504, 'timeout_error'],
    [529, 'overloaded_error'],
  ])('status %d is %s', (status, type) => {
    expect(anthropicTypeForStatus(status)).toBe(type);
  });

  it('writes a sidecar error in Anthropic shape, keeping the status, headers and llmroute fields inside error', () => {
    const res = toMessagesError(errorResponse(new BadRequestError('messages.0.role: bad', 'messages.0.role')));
    expect(res.status).toBe(400);
    expect(res.headers['x-should-retry']).toBe('false');
    expect(res.body).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: 'messages.0.role: bad', code: 'invalid_request', param: 'messages.0.role' } });
  });

  it('keeps the attempts of a failed route', () => {
    const attempts = [{ target: 'a', class: 'server-error' as const, status: 529 }];
    const res = toMessagesError(errorResponse(new AllTargetsFailedError('r', attempts, 'failed')));
    expect(res.status).toBe(502);
    expect(res.body.error).toMatchObject({ type: 'api_error', code: 'all_targets_failed', attempts });
  });

  it("passes an Anthropic provider's own error on with its own type", () => {
    for (const [status, type] of [
      [529, 'overloaded_error'],
      [402, 'billing_error'],
      [413, 'request_too_large'],
      [504, 'timeout_error'],
      [429, 'rate_limit_error'],
    ] as const) {
      const p = parseAnthropicError(status, JSON.stringify({ type: 'error', error: { type, message: 'from upstream' } }));
      const res = toMessagesError(errorResponse(new UpstreamRejectedError(p.status, p.type, p.code, p.message, null, [])));
      expect(res.body.error).toMatchObject({ type, message: 'from upstream' });
    }
  });

  it('ends a stream with an error event the SDKs raise on', () => {
    const frame = errorFrame({ errorClass: 'server-error', status: 529, message: 'Overloaded', type: 'server_error', code: 'overloaded', param: null });
    expect(frame).toBe('event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n');
    expect(errorFrame({ errorClass: 'timeout', status: 504, message: 'idle', type: 'llmroute_stream_timeout', code: 'timeout', param: null })).toContain('"type":"timeout_error"');
  });
});
