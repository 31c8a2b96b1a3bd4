import { describe, expect, it } from '@jest/globals';
import { openaiOverText } from '../../../../test/support/openai-over-text.ts';
import { parseSSE } from '../../../../test/fakes/sse.ts';
import { responsesTranslation } from './translation.ts';
import { fixedContext } from '../../testing/translation-context.ts';
import type { StreamErrorFields } from '../types.ts';

const request = { model: 'route', input: 'Hi', stream: true };

function chunk(delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'up-model', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...extra };
}
const usageChunk = {
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'up-model',
  choices: [],
  usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8, prompt_tokens_details: { cached_tokens: 1 }, completion_tokens_details: { reasoning_tokens: 2 } },
};

function encode(chunks: Record<string, unknown>[], req: Record<string, unknown> = request): { text: string; events: { event: string | undefined; data: any }[] } {
  const enc = responsesTranslation.streamEncoder(req, fixedContext());
  let text = '';
  for (const c of chunks) text += enc.chunk(c).join('');
  text += enc.finish({ prompt: 5, completion: 3 }).join('');
  return { text, events: parseSSE(text).map((e) => ({ event: e.event, data: JSON.parse(e.data) })) };
}

function types(events: { data: any }[]): string[] {
  return events.map((e) => e.data.type);
}

describe('ResponsesChunkEncoder', () => {
  it('emits the full event sequence of a text answer, numbered from 0, event names matching data.type', () => {
    const { events } = encode([chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hel' }), chunk({ content: 'lo' }), chunk({}, 'stop'), usageChunk]);
    expect(types(events)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, i) => i));
    for (const e of events) expect(e.event).toBe(e.data.type);
    expect(events[0]!.data.response).toMatchObject({ id: 'resp_1', status: 'in_progress', output: [], usage: null, model: 'up-model' });
    expect(events[4]!.data).toEqual({ type: 'response.output_text.delta', sequence_number: 4, item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'Hel', logprobs: [] });
    expect(events[6]!.data).toMatchObject({ text: 'Hello', item_id: 'msg_1' });
    const done = events[9]!.data.response;
    expect(done).toMatchObject({ id: 'resp_1', status: 'completed', model: 'up-model' });
    expect(done.output).toEqual([{ id: 'msg_1', type: 'message', status: 'completed', content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'Hello' }], role: 'assistant' }]);
    expect(done.usage).toEqual({ input_tokens: 5, input_tokens_details: { cached_tokens: 1 }, output_tokens: 3, output_tokens_details: { reasoning_tokens: 2 }, total_tokens: 8 });
  });

  it('emits reasoning as a summary, then text, then tool calls interleaved by index, each its own item', () => {
    const { events } = encode([
      chunk({ role: 'assistant', reasoning_content: 'Think' }),
      chunk({ reasoning_content: 'ing.' }),
      chunk({ content: 'Calling.' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'weather', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'time', arguments: '{"tz"' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":"Paris"}' } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: ':"CET"}' } }] }),
      chunk({}, 'tool_calls'),
    ]);
    expect(types(events)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.reasoning_summary_part.added',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.done',
      'response.reasoning_summary_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const deltas = events.filter((e) => e.data.type === 'response.function_call_arguments.delta').map((e) => [e.data.output_index, e.data.delta]);
    expect(deltas).toEqual([[3, '{"tz"'], [2, '{"city":"Paris"}'], [3, ':"CET"}']]);
    expect(events.at(-1)!.data.response.output).toEqual([
      { id: 'rs_1', type: 'reasoning', summary: [{ type: 'summary_text', text: 'Thinking.' }] },
      { id: 'msg_1', type: 'message', status: 'completed', content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'Calling.' }], role: 'assistant' },
      { id: 'fc_1', type: 'function_call', status: 'completed', arguments: '{"city":"Paris"}', call_id: 'call_a', name: 'weather' },
      { id: 'fc_2', type: 'function_call', status: 'completed', arguments: '{"tz":"CET"}', call_id: 'call_b', name: 'time' },
    ]);
    // Without a usage chunk, the counts the stream reported stand in.
    expect(events.at(-1)!.data.response.usage).toMatchObject({ input_tokens: 5, output_tokens: 3, total_tokens: 8 });
  });

  it('ends with response.incomplete on length and content_filter, and handles an empty answer', () => {
    const length = encode([chunk({ content: 'cut' }), chunk({}, 'length')]).events.at(-1)!.data;
    expect(length.type).toBe('response.incomplete');
    expect(length.response).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
    expect(length.response.output[0].status).toBe('incomplete');
    const filtered = encode([chunk({ role: 'assistant', content: '' }), chunk({}, 'content_filter')]).events;
    expect(types(filtered)).toEqual(['response.created', 'response.in_progress', 'response.incomplete']);
    expect(filtered[2]!.data.response).toMatchObject({ incomplete_details: { reason: 'content_filter' }, output: [] });
    const empty = encode([]).events;
    expect(types(empty)).toEqual(['response.created', 'response.in_progress', 'response.completed']);
  });

  it('streams a refusal as a refusal part', () => {
    const { events } = encode([chunk({ refusal: 'No' }), chunk({ refusal: '.' }), chunk({}, 'stop')]);
    expect(types(events).slice(2, 9)).toEqual([
      'response.output_item.added',
      'response.content_part.added',
      'response.refusal.delta',
      'response.refusal.delta',
      'response.refusal.done',
      'response.content_part.done',
      'response.output_item.done',
    ]);
    expect(events[6]!.data.refusal).toBe('No.');
  });

  it("reads back through the openai SDK's responses.stream() and create({stream: true})", async () => {
    const { text } = encode([
      chunk({ reasoning_content: 'Hmm.' }),
      chunk({ content: 'Hel' }),
      chunk({ content: 'lo' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      chunk({}, 'tool_calls'),
      usageChunk,
    ]);
    const stream = openaiOverText(text).responses.stream({ model: 'route', input: 'Hi' });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (e) => deltas.push(e.snapshot));
    const final = await stream.finalResponse();
    expect(deltas).toEqual(['Hel', 'Hello']);
    expect(final.output_text).toBe('Hello');
    expect(final.status).toBe('completed');
    expect(final.output.map((o) => o.type)).toEqual(['reasoning', 'message', 'function_call']);
    expect(final.output[2]).toMatchObject({ call_id: 'call_a', arguments: '{"city":"Paris"}' });

    const seen: string[] = [];
    for await (const e of await openaiOverText(text).responses.create({ model: 'route', input: 'Hi', stream: true })) seen.push(e.type);
    expect(seen.at(-1)).toBe('response.completed');
  });
});

