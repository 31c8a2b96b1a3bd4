import { describe, expect, it } from '@jest/globals';
import { inputItemsPage } from './input-items.ts';

describe('inputItemsPage', () => {
  const items = [
    { role: 'user', content: 'one' },
    { type: 'message', role: 'assistant', content: 'two' },
    { type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' },
    { type: 'function_call_output', call_id: 'c', output: 'x' },
  ];

  it('lists newest first by default, with ids, first_id, last_id and has_more; after and limit page through', () => {
    const p1 = inputItemsPage('resp_z', items, { limit: 2 });
    expect((p1.data as { id: string }[]).map((i) => i.id)).toEqual(['fco_z_3', 'fc_z_2']);
    expect(p1).toMatchObject({ object: 'list', first_id: 'fco_z_3', last_id: 'fc_z_2', has_more: true });
    const p2 = inputItemsPage('resp_z', items, { limit: 2, after: 'fc_z_2' });
    expect(p2).toMatchObject({ first_id: 'msg_z_1', last_id: 'msg_z_0', has_more: false });
    expect((p2.data as unknown[])[0]).toEqual({ id: 'msg_z_1', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'two' }] });
    const asc = inputItemsPage('resp_z', items, { order: 'asc' });
    expect((asc.data as { id: string }[]).map((i) => i.id)).toEqual(['msg_z_0', 'msg_z_1', 'fc_z_2', 'fco_z_3']);
    expect(inputItemsPage('resp_z', [], {})).toEqual({ object: 'list', data: [], first_id: null, last_id: null, has_more: false });
  });
});
