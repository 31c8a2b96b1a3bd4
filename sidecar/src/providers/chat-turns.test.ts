import { describe as group, expect, it } from '@jest/globals';
import { BadRequestError } from '../errors.ts';
import type { Json } from './common.ts';
import { functionTools, parseArguments, textParts, walkChatMessages, type TurnBlocks } from './chat-turns.ts';

/** A provider that writes each block as a string and records the turns it is given. */
function recorder(): { blocks: TurnBlocks; turns: Array<[string, Json[]]> } {
  const turns: Array<[string, Json[]]> = [];
  return {
    turns,
    blocks: {
      user: (content, param) => [{ user: JSON.stringify(content), param }],
      text: (text) => ({ text }),
      toolUse: (id, fn, param) => ({ use: id, fn: fn as Json, param }),
      toolResult: (id, content, param) => ({ result: id, content: content as Json, param }),
      push: (role, blocks) => void turns.push([role, blocks]),
    },
  };
}

function refusal(messages: unknown[]): BadRequestError {
  try {
    walkChatMessages(messages, recorder().blocks, []);
  } catch (e) {
    if (e instanceof BadRequestError) return e;
    throw e;
  }
  throw new Error('walked');
}

group('walkChatMessages', () => {
  it('hoists system and developer text in order, and hands every other message to the provider as turns, with their paths', () => {
    const r = recorder();
    const system: string[] = [];
    walkChatMessages(
      [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hi' },
        { role: 'developer', content: [{ type: 'text', text: 'no emoji' }, { type: 'text', text: '  ' }] },
        { role: 'assistant', content: 'calling', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'ok' },
        { role: 'assistant', content: null, function_call: { name: 'g', arguments: '{"a":1}' } },
        { role: 'function', name: 'g', content: 'done' },
      ],
      r.blocks,
      system,
    );
    expect(system).toEqual(['be brief', 'no emoji']);
    expect(r.turns).toEqual([
      ['user', [{ user: '"hi"', param: 'messages[1].content' }]],
      ['assistant', [{ text: 'calling' }, { use: 'call_1', fn: { name: 'f', arguments: '{}' }, param: 'messages[3].tool_calls[0].function' }]],
      ['user', [{ result: 'call_1', content: 'ok', param: 'messages[4].content' }]],
      // a legacy function_call gets an id from its message's index, which the function message answers
      ['assistant', [{ use: 'call_fn_5', fn: { name: 'g', arguments: '{"a":1}' }, param: 'messages[5].function_call' }]],
      ['user', [{ result: 'call_fn_5', content: 'done', param: 'messages[6].content' }]],
    ]);
  });

  it('refuses what cannot be walked, naming the message', () => {
    expect(refusal(['hi'])).toMatchObject({ message: 'messages[0] must be an object', param: 'messages[0]' });
    expect(refusal([{ role: 'assistant', tool_calls: [{ function: { name: 'f' } }] }])).toMatchObject({ param: 'messages[0].tool_calls[0].id' });
    expect(refusal([{ role: 'tool', content: 'x' }])).toMatchObject({ message: 'messages[0].tool_call_id is missing' });
    expect(refusal([{ role: 'function', content: 'x' }])).toMatchObject({ message: 'messages[0]: a function message must follow an assistant function_call' });
    // a function message answers only the function_call just before it
    expect(refusal([{ role: 'assistant', function_call: { name: 'g' } }, { role: 'function', content: 'a' }, { role: 'function', content: 'b' }])).toMatchObject({ param: 'messages[2]' });
    expect(refusal([{ role: 'critic', content: 'x' }])).toMatchObject({ message: "messages[0].role 'critic' is not supported", param: 'messages[0].role' });
  });
});

group('the part readers', () => {
  it('textParts: the text of string content or of text and refusal parts, blanks left out', () => {
    expect(textParts('  ', 'p')).toEqual([]);
    expect(textParts([{ type: 'text', text: 'a' }, { type: 'refusal', refusal: 'no' }, { type: 'image_url' }, { type: 'text', text: ' ' }], 'p')).toEqual(['a', 'no']);
    expect(() => textParts(7, 'p')).toThrow('p must be a string or an array of content parts');
  });

  it('parseArguments: a JSON object string or an object; anything else is the client\'s 400', () => {
    expect(parseArguments('{"a":1}', 'q')).toEqual({ a: 1 });
    expect(parseArguments('', 'q')).toEqual({});
    expect(parseArguments({ b: 2 }, 'q')).toEqual({ b: 2 });
    expect(() => parseArguments('[1]', 'q')).toThrow('q must be a JSON object');
    expect(() => parseArguments('{', 'q')).toThrow('q is not valid JSON');
  });

  it('functionTools: tools or the legacy functions, read once for every provider; a non-function tool or a nameless one is refused for that provider', () => {
    const params = { type: 'object', properties: { q: { type: 'string' } } };
    expect(functionTools({ tools: [{ type: 'function', function: { name: 'f', description: 'finds', parameters: params } }, { type: 'function', function: { name: 'g', description: '', parameters: 'x' } }] }, 'p')).toEqual([
      { name: 'f', description: 'finds', parameters: params },
      { name: 'g' },
    ]);
    expect(functionTools({ functions: [{ name: 'h' }] }, 'p')).toEqual([{ name: 'h' }]);
    expect(functionTools({ tools: [] }, 'p')).toBeUndefined();
    expect(functionTools({}, 'p')).toBeUndefined();
    expect(() => functionTools({ tools: [{ type: 'web_search' }] }, 'gemini')).toThrow('tools[0]: only function tools are supported by gemini targets');
    expect(() => functionTools({ functions: [{ description: 'x' }] }, 'p')).toThrow('functions[0].function.name is missing');
  });
});
