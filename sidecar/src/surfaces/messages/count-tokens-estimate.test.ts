import { describe, expect, it } from '@jest/globals';
import { countTokensBody, estimateInputTokens, IMAGE_TOKENS, MESSAGE_TOKENS, PDF_TOKENS_PER_100K, TOOL_TOKENS } from './count-tokens-estimate.ts';

describe('estimateInputTokens', () => {
  it('counts UTF-8 bytes / 4 of the text, per message framing', () => {
    // 'abcdefgh' = 8 bytes = 2 tokens; 'é' = 2 bytes = 1 token; system 'sys!' = 1.
    expect(estimateInputTokens({ system: 'sys!', messages: [{ role: 'user', content: 'abcdefgh' }, { role: 'assistant', content: [{ type: 'text', text: 'é' }] }] })).toBe(
      1 + MESSAGE_TOKENS + 2 + MESSAGE_TOKENS + 1,
    );
  });

  it('gives images and PDFs their fixed costs and counts tools, tool calls and results', () => {
    const pdf = 'A'.repeat(150_000);
    const n = estimateInputTokens({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'x'.repeat(1_000_000) } },
            { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: pdf } },
          ],
        },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'abcd', input: { a: 1 } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: 'abcd' }] }] },
      ],
      tools: [{ name: 'abcd', description: 'abcdefgh', input_schema: { type: 'object' } }],
    });
    const input = Math.ceil(JSON.stringify({ a: 1 }).length / 4);
    const schema = Math.ceil(JSON.stringify({ type: 'object' }).length / 4);
    expect(n).toBe(3 * MESSAGE_TOKENS + IMAGE_TOKENS + 2 * PDF_TOKENS_PER_100K + (1 + input) + 1 + TOOL_TOKENS + 1 + 2 + schema);
  });

  it('answers in the count_tokens shape', () => {
    expect(JSON.parse(countTokensBody({ messages: [{ role: 'user', content: 'abcd' }] }))).toEqual({ input_tokens: MESSAGE_TOKENS + 1 });
  });
});
