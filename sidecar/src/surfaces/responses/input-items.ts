/**
 * `GET /v1/responses/{id}/input_items` from a stored response: the API's
 * list shape (`object: 'list'`, `data`, `first_id`, `last_id`, `has_more`),
 * newest first by default (`order: 'desc'`), `after` an item id, `limit`
 * 1 to 100 (default 20). Items are shown as the API shows them: each with an
 * id (its own, else one made from the response id and its position, stable
 * across calls), messages with `status` and their content as parts.
 */
import { isObject, type Json } from '../../providers/common.ts';

export interface InputItemsQuery {
  after?: string | undefined;
  limit?: number | undefined;
  order?: 'asc' | 'desc' | undefined;
}

const PREFIX: Readonly<Record<string, string>> = { message: 'msg', function_call: 'fc', function_call_output: 'fco', reasoning: 'rs' };

function shown(item: Json, responseId: string, index: number): Json {
  const type = typeof item.type === 'string' ? item.type : 'message';
  const id = typeof item.id === 'string' && item.id ? item.id : `${PREFIX[type] ?? 'item'}_${responseId.replace(/^resp_/, '')}_${index}`;
  if (type !== 'message') return { id, ...item };
  const role = typeof item.role === 'string' ? item.role : 'user';
  const content = typeof item.content === 'string' ? [{ type: role === 'assistant' ? 'output_text' : 'input_text', text: item.content }] : item.content;
  return { id, type: 'message', role, status: typeof item.status === 'string' ? item.status : 'completed', content };
}

export function inputItemsPage(responseId: string, items: Json[], query: InputItemsQuery = {}): Json {
  const limit = Math.min(100, Math.max(1, Math.floor(query.limit ?? 20)));
  let all = items.filter(isObject).map((item, i) => shown(item, responseId, i));
  if (query.order !== 'asc') all = all.reverse();
  let from = 0;
  if (query.after !== undefined) {
    const at = all.findIndex((i) => i.id === query.after);
    from = at < 0 ? all.length : at + 1;
  }
  const data = all.slice(from, from + limit);
  return {
    object: 'list',
    data,
    first_id: data.length > 0 ? data[0]!.id : null,
    last_id: data.length > 0 ? data[data.length - 1]!.id : null,
    has_more: from + limit < all.length,
  };
}
