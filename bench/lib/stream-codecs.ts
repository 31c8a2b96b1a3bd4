/**
 * The stream codecs alone, in this process (bench/surfaces.ts's last table):
 * µs to decode one 20-chunk stream from a provider and encode it in the
 * client's API, with no sockets, beside the Chat pass-through's decoder.
 * It isolates what translation costs from what the bytes of each protocol
 * cost the sidecar's I/O (the sidecar cells above). The upstream streams are
 * what the providers send: OpenAI's chunks with their usual fields, and
 * Anthropic's Messages events.
 */
import { adapterFor } from '../../sidecar/src/providers/index.ts';
import type { ProviderTarget, SseEvent, StreamDecoder } from '../../sidecar/src/providers/types.ts';
import { bridgedAdapter } from '../../sidecar/src/surfaces/chat-bridge.ts';
import { messagesTranslation } from '../../sidecar/src/surfaces/messages/translation.ts';
import { responsesTranslation } from '../../sidecar/src/surfaces/responses/translation.ts';
import type { TranslationContext } from '../../sidecar/src/surfaces/types.ts';
import { median } from './stats.ts';

const CHUNKS = 20;
let ids = 0;
const ctx: TranslationContext = { newId: (p) => `${p}_bench${(++ids).toString(16)}`, nowSeconds: () => 1_750_000_000 };

function openaiEvents(): SseEvent[] {
  const head = '{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1750000000,"model":"gpt-4o-mini","service_tier":"default","system_fingerprint":"fp_bench","choices":[{"index":0,"delta":';
  const tail = (finish: string, obfuscation: string) => `,"logprobs":null,"finish_reason":${finish}}],"usage":null,"obfuscation":"${obfuscation}"}`;
  const out: SseEvent[] = [{ data: `${head}{"role":"assistant","content":"","refusal":null}${tail('null', 'a1b2')}` }];
  for (let i = 0; i < CHUNKS; i++) out.push({ data: `${head}{"content":"word${i} "}${tail('null', 'x'.repeat(i % 9))}` });
  out.push({ data: `${head}{}${tail('"stop"', 'c3')}` });
  out.push({ data: '{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1750000000,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":20,"total_tokens":32}}' });
  out.push({ data: '[DONE]' });
  return out;
}

function anthropicEvents(): SseEvent[] {
  const ev = (type: string, o: Record<string, unknown>): SseEvent => ({ event: type, data: JSON.stringify({ type, ...o }) });
  const out = [
    ev('message_start', { message: { id: 'msg_bench', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 12, output_tokens: 1 } } }),
    ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    ev('ping', {}),
  ];
  for (let i = 0; i < CHUNKS; i++) out.push(ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: `word${i} ` } }));
  out.push(ev('content_block_stop', { index: 0 }), ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: CHUNKS } }), ev('message_stop', {}));
  return out;
}

export interface CodecRow {
  name: string;
  us: number;
  bytes: number;
}

/** Median µs per stream of each codec over `rounds` rounds of `streams` streams; the first row is the pass-through. */
export function measureStreamCodecs(rounds: number, streams: number): CodecRow[] {
  const gpt: ProviderTarget = { provider: 'openai-compatible', model: 'gpt-4o-mini', baseURL: 'http://127.0.0.1:1/v1' };
  const claude: ProviderTarget = { provider: 'anthropic', model: 'claude-sonnet-4-5', baseURL: 'http://127.0.0.1:1/v1' };
  const chatBody = { model: 'chat', messages: [{ role: 'user', content: 'Say hello in one short sentence.' }], max_tokens: 64, stream: true };
  const responsesBody = { model: 'chat', instructions: 'You are a terse assistant.', input: 'Say hello in one short sentence.', max_output_tokens: 64, store: false, stream: true };
  const messagesBody = { model: 'chat', system: 'You are a terse assistant.', messages: [{ role: 'user', content: 'Say hello in one short sentence.' }], max_tokens: 64, stream: true };
  const openai = adapterFor('openai-compatible');
  const anthropic = adapterFor('anthropic');
  const cells: Array<{ name: string; events: SseEvent[]; make: () => StreamDecoder }> = [
    { name: 'chat → openai-compatible (pass-through)', events: openaiEvents(), make: () => openai.createStreamDecoder(gpt, chatBody) },
    { name: 'chat → anthropic', events: anthropicEvents(), make: () => anthropic.createStreamDecoder(claude, chatBody) },
    { name: 'responses → anthropic (translated)', events: anthropicEvents(), make: () => bridgedAdapter(responsesTranslation, anthropic, ctx).createStreamDecoder(claude, responsesBody) },
    { name: 'responses → openai-compatible (translated)', events: openaiEvents(), make: () => bridgedAdapter(responsesTranslation, openai, ctx).createStreamDecoder(gpt, responsesBody) },
    { name: 'messages → openai-compatible (translated)', events: openaiEvents(), make: () => bridgedAdapter(messagesTranslation, openai, ctx).createStreamDecoder(gpt, messagesBody) },
  ];
  const once = (c: (typeof cells)[number]): number => {
    let bytes = 0;
    const d = c.make();
    for (const e of c.events) for (const s of d.push(e).out) bytes += s.length;
    return bytes;
  };
  const bytes = cells.map((c) => once(c));
  const samples: number[][] = cells.map(() => []);
  for (let r = 0; r < rounds; r++) {
    cells.forEach((c, i) => {
      const t0 = process.hrtime.bigint();
      for (let k = 0; k < streams; k++) once(c);
      samples[i]!.push(Number(process.hrtime.bigint() - t0) / 1e3 / streams);
    });
  }
  return cells.map((c, i) => ({ name: c.name, us: median(samples[i]!), bytes: bytes[i]! }));
}
