import { describe, expect, it } from '@jest/globals';
import type { SseEvent } from '../../providers/types.ts';
import { MessagesPassThroughDecoder } from './native-stream.ts';

const ev = (event: string, data: string): SseEvent => ({ event, data });
const START = ev('message_start', '{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"usage":{"input_tokens":10,"cache_read_input_tokens":5,"output_tokens":1}}}');
const PING = ev('ping', '{"type": "ping"}');

describe('MessagesPassThroughDecoder', () => {
  it('passes every event on unchanged as a frame, commits at the first delta, and finishes at message_stop', () => {
    const d = new MessagesPassThroughDecoder();
    const events = [
      START,
      PING,
      ev('content_block_start', '{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}'),
      ev('content_block_delta', '{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}}'),
      ev('content_block_delta', '{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQB"}}'),
      ev('content_block_stop', '{"type":"content_block_stop","index":0}'),
      ev('message_delta', '{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":9}}'),
      ev('message_stop', '{"type":"message_stop"}'),
    ];
    const steps = events.map((e) => d.push(e));
    expect(steps.map((s) => s.out)).toEqual(events.map((e) => [`event: ${e.event}\ndata: ${e.data}\n\n`]));
    expect(steps.map((s) => s.content)).toEqual([false, false, false, true, false, false, false, false]);
    expect(steps[0]!.usage).toEqual({ prompt: 15, completion: 1 });
    expect(steps[6]!.usage).toEqual({ prompt: 15, completion: 9 });
    expect(steps[7]).toMatchObject({ finished: true, usage: { prompt: 15, completion: 9 } });
    expect(d.framed.end).toBe('');
  });

  it('commits at the start of a tool_use block', () => {
    const d = new MessagesPassThroughDecoder();
    d.push(START);
    expect(d.push(ev('content_block_start', '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}')).content).toBe(false);
    expect(d.push(ev('content_block_start', '{"type":"content_block_start", "index":1, "content_block": {"type": "tool_use","id":"toolu_1","name":"f","input":{}}}')).content).toBe(true);
    expect(d.push(ev('content_block_delta', '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{}"}}')).content).toBe(false);
  });

  it('turns an error event into a step error with its class, before and after the commit point', () => {
    const d = new MessagesPassThroughDecoder();
    d.push(START);
    const s = d.push(ev('error', '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'));
    expect(s.out).toEqual([]);
    expect(s.error).toMatchObject({ status: 529, errorClass: 'server-error', code: 'overloaded', message: 'Overloaded' });
    // framed.error writes it back in Anthropic's shape with its own type.
    expect(d.framed.error({ ...s.error!, param: null })).toBe('event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n');
  });

  it('refuses an unreadable message_start', () => {
    expect(new MessagesPassThroughDecoder().push(ev('message_start', '{"type":')).error).toMatchObject({ status: 502 });
  });
});
