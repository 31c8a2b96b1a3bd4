import { describe, expect, it } from '@jest/globals';
import { firstStop, StopCutter } from './stop-sequences.ts';

describe('firstStop', () => {
  it('finds the earliest occurrence of any sequence', () => {
    expect(firstStop('ab\ncd\n\nef', ['\n\n', '\n'])).toBe(2);
    expect(firstStop('abc', ['\n'])).toBe(-1);
    expect(firstStop('', ['\n'])).toBe(-1);
  });
});

describe('StopCutter', () => {
  /** Feeds pieces, returns what went out and whether it stopped. */
  function feed(stops: string[], pieces: string[]): { out: string; stopped: boolean; rest: string } {
    const c = new StopCutter(stops);
    let out = '';
    for (const p of pieces) out += c.push(p);
    return { out, stopped: c.stopped, rest: c.flush() };
  }

  it('passes text without a sequence through at once', () => {
    const c = new StopCutter(['\n']);
    expect(c.push('Hello ')).toBe('Hello ');
    expect(c.push('world')).toBe('world');
    expect(c.stopped).toBe(false);
  });

  it('cuts at a sequence inside one piece', () => {
    expect(feed(['\n'], ['one\ntwo'])).toEqual({ out: 'one', stopped: true, rest: '' });
  });

  it('cuts at a sequence split across pieces, holding back the possible start', () => {
    const c = new StopCutter(['\n\n']);
    expect(c.push('one\n')).toBe('one');
    expect(c.stopped).toBe(false);
    expect(c.push('\ntwo')).toBe('');
    expect(c.stopped).toBe(true);
  });

  it('releases held text when it turns out not to be a sequence', () => {
    const c = new StopCutter(['\n\n']);
    expect(c.push('a\n')).toBe('a');
    expect(c.push('b')).toBe('\nb');
    expect(c.push('c\n')).toBe('c');
    expect(c.flush()).toBe('\n');
  });

  it('takes the earliest of several sequences, across one-character pieces', () => {
    expect(feed(['\n\n', ' \t'], [...'ab \tc\n\nd'])).toEqual({ out: 'ab', stopped: true, rest: '' });
  });

  it('sends nothing after it stopped', () => {
    const c = new StopCutter(['\n']);
    c.push('x\n');
    expect(c.push('more')).toBe('');
  });
});
