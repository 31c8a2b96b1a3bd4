import type { Target } from './config/runtime-config.ts';
import type { ProviderError } from './providers/types.ts';
import { refusedParam, shapeBody, shapes } from './request-params.ts';
import { routeWith } from './testing/route.ts';

const plain = routeWith(['{name: a, provider: anthropic, model: claude-opus-4-7}']).targets[0]!;
const shaped = routeWith(['{name: a, provider: anthropic, model: claude-opus-4-7, params: {drop: [top_k, temperature], set: {top_p: 0.9, metadata: {user_id: u1}}}}']).targets[0]!;
const body = JSON.stringify({ model: 'claude-opus-4-7', max_tokens: 1024, temperature: 0, top_k: 5, messages: [{ role: 'user', content: 'hi' }] });

describe('shapes and shapeBody: a target\'s params on the provider\'s body', () => {
  it('a target without params or refusals: nothing to do (the body goes out as the adapter wrote it)', () => {
    expect(plain.params).toBeUndefined();
    expect(shapes(plain, undefined)).toBe(false);
    expect(shapes(plain, new Set())).toBe(false);
  });

  it('params drop names, then set values over the client\'s', () => {
    expect(shapes(shaped, undefined)).toBe(true);
    expect(JSON.parse(shapeBody(body, shaped, undefined))).toEqual({
      model: 'claude-opus-4-7', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }], top_p: 0.9, metadata: { user_id: 'u1' },
    });
  });

  it('set wins over drop for the same name', () => {
    const t = routeWith(['{name: a, provider: openai, model: m, params: {drop: [seed], set: {seed: 7}}}']).targets[0]!;
    expect(JSON.parse(shapeBody(JSON.stringify({ model: 'm', seed: 1 }), t, undefined))).toEqual({ model: 'm', seed: 7 });
  });

  it('refused parameters are dropped too, on a target without params', () => {
    expect(shapes(plain, new Set(['temperature']))).toBe(true);
    expect(JSON.parse(shapeBody(body, plain, new Set(['temperature'])))).not.toHaveProperty('temperature');
  });

  it('only top-level names: a tool property called temperature stays', () => {
    const withTool = JSON.stringify({ model: 'm', temperature: 0, tools: [{ name: 'set', input_schema: { properties: { temperature: { type: 'number' } } } }] });
    expect(JSON.parse(shapeBody(withTool, plain, new Set(['temperature'])))).toEqual({ model: 'm', tools: [{ name: 'set', input_schema: { properties: { temperature: { type: 'number' } } } }] });
  });
});

describe('refusedParam: a 400 that refuses a parameter the try sent', () => {
  const err = (message: string, extra: Partial<ProviderError> = {}): ProviderError => ({ errorClass: 'bad-request', status: 400, message, type: 'invalid_request_error', code: null, ...extra });

  it.each<[string, string, string | undefined]>([
    ['Anthropic (Opus 4.7 and later)', '`temperature` is deprecated for this model.', 'temperature'],
    ['Anthropic, top_k', '`top_k` is deprecated for this model.', 'top_k'],
    ['the wording without backticks', 'temperature is deprecated for this model', 'temperature'],
    ["OpenAI's reasoning models", "Unsupported parameter: 'temperature' is not supported with this model.", 'temperature'],
    ["OpenAI's reasoning models, a value", "Unsupported value: 'temperature' does not support 0 with this model. Only the default (1) value is supported.", 'temperature'],
    ['"not supported for this model"', 'top_k is not supported for this model', 'top_k'],
    ['a parameter the try did not send', '`top_p` is deprecated for this model.', undefined],
    ['a parameter that changes the answer (max_tokens): never dropped', "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", undefined],
    ["the client's mistake, though it names the parameter", 'temperature: range: 0..1', undefined],
    ['an ordinary 400', 'messages: roles must alternate between "user" and "assistant"', undefined],
  ])('%s', (_what, message, expected) => {
    const sent = JSON.stringify({ model: 'm', max_tokens: 10, temperature: 0, top_k: 5, messages: [] });
    expect(refusedParam(err(message), sent, undefined)).toBe(expected);
  });

  it("OpenAI's invalid_value naming param temperature is not a refusal", () => {
    expect(refusedParam(err('Invalid value for temperature: 3 is greater than the maximum of 2.', { param: 'temperature', code: 'invalid_value' }), '{"temperature":3}', undefined)).toBeUndefined();
  });

  it('a parameter the target is already known to refuse (set by params.set, say): not again', () => {
    expect(refusedParam(err('`temperature` is deprecated for this model.'), '{"temperature":0}', new Set(['temperature']))).toBeUndefined();
  });

  it('only a 400 of class bad-request', () => {
    expect(refusedParam(err('`temperature` is deprecated for this model.', { status: 422 }), '{"temperature":0}', undefined)).toBeUndefined();
    expect(refusedParam(err('`temperature` is deprecated for this model.', { errorClass: 'context-window' }), '{"temperature":0}', undefined)).toBeUndefined();
  });

  it('a name only inside the body (a tool property) is not sent at the top level', () => {
    expect(refusedParam(err('`temperature` is deprecated for this model.'), '{"tools":[{"input_schema":{"properties":{"temperature":{}}}}]}', undefined)).toBeUndefined();
  });
});

// The compiled params reach the adapter-independent shaping as the schema wrote them.
it('Target.params from the config', () => {
  expect((shaped as Target).params).toEqual({ drop: ['top_k', 'temperature'], set: { top_p: 0.9, metadata: { user_id: 'u1' } } });
});
