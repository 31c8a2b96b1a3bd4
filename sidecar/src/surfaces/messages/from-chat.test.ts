import { describe, expect, it } from '@jest/globals';
import { messagesFromChat, UNSIGNED } from './from-chat.ts';
import { testContext } from '../../testing/translation-context.ts';

function chat(message: Record<string, unknown>, finish: string, extra: Record<string, unknown> = {}) {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    model: 'gpt-4o',
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish, ...extra }],
    usage: { prompt_tokens: 120, completion_tokens: 30, total_tokens: 150, prompt_tokens_details: { cached_tokens: 100 } },
  };
}
const request = { model: 'claude-sonnet-4-5', max_tokens: 100, messages: [] };
const fromChat = (c: Record<string, unknown>, r: Record<string, unknown> = request) => JSON.parse(messagesFromChat(c, r, testContext()));

describe('messagesFromChat', () => {
  it('builds the Message with the request model and Anthropic usage (cache reads apart from input)', () => {
    expect(fromChat(chat({ content: 'Hello' }, 'stop'))).toEqual({
      id: 'msg_0001',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [{ type: 'text', text: 'Hello' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 20, output_tokens: 30, cache_read_input_tokens: 100, cache_creation_input_tokens: 0 },
    });
  });

  it('puts reasoning first as a thinking block and tool calls as tool_use with the call ids', () => {
    const m = fromChat(
      chat(
        {
          content: null,
          reasoning_content: 'think',
          tool_calls: [
            { id: 'call_A', type: 'function', function: { name: 'f', arguments: '{"x":1}' } },
            { id: 'call_B', type: 'function', function: { name: 'g', arguments: '{"x":' } },
          ],
        },
        'tool_calls',
      ),
    );
    expect(m.content).toEqual([
      { type: 'thinking', thinking: 'think', signature: UNSIGNED },
      { type: 'tool_use', id: 'call_A', name: 'f', input: { x: 1 } },
      { type: 'tool_use', id: 'call_B', name: 'g', input: {} },
    ]);
    expect(m.stop_reason).toBe('tool_use');
  });

  it.each([
    ['length', 'max_tokens'],
    ['content_filter', 'refusal'],
    ['stop', 'end_turn'],
  ])('maps finish_reason %s to %s', (finish, stop) => {
    expect(fromChat(chat({ content: 'x' }, finish)).stop_reason).toBe(stop);
  });

  it('says stop_sequence when the answer shows which sequence ended it', () => {
    const r = { ...request, stop_sequences: ['END', '###'] };
    // vLLM names it in the choice.
    expect(fromChat(chat({ content: 'a' }, 'stop', { stop_reason: '###' }), r)).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: '###' });
    // A server that keeps it in the text.
    expect(fromChat(chat({ content: 'a END' }, 'stop'), r)).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'END' });
    // OpenAI says neither: end_turn.
    expect(fromChat(chat({ content: 'a' }, 'stop'), r)).toMatchObject({ stop_reason: 'end_turn', stop_sequence: null });
  });
});
