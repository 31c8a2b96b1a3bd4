import { describe, expect, it } from '@jest/globals';
import { BadRequestError } from '../../errors.ts';
import { DEFAULT_PDF_NAME, messagesToChat, thinkingEffort, TOOL_ERROR_PREFIX } from './to-chat.ts';
import { testContext } from '../../testing/translation-context.ts';

const toChat = (body: Record<string, unknown>) => messagesToChat({ model: 'claude-x', max_tokens: 100, ...body }, testContext());

describe('messagesToChat', () => {
  it('hoists system text blocks (cache_control dropped) and keeps the turns in order', () => {
    const chat = toChat({
      system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }, { type: 'text', text: 'Be kind.' }],
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'hmm', signature: 'sig' }, { type: 'text', text: 'Hello' }] },
        { role: 'user', content: [{ type: 'text', text: 'Again', cache_control: { type: 'ephemeral' } }] },
      ],
    });
    expect(chat).toEqual({
      model: 'claude-x',
      max_completion_tokens: 100,
      messages: [
        { role: 'system', content: 'Be brief.\n\nBe kind.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello' },
        { role: 'user', content: 'Again' },
      ],
    });
  });

  it('turns images and documents into Chat parts', () => {
    const chat = toChat({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } },
            { type: 'image', source: { type: 'url', url: 'https://x.test/a.jpg' } },
            { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBER' } },
            { type: 'document', title: 'Notes', source: { type: 'text', media_type: 'text/plain', data: 'plain words' } },
            { type: 'text', text: 'What is this?' },
          ],
        },
      ],
    });
    expect((chat.messages as unknown[])[0]).toEqual({
      role: 'user',
      content: [
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBOR' } },
        { type: 'image_url', image_url: { url: 'https://x.test/a.jpg' } },
        { type: 'file', file: { filename: DEFAULT_PDF_NAME, file_data: 'data:application/pdf;base64,JVBER' } },
        { type: 'text', text: 'Notes\n\nplain words' },
        { type: 'text', text: 'What is this?' },
      ],
    });
  });

  it('puts tool calls on the assistant message and results as tool messages right after it, then the user text', () => {
    const chat = toChat({
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'toolu_2', name: 'weather', input: { city: 'Rome' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: '18C' },
            {
              type: 'tool_result',
              tool_use_id: 'toolu_2',
              is_error: true,
              content: [
                { type: 'text', text: 'station down' },
                { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAA' } },
              ],
            },
            { type: 'text', text: 'And tomorrow?' },
          ],
        },
      ],
    });
    expect((chat.messages as unknown[]).slice(1)).toEqual([
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
          { id: 'toolu_2', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: '18C' },
      { role: 'tool', tool_call_id: 'toolu_2', content: `${TOOL_ERROR_PREFIX}station down` },
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAA' } },
          { type: 'text', text: 'And tomorrow?' },
        ],
      },
    ]);
  });

  it('maps tools, tool_choice and the sampling and output parameters', () => {
    const chat = toChat({
      messages: [{ role: 'user', content: 'x' }],
      tools: [{ name: 'f', description: 'does f', input_schema: { type: 'object', properties: { a: { type: 'string' } } } }],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      stop_sequences: ['END', 'STOP'],
      temperature: 0.3,
      top_p: 0.9,
      top_k: 40,
      metadata: { user_id: 'u-1' },
      output_config: { format: { type: 'json_schema', schema: { type: 'object', additionalProperties: false } } },
      stream: true,
    });
    expect(chat).toMatchObject({
      tools: [{ type: 'function', function: { name: 'f', description: 'does f', parameters: { type: 'object', properties: { a: { type: 'string' } } } } }],
      tool_choice: 'required',
      parallel_tool_calls: false,
      stop: ['END', 'STOP'],
      temperature: 0.3,
      top_p: 0.9,
      user: 'u-1',
      response_format: { type: 'json_schema', json_schema: { name: 'output', schema: { type: 'object', additionalProperties: false } } },
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(chat).not.toHaveProperty('top_k');
    expect(toChat({ messages: [], tools: [{ name: 'f', input_schema: {} }], tool_choice: { type: 'tool', name: 'f' } }).tool_choice).toEqual({
      type: 'function',
      function: { name: 'f' },
    });
    expect(toChat({ messages: [], tools: [{ name: 'f', input_schema: {} }], tool_choice: { type: 'none' } }).tool_choice).toBe('none');
    // No tools: no tool_choice or parallel_tool_calls (OpenAI refuses them alone).
    expect(toChat({ messages: [], tool_choice: { type: 'auto', disable_parallel_tool_use: true } })).not.toHaveProperty('parallel_tool_calls');
  });

  it('maps thinking onto reasoning_effort bands', () => {
    expect(thinkingEffort({ thinking: { type: 'enabled', budget_tokens: 1024 } })).toBe('low');
    expect(thinkingEffort({ thinking: { type: 'enabled', budget_tokens: 4096 } })).toBe('medium');
    expect(thinkingEffort({ thinking: { type: 'enabled', budget_tokens: 16384 } })).toBe('high');
    expect(thinkingEffort({ thinking: { type: 'adaptive' } })).toBe('medium');
    expect(thinkingEffort({ thinking: { type: 'adaptive' }, output_config: { effort: 'max' } })).toBe('high');
    expect(thinkingEffort({ thinking: { type: 'disabled' } })).toBeUndefined();
    expect(toChat({ messages: [], thinking: { type: 'enabled', budget_tokens: 2000 } }).reasoning_effort).toBe('low');
  });

  it('refuses malformed input with a BadRequestError naming its place', () => {
    expect(() => toChat({ messages: 'x' })).toThrow(BadRequestError);
    expect(() => toChat({ messages: [{ role: 'system', content: 'x' }] })).toThrow("messages.0.role: Input should be 'user' or 'assistant'");
    expect(() => toChat({ messages: [{ role: 'user', content: [{ type: 'tool_result' }] }] })).toThrow('messages.0.content.0.tool_use_id is missing');
    expect(() => toChat({ messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64' } }] }] })).toThrow(BadRequestError);
  });
});
