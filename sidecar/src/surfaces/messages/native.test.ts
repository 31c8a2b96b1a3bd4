import { describe, expect, it } from '@jest/globals';
import { Secret } from '../../secret.ts';
import type { ProviderTarget } from '../../providers/types.ts';
import { messagesNative } from './native.ts';

const KEY = 'sk-ant-test-0123456789';
const target: ProviderTarget = { provider: 'anthropic', model: 'claude-sonnet-4-5-20250929', baseURL: 'https://api.anthropic.com/v1', apiKey: new Secret(KEY) };

describe('messagesNative.buildRequest', () => {
  const body = {
    model: 'client-alias',
    max_tokens: 100,
    system: [{ type: 'text', text: 'sys', cache_control: { type: 'ephemeral' } }],
    thinking: { type: 'enabled', budget_tokens: 2048 },
    messages: [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: [{ type: 'thinking', thinking: 't', signature: 'EqQB' }, { type: 'tool_use', id: 'toolu_1', name: 'f', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ok' }] },
    ],
  };

  it('sends the body untouched but for the model, with the target key and version, and the client beta header', () => {
    const req = messagesNative.buildRequest('messages', body, target, {
      stream: true,
      clientHeaders: { 'anthropic-beta': 'interleaved-thinking-2025-05-14', 'x-api-key': 'sk-ant-client-key', authorization: 'Bearer client' },
    });
    expect(req.url).toBe('https://api.anthropic.com/v1/messages');
    expect(req.headers).toEqual({
      'content-type': 'application/json',
      accept: 'text/event-stream',
      'anthropic-version': '2023-06-01',
      'x-api-key': KEY,
      'anthropic-beta': 'interleaved-thinking-2025-05-14',
    });
    expect(JSON.parse(req.body)).toEqual({ ...body, model: target.model, stream: true });
  });

  it("drops thinking blocks without a signature (another provider's reasoning, from a translated turn) and keeps Anthropic's own", () => {
    const messages = [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'elsewhere', signature: '' }, { type: 'text', text: 'a' }] },
      { role: 'user', content: 'more' },
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'mine', signature: 'EqQB' }, { type: 'text', text: 'b' }] },
      { role: 'user', content: 'again' },
    ];
    const sent = JSON.parse(messagesNative.buildRequest('messages', { ...body, messages }, target, { stream: false }).body);
    expect(sent.messages[1].content).toEqual([{ type: 'text', text: 'a' }]);
    expect(sent.messages[3]).toEqual(messages[3]);
    expect(messages[1]!.content).toHaveLength(2);
  });

  it('takes both base URL conventions and serves count_tokens', () => {
    for (const baseURL of ['https://api.anthropic.com', 'https://api.anthropic.com/', 'https://api.anthropic.com/v1/']) {
      expect(messagesNative.buildRequest('count-tokens', body, { ...target, baseURL }, { stream: false }).url).toBe('https://api.anthropic.com/v1/messages/count_tokens');
    }
    const req = messagesNative.buildRequest('count-tokens', body, target, { stream: true });
    expect(req.headers.accept).toBe('application/json');
    expect(JSON.parse(req.body)).not.toHaveProperty('stream');
  });

  it('refuses other kinds', () => {
    expect(() => messagesNative.buildRequest('chat', body, target, { stream: false })).toThrow('does not serve chat');
  });
});

describe('messagesNative.parseResponse and parseError', () => {
  it('passes the body on as received and reads usage with cache tokens', () => {
    const text = '{"id":"msg_1","type":"message","content":[{"type":"text","text":"x"}],"usage":{"input_tokens":5,"cache_read_input_tokens":100,"cache_creation_input_tokens":20,"output_tokens":7}}';
    expect(messagesNative.parseResponse('messages', 200, text, target)).toEqual({ ok: true, body: text, usage: { prompt: 125, completion: 7 } });
    expect(messagesNative.parseResponse('count-tokens', 200, '{"input_tokens":12}', target)).toEqual({ ok: true, body: '{"input_tokens":12}' });
  });

  it('turns an error body into a ProviderError', () => {
    const r = messagesNative.parseResponse('messages', 200, '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}', target);
    expect(r).toMatchObject({ ok: false, error: { status: 529, errorClass: 'server-error', code: 'overloaded' } });
    expect(messagesNative.parseResponse('messages', 200, 'not json', target)).toMatchObject({ ok: false, error: { status: 502 } });
    expect(messagesNative.parseError(429, '{"type":"error","error":{"type":"rate_limit_error","message":"slow"}}')).toMatchObject({ status: 429, errorClass: 'rate-limit' });
  });
});
