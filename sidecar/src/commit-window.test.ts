import { describe, expect, it } from '@jest/globals';
import { COMMIT_WINDOW_MAX_BYTES, contentChars, holdFrames, judgeWindow, tokensPerSecond, type WindowState } from './commit-window.ts';
import type { CommitPolicy } from './config/runtime-config.ts';

const policy = (p: Partial<CommitPolicy>): CommitPolicy => ({ afterTokens: undefined, afterMs: undefined, minTokensPerSecond: undefined, ...p });
const state = (s: Partial<WindowState> = {}): WindowState => ({ openedAt: 1000, tokens: 0, tokensAfterFirst: 0, bytes: 0, ...s });

describe('judgeWindow: when a held stream commits', () => {
  it('holds until afterTokens, then commits', () => {
    const p = policy({ afterTokens: 20 });
    expect(judgeWindow(p, state({ tokens: 19 }), false, 5000)).toEqual({ action: 'hold', waitMs: undefined });
    expect(judgeWindow(p, state({ tokens: 20 }), false, 1001)).toEqual({ action: 'commit', by: 'tokens' });
  });

  it('holds until afterMs after the first content chunk, saying how long is left, then commits', () => {
    const p = policy({ afterMs: 500 });
    expect(judgeWindow(p, state(), false, 1000)).toEqual({ action: 'hold', waitMs: 500 });
    expect(judgeWindow(p, state(), false, 1300)).toEqual({ action: 'hold', waitMs: 200 });
    expect(judgeWindow(p, state(), false, 1500)).toEqual({ action: 'commit', by: 'time' });
  });

  it('commits at whichever of afterTokens and afterMs comes first', () => {
    const p = policy({ afterTokens: 50, afterMs: 1000 });
    expect(judgeWindow(p, state({ tokens: 50 }), false, 1100)).toEqual({ action: 'commit', by: 'tokens' });
    expect(judgeWindow(p, state({ tokens: 3 }), false, 2000)).toEqual({ action: 'commit', by: 'time' });
    expect(judgeWindow(p, state({ tokens: 3 }), false, 1999)).toEqual({ action: 'hold', waitMs: 1 });
  });

  it('a stream that finishes inside the window commits at once: a short answer does not wait', () => {
    const p = policy({ afterTokens: 1000, afterMs: 5000, minTokensPerSecond: 100 });
    expect(judgeWindow(p, state({ tokens: 2 }), true, 1001)).toEqual({ action: 'commit', by: 'finished' });
  });

  it('commits when the held frames reach the byte cap, whatever else it waits for', () => {
    const p = policy({ afterTokens: 100_000, minTokensPerSecond: 100_000 });
    expect(judgeWindow(p, state({ bytes: COMMIT_WINDOW_MAX_BYTES - 1 }), false, 1001).action).toBe('hold');
    expect(judgeWindow(p, state({ bytes: COMMIT_WINDOW_MAX_BYTES }), false, 1001)).toEqual({ action: 'commit', by: 'bytes' });
  });
});

describe('judgeWindow: minTokensPerSecond, judged at the window end', () => {
  const p = policy({ afterTokens: 40, afterMs: 2000, minTokensPerSecond: 10 });

  it('a stream that crawls fails at afterMs, with its rate', () => {
    // 4 tokens after the first chunk in 2 s: 2 tokens/s.
    expect(judgeWindow(p, state({ tokens: 5, tokensAfterFirst: 4 }), false, 3000)).toEqual({ action: 'fail', tokensPerSecond: 2 });
  });

  it('a stream that stalled (nothing since its first chunk) fails at afterMs', () => {
    expect(judgeWindow(p, state({ tokens: 1, tokensAfterFirst: 0 }), false, 3000)).toEqual({ action: 'fail', tokensPerSecond: 0 });
  });

  it('the rate is not judged before the window ends, however slow so far', () => {
    expect(judgeWindow(p, state({ tokens: 1, tokensAfterFirst: 0 }), false, 2500)).toEqual({ action: 'hold', waitMs: 500 });
  });

  it('a healthy stream commits at afterTokens; exactly the minimum passes', () => {
    expect(judgeWindow(p, state({ tokens: 41, tokensAfterFirst: 40 }), false, 1800)).toEqual({ action: 'commit', by: 'tokens' });
    expect(judgeWindow(p, state({ tokens: 21, tokensAfterFirst: 20 }), false, 3000)).toEqual({ action: 'commit', by: 'time' });
  });

  it('a stream slow to reach afterTokens fails there', () => {
    expect(judgeWindow(p, state({ tokens: 40, tokensAfterFirst: 39 }), false, 1000 + 3900 * 2)).toEqual({ action: 'fail', tokensPerSecond: 5 });
  });

  it('afterTokens reached by the first chunk alone (no time passed) is not a crawl', () => {
    expect(judgeWindow(p, state({ tokens: 60, tokensAfterFirst: 0 }), false, 1000)).toEqual({ action: 'commit', by: 'tokens' });
    expect(tokensPerSecond(state(), 0)).toBe(Infinity);
  });
});

describe('the token estimate', () => {
  it('counts the characters of text-bearing fields in chat chunks, tool-call arguments included', () => {
    expect(contentChars('{"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hello there"},"finish_reason":null}]}')).toBe(11);
    expect(contentChars('{"choices":[{"delta":{"role":"assistant","content":""}}]}')).toBe(0);
    expect(contentChars('{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"city\\":\\"Paris\\"}"}}]}}]}')).toBe(20);
    expect(contentChars('{"choices":[{"delta":{"reasoning_content":"think"}}]}')).toBe(5);
  });

  it('counts the deltas of Responses and Messages frames, and nothing of their other events', () => {
    expect(contentChars('event: response.output_text.delta\ndata: {"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"Bonjour"}\n\n')).toBe(7);
    expect(contentChars('event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi!"}}\n\n')).toBe(3);
    expect(contentChars('event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"a\\":1"}}\n\n')).toBe(8);
    expect(contentChars('event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","role":"assistant","content":[],"model":"m"}}\n\n')).toBe(0);
  });

  it('holdFrames adds frames from an index, the first batch apart from the rate', () => {
    const s = state();
    const chunk = (text: string) => `{"choices":[{"delta":{"content":"${text}"}}]}`;
    const frames = [chunk('abcd'), chunk('efghijkl')];
    holdFrames(s, frames, 0, true);
    expect(s).toMatchObject({ tokens: 3, tokensAfterFirst: 0, bytes: frames[0]!.length + frames[1]!.length });
    frames.push(chunk('mnop'));
    holdFrames(s, frames, 2, false);
    expect(s).toMatchObject({ tokens: 4, tokensAfterFirst: 1 });
  });
});
