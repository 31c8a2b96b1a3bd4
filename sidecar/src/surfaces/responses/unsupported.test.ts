import { describe, expect, it } from '@jest/globals';
import { unsupportedFeature } from './unsupported.ts';

const base = { model: 'm', input: 'hi' };

describe('unsupportedFeature', () => {
  it('lets a plain request, function tools, tool_choice forms, logprobs include and previous_response_id through', () => {
    expect(unsupportedFeature(base)).toBeUndefined();
    expect(
      unsupportedFeature({
        ...base,
        previous_response_id: 'resp_1',
        tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object' } }],
        tool_choice: { type: 'function', name: 'get_weather' },
        include: ['message.output_text.logprobs'],
        background: false,
        conversation: null,
        prompt: null,
      }),
    ).toBeUndefined();
    for (const c of ['auto', 'none', 'required']) expect(unsupportedFeature({ ...base, tool_choice: c })).toBeUndefined();
  });

  it.each([
    [{ tools: [{ type: 'web_search' }] }, "OpenAI built-in tool 'web_search'"],
    [{ tools: [{ type: 'web_search_preview_2025_03_11' }] }, "OpenAI built-in tool 'web_search_preview_2025_03_11'"],
    [{ tools: [{ type: 'function', name: 'f' }, { type: 'file_search', vector_store_ids: ['vs_1'] }] }, "OpenAI built-in tool 'file_search'"],
    [{ tools: [{ type: 'computer_use_preview' }] }, "OpenAI built-in tool 'computer_use_preview'"],
    [{ tools: [{ type: 'code_interpreter', container: { type: 'auto' } }] }, "OpenAI built-in tool 'code_interpreter'"],
    [{ tools: [{ type: 'image_generation' }] }, "OpenAI built-in tool 'image_generation'"],
    [{ tools: [{ type: 'mcp', server_label: 'x' }] }, "OpenAI built-in tool 'mcp'"],
    [{ tools: [{ type: 'local_shell' }] }, "OpenAI built-in tool 'local_shell'"],
    [{ tools: [{ type: 'custom', name: 'grammar', format: { type: 'grammar' } }] }, "custom tool 'grammar'"],
    [{ tool_choice: { type: 'file_search' } }, "tool_choice of type 'file_search'"],
    [{ tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [] } }, "tool_choice of type 'allowed_tools'"],
    [{ background: true }, '`background: true`'],
    [{ conversation: 'conv_1' }, '`conversation` (a conversation stored at OpenAI)'],
    [{ prompt: { id: 'pmpt_1' } }, '`prompt` (a prompt template stored at OpenAI)'],
    [{ include: ['file_search_call.results'] }, "include 'file_search_call.results'"],
    [{ include: ['reasoning.encrypted_content'] }, "include 'reasoning.encrypted_content'"],
    [{ input: [{ type: 'item_reference', id: 'msg_1' }] }, "an input item of type 'item_reference'"],
    [{ input: [{ type: 'web_search_call', id: 'ws_1' }] }, "an input item of type 'web_search_call'"],
    [{ input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file-1', detail: 'auto' }] }] }, 'an input_image by file_id (a file stored at OpenAI)'],
    [{ input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file-1' }] }] }, 'an input_file by file_id (a file stored at OpenAI)'],
    [{ input: [{ role: 'user', content: [{ type: 'input_file', file_url: 'https://x/a.pdf' }] }] }, 'an input_file by file_url'],
    [{ input: [{ type: 'function_call_output', call_id: 'c', output: [{ type: 'input_image', image_url: 'https://x' }] }] }, "a function_call_output with a part of type 'input_image'"],
  ])('refuses %j', (extra, phrase) => {
    expect(unsupportedFeature({ ...base, ...extra })).toBe(phrase);
  });

  it('takes images by URL and files by file_data', () => {
    expect(
      unsupportedFeature({
        ...base,
        input: [
          {
            type: 'message',
            role: 'user',
            content: [
              { type: 'input_text', text: 'look' },
              { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'low' },
              { type: 'input_file', file_data: 'data:application/pdf;base64,AAAA', filename: 'a.pdf' },
            ],
          },
          { type: 'reasoning', id: 'rs_1', summary: [] },
        ],
      }),
    ).toBeUndefined();
  });
});
