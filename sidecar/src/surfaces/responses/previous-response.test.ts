import { describe, expect, it } from '@jest/globals';
import { expand, resolveItemReferences } from './previous-response.ts';
import { ResponseStore } from './response-store.ts';

const servedBy = { target: 'primary', provider: 'openai', baseURL: 'https://api.openai.com/v1' };

function storeWithTurn(): ResponseStore {
  const s = new ResponseStore({ maxEntries: 10, maxBytes: 1 << 20, ttlMs: 60_000 });
  s.put('resp_1', {
    items: [{ role: 'user', content: 'Weather in Paris?' }],
    servedBy,
    response: {
      id: 'resp_1',
      object: 'response',
      instructions: 'Be brief.',
      output: [
        { id: 'rs_1', type: 'reasoning', summary: [{ type: 'summary_text', text: 'call it' }] },
        { id: 'rs_2', type: 'reasoning', summary: [], encrypted_content: 'gAAAA' },
        { id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.', annotations: [] }] },
        { id: 'fc_1', type: 'function_call', status: 'completed', call_id: 'call_a', name: 'weather', arguments: '{"city":"Paris"}' },
      ],
    },
  });
  return s;
}

describe('expand', () => {
  it('leaves a request without previous_response_id as it is', () => {
    const body = { model: 'm', input: 'hi' };
    expect(expand(body, storeWithTurn())).toEqual({ ok: true, body });
  });

  it('puts the earlier input, then the earlier output, then the new input, and drops previous_response_id; instructions are not carried over', () => {
    const r = expand({ model: 'm', previous_response_id: 'resp_1', input: [{ type: 'function_call_output', call_id: 'call_a', output: 'sunny' }] }, storeWithTurn());
    expect(r).toEqual({
      ok: true,
      body: {
        model: 'm',
        input: [
          { role: 'user', content: 'Weather in Paris?' },
          { id: 'rs_2', type: 'reasoning', summary: [], encrypted_content: 'gAAAA' },
          { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.', annotations: [] }] },
          { type: 'function_call', call_id: 'call_a', name: 'weather', arguments: '{"city":"Paris"}' },
          { type: 'function_call_output', call_id: 'call_a', output: 'sunny' },
        ],
      },
    });
    const withOwn = expand({ model: 'm', previous_response_id: 'resp_1', input: 'And Rome?', instructions: 'New rules.' }, storeWithTurn());
    expect(withOwn.ok && withOwn.body.instructions).toBe('New rules.');
    expect(withOwn.ok && (withOwn.body.input as unknown[]).at(-1)).toEqual({ role: 'user', content: 'And Rome?' });
  });

  it('names the id the store does not have', () => {
    expect(expand({ model: 'm', previous_response_id: 'resp_gone', input: 'x' }, storeWithTurn())).toEqual({ ok: false, missing: 'resp_gone' });
  });
});

describe('resolveItemReferences', () => {
  it('replaces each item_reference by the stored item it names, without its id', () => {
    const body = { model: 'm', input: [{ role: 'user', content: 'Weather in Paris?' }, { type: 'item_reference', id: 'msg_1' }, { type: 'item_reference', id: 'fc_1' }, { type: 'function_call_output', call_id: 'call_a', output: '18 C' }] };
    expect(resolveItemReferences(body, storeWithTurn())).toEqual({
      ok: true,
      body: {
        model: 'm',
        input: [
          { role: 'user', content: 'Weather in Paris?' },
          { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.', annotations: [] }] },
          { type: 'function_call', call_id: 'call_a', name: 'weather', arguments: '{"city":"Paris"}' },
          { type: 'function_call_output', call_id: 'call_a', output: '18 C' },
        ],
      },
    });
  });

  it('names an id the store does not hold, and leaves a body without references untouched', () => {
    expect(resolveItemReferences({ model: 'm', input: [{ type: 'item_reference', id: 'msg_gone' }] }, storeWithTurn())).toEqual({ ok: false, missing: 'msg_gone' });
    const plain = { model: 'm', input: 'hi' };
    expect(resolveItemReferences(plain, storeWithTurn()).ok && resolveItemReferences(plain, storeWithTurn())).toEqual({ ok: true, body: plain });
  });

  it('forgets the items of a response deleted or evicted from the store', () => {
    const s = storeWithTurn();
    expect(s.item('msg_1')?.item.id).toBe('msg_1');
    s.delete('resp_1');
    expect(s.item('msg_1')).toBeUndefined();
  });
});
