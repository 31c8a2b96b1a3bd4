import { BadRequestError } from './errors.ts';
import { checkRequest, parseJsonBody } from './request-checks.ts';

const chat = (extra: Record<string, unknown> = {}) => ({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], ...extra });

function paramOf(fn: () => unknown): string | null | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof BadRequestError) return err.param;
    throw err;
  }
  return undefined;
}

describe('parseJsonBody', () => {
  it.each([
    ['', /empty/],
    ['{', /not valid JSON/],
    ['[1,2]', /must be a JSON object/],
    ['"text"', /must be a JSON object/],
    ['null', /must be a JSON object/],
  ])('refuses %j', (text, message) => {
    expect(() => parseJsonBody(Buffer.from(text))).toThrow(message);
  });
  it('accepts an object', () => expect(parseJsonBody(Buffer.from('{"model":"x"}'))).toEqual({ model: 'x' }));

  describe('nesting', () => {
    const nest = (n: number): string => `{"a":${'['.repeat(n - 1)}${']'.repeat(n - 1)}}`;
    it('accepts 256 levels and refuses 257', () => {
      expect(() => parseJsonBody(Buffer.from(nest(256)))).not.toThrow();
      expect(() => parseJsonBody(Buffer.from(nest(257)))).toThrow(/more than 256 levels deep/);
    });
    it('many brackets side by side are shallow: accepted (the full scan runs, and passes)', () => {
      const wide = JSON.stringify({ model: 'x', messages: Array.from({ length: 600 }, () => ({ role: 'user', content: [{ type: 'text', text: 'hi' }] })) });
      expect(parseJsonBody(Buffer.from(wide)).messages).toHaveLength(600);
    });
    it('brackets inside strings count for nothing, however many', () => {
      const text = JSON.stringify({ model: 'x', s: '{['.repeat(1000) });
      expect(parseJsonBody(Buffer.from(text)).s).toHaveLength(2000);
    });
    it('deep nesting among many brackets is still found', () => {
      const text = `{"pad":[${'{},'.repeat(300)}{}],"deep":${nest(300).slice(5, -1)}}`;
      expect(() => parseJsonBody(Buffer.from(text))).toThrow(/levels deep/);
    });
  });
});

describe('checkRequest', () => {
  it('returns the model of a valid chat request', () => expect(checkRequest('chat', chat())).toBe('chat'));

  it.each([
    [{ model: undefined }, 'model'],
    [{ model: '' }, 'model'],
    [{ model: 42 }, 'model'],
    [{ messages: [] }, 'messages'],
    [{ messages: 'hi' }, 'messages'],
    [{ messages: [null] }, 'messages[0]'],
    [{ messages: [{ role: 'wizard', content: 'x' }] }, 'messages[0].role'],
    [{ messages: [{ role: 'user', content: 7 }] }, 'messages[0].content'],
    [{ stream: 'yes' }, 'stream'],
    [{ n: 0 }, 'n'],
    [{ n: 1e9 }, 'n'],
    [{ max_tokens: -5 }, 'max_tokens'],
    [{ max_tokens: 1.5 }, 'max_tokens'],
    [{ temperature: 3 }, 'temperature'],
    [{ temperature: 'hot' }, 'temperature'],
    [{ top_p: 2 }, 'top_p'],
    [{ tools: {} }, 'tools'],
    [{ stop: [1] }, 'stop'],
  ])('refuses %j naming %s', (patch, param) => {
    expect(paramOf(() => checkRequest('chat', chat(patch)))).toBe(param);
  });

  it('passes unknown fields through untouched', () => expect(checkRequest('chat', chat({ seed: 1, whatever: { a: 1 } }))).toBe('chat'));

  it('checks a legacy completion: prompt, and the sampling fields chat has', () => {
    expect(checkRequest('completions', { model: 'c', prompt: 'Say' })).toBe('c');
    expect(checkRequest('completions', { model: 'c', prompt: ['a', 'b'], stream: true, max_tokens: 5 })).toBe('c');
    expect(checkRequest('completions', { model: 'c', prompt: [[1, 2]] })).toBe('c');
    expect(paramOf(() => checkRequest('completions', { model: 'c' }))).toBe('prompt');
    expect(paramOf(() => checkRequest('completions', { model: 'c', prompt: [] }))).toBe('prompt');
    expect(paramOf(() => checkRequest('completions', { model: 'c', prompt: 'x', stream: 'yes' }))).toBe('stream');
    expect(paramOf(() => checkRequest('completions', { model: 'c', prompt: 'x', temperature: 9 }))).toBe('temperature');
    expect(paramOf(() => checkRequest('completions', { prompt: 'x' }))).toBe('model');
  });

  it('checks embeddings input', () => {
    expect(checkRequest('embeddings', { model: 'e', input: 'text' })).toBe('e');
    expect(checkRequest('embeddings', { model: 'e', input: ['a', 'b'] })).toBe('e');
    expect(paramOf(() => checkRequest('embeddings', { model: 'e' }))).toBe('input');
    expect(paramOf(() => checkRequest('embeddings', { model: 'e', input: [] }))).toBe('input');
  });
});
