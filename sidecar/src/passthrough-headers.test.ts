import { passthroughHeaders } from './passthrough-headers.ts';

describe('passthroughHeaders', () => {
  it("keeps OpenAI's request id and rate-limit headers, and nothing else", () => {
    expect(
      passthroughHeaders({
        'x-request-id': 'req_1',
        'x-ratelimit-limit-requests': '500',
        'x-ratelimit-remaining-tokens': '149984',
        'content-type': 'application/json',
        'content-length': '12',
        'content-encoding': 'gzip',
        'transfer-encoding': 'chunked',
        connection: 'keep-alive',
        'keep-alive': 'timeout=5',
        'set-cookie': ['__cf_bm=x'],
        'openai-organization': 'org-fake',
        'retry-after': '1',
      }),
    ).toEqual({ 'x-request-id': 'req_1', 'x-ratelimit-limit-requests': '500', 'x-ratelimit-remaining-tokens': '149984' });
  });

  it("Anthropic's request-id also goes out as x-request-id; its anthropic-ratelimit-* stay as they are", () => {
    expect(passthroughHeaders({ 'request-id': 'req_011', 'anthropic-ratelimit-requests-remaining': '49', 'anthropic-organization-id': 'o' })).toEqual({
      'request-id': 'req_011',
      'x-request-id': 'req_011',
      'anthropic-ratelimit-requests-remaining': '49',
    });
  });

  it("Azure's apim-request-id and x-request-id, as sent", () => {
    expect(passthroughHeaders({ 'apim-request-id': 'a', 'x-request-id': 'b', 'x-ms-region': 'East US' })).toEqual({ 'apim-request-id': 'a', 'x-request-id': 'b' });
  });

  it('undefined when there is nothing to pass on; odd values are dropped', () => {
    expect(passthroughHeaders({ 'content-type': 'text/event-stream' })).toBeUndefined();
    expect(passthroughHeaders({ 'x-request-id': 'a\r\nx-evil: 1', 'x-ratelimit-reset': ['1s', '2s'] })).toEqual({ 'x-ratelimit-reset': '1s, 2s' });
    expect(passthroughHeaders({ 'x-request-id': 'x'.repeat(2000) })).toBeUndefined();
  });
});
