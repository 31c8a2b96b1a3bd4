import { describe, expect, it } from '@jest/globals';
import { anthropicAdapter } from './anthropic.ts';
import { BedrockStreamDecoder } from './bedrock-stream.ts';
import { ChunkObjects, ChunkText } from './chat-chunks.ts';
import type { Json } from './common.ts';
import { geminiAdapter } from './gemini.ts';
import type { ProviderAdapter, ProviderTarget, SseEvent, StreamDecoder, StreamStep } from './types.ts';
import { vertexAdapter } from './vertex.ts';

describe('ChunkText and ChunkObjects write the same chunk', () => {
  for (const includeUsage of [false, true]) {
    it(`with include_usage ${includeUsage}`, () => {
      const text = new ChunkText('fallback', includeUsage);
      const objects = new ChunkObjects('fallback', includeUsage);
      for (const w of [text, objects]) w.start('chatcmpl-1', '');
      const pairs: Array<[string, Json]> = [
        [text.chunk({ role: 'assistant', content: '' }, null), objects.chunk({ role: 'assistant', content: '' }, null)],
        [text.chunk({ content: 'a "quoted"\nline' }, null), objects.chunk({ content: 'a "quoted"\nline' }, null)],
        [text.chunk({}, 'stop'), objects.chunk({}, 'stop')],
        [text.usage({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 }), objects.usage({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 })],
      ];
      for (const [t, o] of pairs) expect(JSON.parse(t)).toEqual(o);
      expect(JSON.parse(pairs[0]![0])).toMatchObject({ id: 'chatcmpl-1', object: 'chat.completion.chunk', model: 'fallback' });
      expect('usage' in (JSON.parse(pairs[1]![0]) as Json)).toBe(includeUsage);
    });
  }

  it('a chunk before start() starts the stream with a fresh id, the same for the rest of it', () => {
    const w = new ChunkText('m', false);
    expect(w.started).toBe(false);
    const a = JSON.parse(w.chunk({ content: 'x' }, null)) as Json;
    const b = JSON.parse(w.chunk({}, 'stop')) as Json;
    expect(w.started).toBe(true);
    expect(a.id).toMatch(/^chatcmpl-/);
    expect(b.id).toBe(a.id);
  });
});

// Each translating adapter's object decoder gives exactly the chunks its text decoder writes.
const sse = (type: string, o: Json): SseEvent => ({ event: type, data: JSON.stringify({ type, ...o }) });
const ANTHROPIC_EVENTS: SseEvent[] = [
  sse('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], usage: { input_tokens: 12, output_tokens: 1 } } }),
  sse('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '' } }),
  sse('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'Let me see.' } }),
  sse('content_block_stop', { index: 0 }),
  sse('content_block_start', { index: 1, content_block: { type: 'text', text: '' } }),
  sse('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'Checking ' } }),
  sse('content_block_start', { index: 2, content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} } }),
  sse('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '{"city":' } }),
  sse('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '"Paris"}' } }),
  sse('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 9 } }),
  sse('message_stop', {}),
];
const gemini = (o: Json): SseEvent => ({ data: JSON.stringify(o) });
const GEMINI_EVENTS: SseEvent[] = [
  gemini({ responseId: 'r1', modelVersion: 'gemini-2.5-flash', candidates: [{ content: { role: 'model', parts: [{ text: 'thinking', thought: true }, { text: 'Hello ' }] } }] }),
  gemini({ candidates: [{ content: { role: 'model', parts: [{ functionCall: { id: 'c1', name: 'get_weather', args: { city: 'Paris' } } }] } }] }),
  gemini({ candidates: [{ content: { role: 'model', parts: [] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 7, totalTokenCount: 12 } }),
];

function decode<C>(d: StreamDecoder<C>, events: SseEvent[]): StreamStep<C>[] {
  return events.map((e) => d.push(e));
}
/** The steps with their chunks as objects, the chunk id set aside (`id`s made fresh differ between two decoders). */
function normal<C>(steps: StreamStep<C>[], read: (c: C) => Json): unknown[] {
  return steps.map((s) => ({ ...s, out: s.out.map((c) => ({ ...read(c), id: 'x' })) }));
}
const vertexTarget = (model: string): ProviderTarget => ({ provider: 'vertex', model, baseURL: 'https://us-east5-aiplatform.googleapis.com', project: 'p', location: 'us-east5' }) as ProviderTarget;
const CASES: Array<[string, ProviderAdapter, ProviderTarget, SseEvent[]]> = [
  ['anthropic', anthropicAdapter, { provider: 'anthropic', model: 'claude-sonnet-4-5', baseURL: 'https://api.anthropic.com/v1' }, ANTHROPIC_EVENTS],
  ['gemini', geminiAdapter, { provider: 'gemini', model: 'gemini-2.5-flash', baseURL: 'https://generativelanguage.googleapis.com' } as ProviderTarget, GEMINI_EVENTS],
  ['vertex (claude)', vertexAdapter, vertexTarget('claude-sonnet-4-5@20250929'), ANTHROPIC_EVENTS],
  ['vertex (gemini)', vertexAdapter, vertexTarget('gemini-2.5-flash'), GEMINI_EVENTS],
];

describe('createChunkDecoder gives the chunks createStreamDecoder writes, as objects', () => {
  for (const [name, adapter, target, events] of CASES) {
    for (const includeUsage of [false, true]) {
      it(`${name}, include_usage ${includeUsage}`, () => {
        const request = { model: 'chat', messages: [{ role: 'user', content: 'hi' }], stream: true, ...(includeUsage ? { stream_options: { include_usage: true } } : {}) };
        const text = decode(adapter.createStreamDecoder(target, request), events);
        const objects = decode(adapter.createChunkDecoder!(target, request), events);
        expect(normal(objects, (c) => c)).toEqual(normal(text, (c) => JSON.parse(c) as Json));
        expect(text.some((s) => s.out.length > 0)).toBe(true);
      });
    }
  }

  it('bedrock, with usage', () => {
    const frame = (type: string, o: Json) => ({ headers: { ':message-type': 'event', ':event-type': type }, body: Buffer.from(JSON.stringify(o)) });
    const frames = [
      frame('messageStart', { role: 'assistant' }),
      frame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hi' } }),
      frame('contentBlockStart', { contentBlockIndex: 1, start: { toolUse: { toolUseId: 't1', name: 'f' } } }),
      frame('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '{"a":1}' } } }),
      frame('messageStop', { stopReason: 'tool_use' }),
      frame('metadata', { usage: { inputTokens: 3, outputTokens: 4, totalTokens: 7 } }),
    ];
    const source = () => ({ push: () => frames });
    const text = new BedrockStreamDecoder(new ChunkText('anthropic.claude', true), false, source).pushBytes(Buffer.alloc(0));
    const objects = new BedrockStreamDecoder(new ChunkObjects('anthropic.claude', true), false, source).pushBytes(Buffer.alloc(0));
    expect(normal(objects, (c) => c)).toEqual(normal(text, (c) => JSON.parse(c) as Json));
    expect(text.at(-1)!.finished).toBe(true);
  });
});
