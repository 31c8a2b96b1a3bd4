/**
 * GET /v1/responses/{id}, DELETE /v1/responses/{id},
 * GET /v1/responses/{id}/input_items and POST /v1/responses/{id}/cancel,
 * answered from the sidecar's response stores (response-stores.ts): the
 * responses this sidecar served. A response it does not hold is OpenAI's 404
 * in OpenAI's words. Which requests the store answers and which go to the
 * native target that holds the id: stored-routing.ts.
 */
import type { Json } from '../providers/common.ts';
import type { ResponseStores } from './response-stores.ts';

export type StoredAction = 'get' | 'delete' | 'input_items' | 'cancel';

export type StoredAnswer = { status: 200; body: Json } | { status: 400 | 404; message: string; param: string | null };

export interface ListQuery {
  limit?: string | null;
  order?: string | null;
  after?: string | null;
}

export function answerStoredResponse(stores: ResponseStores, id: string, action: StoredAction, query: ListQuery = {}): StoredAnswer {
  const found = stores.find(id);
  if (!found) return { status: 404, message: `Response with id '${id}' not found.`, param: null };
  if (action === 'get') return { status: 200, body: found.stored.response };
  if (action === 'delete') {
    found.store.delete(id);
    return { status: 200, body: { id, object: 'response', deleted: true } };
  }
  // The store answers cancel only for a response no native target holds (a translated one): the API's own answer for one that is not background.
  if (action === 'cancel') return { status: 400, message: 'Only responses created with background=true can be cancelled.', param: null };
  const limit = query.limit === undefined || query.limit === null ? undefined : Number(query.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 100)) return { status: 400, message: "Invalid 'limit': expected an integer from 1 to 100.", param: 'limit' };
  const order = query.order ?? undefined;
  if (order !== undefined && order !== 'asc' && order !== 'desc') return { status: 400, message: "Invalid 'order': expected 'asc' or 'desc'.", param: 'order' };
  const page = found.store.inputItems(id, { limit, order, after: query.after ?? undefined });
  return page ? { status: 200, body: page } : { status: 404, message: `Response with id '${id}' not found.`, param: null };
}
