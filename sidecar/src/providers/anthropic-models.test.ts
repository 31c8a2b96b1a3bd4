import { describe, expect, it } from '@jest/globals';
import { modelTraits, UNKNOWN_MODEL } from './anthropic-models.ts';

describe('modelTraits', () => {
  it.each([
    // name, max output, thinking, structured outputs
    ['claude-3-haiku-20240307', 4096, 'none', false],
    ['claude-3-opus-20240229', 4096, 'none', false],
    ['claude-3-5-sonnet-20241022', 8192, 'none', false],
    ['claude-3-5-haiku-latest', 8192, 'none', false],
    ['claude-3-7-sonnet-20250219', 64000, 'budget', false],
    ['claude-sonnet-4-20250514', 64000, 'budget', false],
    ['claude-opus-4-20250514', 32000, 'budget', false],
    ['claude-opus-4-1', 32000, 'budget', false],
    ['claude-sonnet-4-5', 64000, 'budget', true],
    ['claude-sonnet-4-5-20250929', 64000, 'budget', true],
    ['anthropic.claude-sonnet-4-5-20250929-v1:0', 64000, 'budget', true],
    ['claude-haiku-4-5', 64000, 'budget', true],
    ['claude-opus-4-5', 64000, 'budget', true],
    ['claude-sonnet-4-6', 64000, 'adaptive', true],
    ['claude-opus-4-7', 64000, 'adaptive', true],
    ['claude-sonnet-5', 64000, 'adaptive', true],
    ['claude-opus-5', 64000, 'adaptive', true],
  ] as const)('%s: max output %d, thinking %s, structured outputs %s', (name, maxOutput, thinking, structuredOutputs) => {
    expect(modelTraits(name)).toEqual({ maxOutput, thinking, structuredOutputs });
  });

  it('gives names of no known family the conservative values', () => {
    expect(modelTraits('my-proxy-model')).toBe(UNKNOWN_MODEL);
    expect(UNKNOWN_MODEL).toEqual({ maxOutput: 4096, thinking: 'none', structuredOutputs: false });
  });
});
