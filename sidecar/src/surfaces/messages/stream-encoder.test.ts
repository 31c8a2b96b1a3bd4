import { describe, expect, it } from '@jest/globals';
import { MessagesStreamEncoder } from './stream-encoder.ts';
import { testContext } from '../../testing/translation-context.ts';

type Ev = { event: string; data: any };

/** Frames -> events, checking each is `event: X\ndata: Y\n\n` with X the data's type. */
function events(frames: string[]): Ev[] {
  return frames.map((f) => {
    const m = /^event: ([a-z_]+)\ndata: (.*)\n\n$/s.exec(f);
    if (!m) throw new Error(`not a frame: ${JSON.stringify(f)}`);
    const data = JSON.parse(m[2]!);
    expect(data.type).toBe(m[1]);
    return { event: m[1]!, data };
  });
}

const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}) => ({
  id: 'c',
  object: 'chat.completion.chunk',
  choices: [{ index: 0, delta, finish_reason: finish, ...extra }],
});

function run(request: Record<string, unknown>, chunks: Record<string, unknown>[], usage?: { prompt: number; completion: number }): Ev[] {
  const enc = new MessagesStreamEncoder(request, testContext());
  const frames = chunks.flatMap((c) => enc.chunk(c));
  return events([...frames, ...enc.finish(usage)]);
}

/** What an SDK's accumulator makes of the events (blocks by index), checking the protocol on the way. */
function accumulate(evs: Ev[]) {
  expect(evs[0]!.event).toBe('message_start');
  expect(evs[1]!.event).toBe('ping');
  expect(evs[evs.length - 1]!.event).toBe('message_stop');
  const msg = evs[0]!.data.message;
  const open = new Set<number>();
  const json: Record<number, string> = {};
  for (const { event, data } of evs.slice(1)) {
    if (event === 'content_block_start') {
      expect(data.index).toBe(msg.content.length);
      msg.content.push({ ...data.content_block });
      open.add(data.index);
    } else if (event === 'content_block_delta') {
      const b = msg.content[data.index];
      const d = data.delta;
      if (d.type === 'text_delta') b.text += d.text;
      else if (d.type === 'thinking_delta') b.thinking += d.thinking;
      else if (d.type === 'signature_delta') b.signature = d.signature;
      else if (d.type === 'input_json_delta') json[data.index] = (json[data.index] ?? '') + d.partial_json;
    } else if (event === 'content_block_stop') {
      expect(open.delete(data.index)).toBe(true);
      if (json[data.index] !== undefined) msg.content[data.index].input = JSON.parse(json[data.index]!);
    } else if (event === 'message_delta') {
      expect(open.size).toBe(0);
      Object.assign(msg, data.delta);
      Object.assign(msg.usage, data.usage);
    }
  }
  return msg;
}

describe('MessagesStreamEncoder', () => {
  it('streams thinking, text and usage in Anthropic order', () => {
    const evs = run({ model: 'claude-x' }, [
      chunk({ role: 'assistant', content: '' }),
      chunk({ reasoning_content: 'Let me ' }),
      chunk({ reasoning_content: 'think.' }),
      chunk({ content: 'Hel' }),
      chunk({ content: 'lo' }),
      chunk({}, 'stop'),
      { id: 'c', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 50, completion_tokens: 7, prompt_tokens_details: { cached_tokens: 10 } } },
    ]);
    expect(evs.map((e) => e.event + (e.data.delta?.type ? `:${e.data.delta.type}` : ''))).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta:thinking_delta',
      'content_block_delta:thinking_delta',
      'content_block_delta:signature_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta:text_delta',
      'content_block_delta:text_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(evs[0]!.data.message).toMatchObject({ id: 'msg_0001', model: 'claude-x', content: [], stop_reason: null, usage: { input_tokens: 0, output_tokens: 0 } });
    expect(accumulate(evs)).toMatchObject({
      content: [
        { type: 'thinking', thinking: 'Let me think.', signature: '' },
        { type: 'text', text: 'Hello' },
      ],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 40, output_tokens: 7, cache_read_input_tokens: 10, cache_creation_input_tokens: 0 },
    });
  });

  it('gives each tool call its own block, in order, with the call ids', () => {
    const evs = run(
      { model: 'm' },
      [
        chunk({ content: 'Checking.' }),
        chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a":' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }),
        chunk({ tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'g', arguments: '{"b":2}' } }] }),
        chunk({}, 'tool_calls'),
      ],
      { prompt: 9, completion: 4 },
    );
    const msg = accumulate(evs);
    expect(msg.content).toEqual([
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'call_1', name: 'f', input: { a: 1 } },
      { type: 'tool_use', id: 'call_2', name: 'g', input: { b: 2 } },
    ]);
    expect(msg.stop_reason).toBe('tool_use');
    // Without a usage chunk, finish's usage is used.
    expect(msg.usage).toMatchObject({ input_tokens: 9, output_tokens: 4 });
  });

  it('reports the stop sequence a server names, and max_tokens for length', () => {
    const r = { model: 'm', stop_sequences: ['END'] };
    expect(accumulate(run(r, [chunk({ content: 'a' }), chunk({}, 'stop', { stop_reason: 'END' })]))).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'END' });
    expect(accumulate(run(r, [chunk({ content: 'ab' }), chunk({ content: 'cEN' }), chunk({ content: 'D' }), chunk({}, 'stop')]))).toMatchObject({ stop_sequence: 'END' });
    expect(accumulate(run(r, [chunk({ content: 'a' }), chunk({}, 'length')]))).toMatchObject({ stop_reason: 'max_tokens', stop_sequence: null });
  });

  it('makes a whole stream of an empty one', () => {
    const msg = accumulate(run({ model: 'm' }, []));
    expect(msg).toMatchObject({ content: [], stop_reason: 'end_turn' });
  });

  it('ends a broken stream with an error event', () => {
    const enc = new MessagesStreamEncoder({ model: 'm' }, testContext());
    enc.chunk(chunk({ content: 'x' }));
    const [ev] = events([enc.error({ errorClass: 'rate-limit', status: 429, message: 'slow down', type: 'rate_limit_error', code: null, param: null })]);
    expect(ev).toEqual({ event: 'error', data: { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } } });
  });
});
