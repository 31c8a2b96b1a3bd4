import { describe, expect, it } from '@jest/globals';
import { openaiOverText } from '../../../../test/support/openai-over-text.ts';
import { responsesTranslation } from './translation.ts';
import { fixedContext } from '../../testing/translation-context.ts';

function completion(message: Record<string, unknown>, finish = 'stop', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, message: { role: 'assistant', ...message }, logprobs: null, finish_reason: finish }],
    usage: {
      prompt_tokens: 11,
      completion_tokens: 7,
      total_tokens: 18,
      prompt_tokens_details: { cached_tokens: 4 },
      completion_tokens_details: { reasoning_tokens: 2 },
    },
    ...extra,
  };
}

const request = { model: 'route', input: 'Hi' };

function fromChat(chat: Record<string, unknown>, req: Record<string, unknown> = request): Record<string, any> {
  return JSON.parse(responsesTranslation.fromChat(chat, req, fixedContext()));
}

describe('responsesTranslation.fromChat', () => {
  it('builds the whole Response object of a text answer, with the real API defaults echoed', () => {
    expect(fromChat(completion({ content: 'Hello!' }))).toEqual({
      id: 'resp_1',
      object: 'response',
      created_at: 1_700_000_000,
      status: 'completed',
      background: false,
      error: null,
      incomplete_details: null,
      instructions: null,
      max_output_tokens: null,
      max_tool_calls: null,
      model: 'gpt-4o-mini-2024-07-18',
      output: [{ id: 'msg_1', type: 'message', status: 'completed', content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'Hello!' }], role: 'assistant' }],
      parallel_tool_calls: true,
      previous_response_id: null,
      prompt_cache_key: null,
      reasoning: { effort: null, summary: null },
      safety_identifier: null,
      service_tier: 'default',
      store: true,
      temperature: 1,
      text: { format: { type: 'text' } },
      tool_choice: 'auto',
      tools: [],
      top_logprobs: 0,
      top_p: 1,
      truncation: 'disabled',
      usage: { input_tokens: 11, input_tokens_details: { cached_tokens: 4 }, output_tokens: 7, output_tokens_details: { reasoning_tokens: 2 }, total_tokens: 18 },
      user: null,
      metadata: {},
    });
  });

  it("echoes the request's fields as sent", () => {
    const req = {
      model: 'route',
      input: 'Hi',
      instructions: 'Be brief.',
      tools: [{ type: 'function', name: 'f', parameters: {}, strict: true }],
      tool_choice: 'required',
      parallel_tool_calls: false,
      text: { format: { type: 'json_object' } },
      reasoning: { effort: 'high' },
      temperature: 0.3,
      top_p: 0.5,
      max_output_tokens: 99,
      metadata: { k: 'v' },
      previous_response_id: 'resp_0',
      store: false,
      truncation: 'auto',
    };
    const { model: _model, input: _input, reasoning: _reasoning, ...echoed } = req;
    expect(fromChat(completion({ content: 'x' }), req)).toMatchObject({ ...echoed, reasoning: { effort: 'high', summary: null } });
  });

  it('puts reasoning first, then the text, then one function_call item per tool call (call_id = the chat id)', () => {
    const out = fromChat(
      completion(
        {
          content: 'Checking both.',
          reasoning_content: 'Two cities, two calls.',
          tool_calls: [
            { id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_b', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
          ],
        },
        'tool_calls',
      ),
    );
    expect(out.status).toBe('completed');
    expect(out.output).toEqual([
      { id: 'rs_1', type: 'reasoning', summary: [{ type: 'summary_text', text: 'Two cities, two calls.' }] },
      { id: 'msg_1', type: 'message', status: 'completed', content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'Checking both.' }], role: 'assistant' },
      { id: 'fc_1', type: 'function_call', status: 'completed', arguments: '{"city":"Paris"}', call_id: 'call_a', name: 'weather' },
      { id: 'fc_2', type: 'function_call', status: 'completed', arguments: '{"city":"Rome"}', call_id: 'call_b', name: 'weather' },
    ]);
  });

  it('is incomplete on finish_reason length (max_output_tokens) and content_filter', () => {
    const length = fromChat(completion({ content: 'cut' }, 'length'));
    expect(length).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
    expect(length.output[0].status).toBe('incomplete');
    expect(fromChat(completion({ content: null }, 'content_filter'))).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'content_filter' }, output: [] });
  });

  it('answers a refusal as a refusal part, and carries logprobs', () => {
    expect(fromChat(completion({ content: null, refusal: "I can't help with that." })).output[0].content).toEqual([{ type: 'refusal', refusal: "I can't help with that." }]);
    const chat = completion({ content: 'Hi' });
    (chat.choices as any)[0].logprobs = { content: [{ token: 'Hi', logprob: -0.1, bytes: [72, 105], top_logprobs: [{ token: 'Hi', logprob: -0.1, bytes: [72, 105] }] }] };
    expect(fromChat(chat).output[0].content[0].logprobs).toEqual([{ token: 'Hi', logprob: -0.1, bytes: [72, 105], top_logprobs: [{ token: 'Hi', logprob: -0.1, bytes: [72, 105] }] }]);
  });

  it('counts usage from the counts alone, and has null usage without any', () => {
    expect(fromChat(completion({ content: 'x' }, 'stop', { usage: { prompt_tokens: 3, completion_tokens: 2 } })).usage).toEqual({
      input_tokens: 3,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 2,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 5,
    });
    expect(fromChat(completion({ content: 'x' }, 'stop', { usage: undefined })).usage).toBeNull();
  });

  it('reads back through the openai SDK: output_text is its own convenience, not on the wire', async () => {
    const text = responsesTranslation.fromChat(completion({ content: 'Hello!' }), request, fixedContext());
    expect(JSON.parse(text).output_text).toBeUndefined();
    const res = await openaiOverText(text, 'application/json').responses.create({ model: 'route', input: 'Hi' });
    expect(res.output_text).toBe('Hello!');
    expect(res.usage?.total_tokens).toBe(18);
  });
});