describe('ResponsesChunkEncoder.error', () => {
  const e: StreamErrorFields = { message: 'the provider ended the stream early', type: 'llmroute_stream_error', code: 'connection-error', param: null, errorClass: 'connection-error', status: 502 };

  it('ends a broken stream with an error event, then response.failed, continuing the numbering', () => {
    const enc = responsesTranslation.streamEncoder(request, fixedContext());
    const text = enc.chunk(chunk({ content: 'Hel' })).join('') + enc.error(e);
    const events = parseSSE(text).map((x) => ({ event: x.event, data: JSON.parse(x.data) }));
    expect(types(events)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added', 'response.output_text.delta', 'error', 'response.failed']);
    expect(events.map((x) => x.data.sequence_number)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(events[5]).toEqual({ event: 'error', data: { type: 'error', sequence_number: 5, code: 'connection-error', message: e.message, param: null } });
    expect(events[6]!.data.response).toMatchObject({ id: 'resp_1', status: 'failed', error: { code: 'server_error', message: e.message } });
    expect(events[6]!.data.response.output).toEqual([
      { id: 'msg_1', type: 'message', status: 'in_progress', content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'Hel' }], role: 'assistant' },
    ]);
    const rate = parseSSE(responsesTranslation.streamEncoder(request, fixedContext()).error({ ...e, errorClass: 'rate-limit', status: 429 })).map((x) => JSON.parse(x.data));
    expect(rate.at(-1).response.error.code).toBe('rate_limit_exceeded');
  });

  it("is never a clean end to the openai SDK: responses.stream() rejects with the error event, create({stream}) hands both events over", async () => {
    const enc = responsesTranslation.streamEncoder(request, fixedContext());
    const text = enc.chunk(chunk({ content: 'Hel' })).join('') + enc.error(e);
    await expect(openaiOverText(text).responses.stream({ model: 'route', input: 'Hi' }).finalResponse()).rejects.toMatchObject({ type: 'error', code: 'connection-error', message: e.message });
    const seen: any[] = [];
    for await (const ev of await openaiOverText(text).responses.create({ model: 'route', input: 'Hi', stream: true })) seen.push(ev);
    expect(seen.slice(-2).map((ev) => ev.type)).toEqual(['error', 'response.failed']);
    expect(seen.at(-1).response).toMatchObject({ status: 'failed', error: { code: 'server_error' } });
  });
});
