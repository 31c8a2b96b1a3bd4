import { describe, expect, it } from '@jest/globals';
import { toChatBody } from './to-chat.ts';

describe('toChatBody: instructions and input', () => {
  it('turns instructions into a system message and a string input into a user message', () => {
    expect(toChatBody({ model: 'route', instructions: 'Be brief.', input: 'Hi' })).toEqual({
      model: 'route',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
    });
  });

  it('maps message items of every role, developer as system, and their content parts', () => {
    const out = toChatBody({
      model: 'm',
      input: [
        { role: 'developer', content: 'Rules.' },
        { type: 'message', role: 'system', content: [{ type: 'input_text', text: 'A' }, { type: 'input_text', text: 'B' }] },
        { role: 'user', content: [{ type: 'input_text', text: 'one part' }] },
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'look' },
            { type: 'input_image', image_url: 'https://x/cat.png', detail: 'high' },
            { type: 'input_file', file_data: 'data:application/pdf;base64,AAAA', filename: 'a.pdf' },
          ],
        },
        { type: 'message', role: 'assistant', id: 'msg_1', status: 'completed', content: [{ type: 'output_text', text: 'Sure', annotations: [] }] },
        { role: 'assistant', content: [{ type: 'refusal', refusal: 'No.' }] },
      ],
    });
    expect(out.messages).toEqual([
      { role: 'system', content: 'Rules.' },
      { role: 'system', content: 'AB' },
      { role: 'user', content: 'one part' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'look' },
          { type: 'image_url', image_url: { url: 'https://x/cat.png', detail: 'high' } },
          { type: 'file', file: { file_data: 'data:application/pdf;base64,AAAA', filename: 'a.pdf' } },
        ],
      },
      { role: 'assistant', content: 'Sure' },
      { role: 'assistant', content: [{ type: 'refusal', refusal: 'No.' }] },
    ]);
  });

  it('merges consecutive function calls (and the assistant text before them) into one assistant message, outputs into tool messages, drops reasoning', () => {
    const out = toChatBody({
      model: 'm',
      input: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'two calls' }] },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.' }] },
        { type: 'function_call', id: 'fc_1', call_id: 'call_a', name: 'weather', arguments: '{"city":"Paris"}', status: 'completed' },
        { type: 'function_call', id: 'fc_2', call_id: 'call_b', name: 'weather', arguments: '{"city":"Rome"}' },
        { type: 'function_call_output', call_id: 'call_a', output: 'sunny' },
        { type: 'function_call_output', call_id: 'call_b', output: [{ type: 'input_text', text: 'rain' }] },
        { type: 'function_call', call_id: 'call_c', name: 'weather', arguments: '{}' },
      ],
    });
    expect(out.messages).toEqual([
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_b', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_a', content: 'sunny' },
      { role: 'tool', tool_call_id: 'call_b', content: 'rain' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_c', type: 'function', function: { name: 'weather', arguments: '{}' } }] },
    ]);
  });
});

describe('toChatBody: parameters', () => {
  it('maps tools, tool_choice, text.format, reasoning, max_output_tokens and copies the shared fields', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
    const out = toChatBody({
      model: 'm',
      input: 'x',
      tools: [
        { type: 'function', name: 'weather', description: 'Weather', parameters: schema, strict: true },
        { type: 'function', name: 'noop', parameters: null, strict: null },
      ],
      tool_choice: { type: 'function', name: 'weather' },
      parallel_tool_calls: false,
      text: { format: { type: 'json_schema', name: 'answer', schema, strict: true, description: 'd' }, verbosity: 'low' },
      reasoning: { effort: 'low', summary: 'auto' },
      max_output_tokens: 300,
      temperature: 0.2,
      top_p: 0.9,
      user: 'u1',
      prompt_cache_key: 'k',
      safety_identifier: 's',
      service_tier: 'flex',
      metadata: { a: '1' },
      store: true,
      truncation: 'auto',
    });
    expect(out).toEqual({
      model: 'm',
      temperature: 0.2,
      top_p: 0.9,
      user: 'u1',
      prompt_cache_key: 'k',
      safety_identifier: 's',
      parallel_tool_calls: false,
      service_tier: 'flex',
      messages: [{ role: 'user', content: 'x' }],
      tools: [
        { type: 'function', function: { name: 'weather', description: 'Weather', parameters: schema, strict: true } },
        { type: 'function', function: { name: 'noop' } },
      ],
      tool_choice: { type: 'function', function: { name: 'weather' } },
      response_format: { type: 'json_schema', json_schema: { name: 'answer', description: 'd', schema, strict: true } },
      verbosity: 'low',
      reasoning_effort: 'low',
      max_completion_tokens: 300,
    });
  });

  it('maps json_object, string tool_choice, logprobs and streams (asking for usage)', () => {
    expect(toChatBody({ model: 'm', input: 'x', text: { format: { type: 'json_object' } }, tool_choice: 'required', stream: true })).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      tool_choice: 'required',
      response_format: { type: 'json_object' },
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(toChatBody({ model: 'm', input: 'x', text: { format: { type: 'text' } } }).response_format).toBeUndefined();
    expect(toChatBody({ model: 'm', input: 'x', top_logprobs: 3 })).toMatchObject({ logprobs: true, top_logprobs: 3 });
    expect(toChatBody({ model: 'm', input: 'x', include: ['message.output_text.logprobs'] })).toMatchObject({ logprobs: true });
    expect(toChatBody({ model: 'm', input: 'x', stream: false }).stream).toBeUndefined();
  });
});
