import { describe, expect, it } from '@jest/globals';
import { messagesUnsupported } from './unsupported.ts';

const base = { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };
const withContent = (content: unknown[]) => ({ ...base, messages: [{ role: 'user', content }] });

describe('messagesUnsupported', () => {
  it('passes what translates', () => {
    expect(messagesUnsupported(base)).toBeUndefined();
    expect(messagesUnsupported({ ...base, tools: [{ name: 'f', input_schema: {} }, { type: 'custom', name: 'g', input_schema: {} }] })).toBeUndefined();
    expect(
      messagesUnsupported(withContent([{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'x' } }, { type: 'text', text: 'x', cache_control: { type: 'ephemeral' } }])),
    ).toBeUndefined();
    expect(messagesUnsupported({ ...base, mcp_servers: [] })).toBeUndefined();
  });

  it.each([
    [{ ...base, tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, "Anthropic server tool 'web_search_20250305'"],
    [{ ...base, tools: [{ type: 'bash_20250124', name: 'bash' }] }, "Anthropic server tool 'bash_20250124'"],
    [{ ...base, mcp_servers: [{ type: 'url', url: 'https://m.test', name: 'm' }] }, '`mcp_servers`'],
    [{ ...base, container: 'c_1' }, '`container`'],
    [{ ...base, context_management: { edits: [] } }, '`context_management`'],
    [withContent([{ type: 'search_result', source: 's', title: 't', content: [] }]), "content blocks of type 'search_result'"],
    [withContent([{ type: 'document', source: { type: 'file', file_id: 'file_1' } }]), "document source 'file' (files by id are Anthropic's own)"],
    [withContent([{ type: 'document', source: { type: 'url', url: 'https://x.test/a.pdf' } }]), 'PDF documents by URL'],
    [withContent([{ type: 'document', source: { type: 'base64', data: 'x' }, citations: { enabled: true } }]), 'documents with citations enabled'],
    [withContent([{ type: 'image', source: { type: 'file', file_id: 'file_1' } }]), "image source 'file' (files by id are Anthropic's own)"],
    [
      withContent([{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'search_result', source: 's', title: 't', content: [] }] }]),
      "content blocks of type 'search_result' in a tool_result",
    ],
    [withContent([{ type: 'server_tool_use', id: 's', name: 'web_search', input: {} }]), "content blocks of type 'server_tool_use'"],
  ])('names %#', (body, phrase) => {
    expect(messagesUnsupported(body)).toBe(phrase);
  });
});
