/**
 * The I/O of the stored-response endpoints (GET, DELETE, GET …/input_items,
 * POST …/cancel of /v1/responses/{id}): stored-routing.ts decides where each
 * request goes; this asks the store or the native target(s) and says what the
 * client gets. A target is called with its own auth, as POST /v1/responses
 * reaches it (native.ts storedResponseRequest), through the sidecar's upstream
 * client, with the route's connect timeout and STORED_CALL_TIMEOUT_MS for the
 * answer. Nothing here writes a key: errors name targets and routes.
 */
import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Route, Target } from '../config/runtime-config.ts';
import { BadRequestError, NotFoundError, StoredResponseUnavailableError, UpstreamRejectedError } from '../errors.ts';
import { isObject, tryParse, type Json } from '../providers/common.ts';
import { parseOpenAIError } from '../providers/openai.ts';
import type { StreamSink } from '../stream-session.ts';
import { sendUpstream, type UpstreamAnswer } from '../upstream.ts';
import { storedResponseRequest, type ResponsesFamily } from './responses/native.ts';
import type { ResponseStores } from './response-stores.ts';
import { answerStoredResponse, type StoredAction } from './stored-responses.ts';
import { routeStoredRequest } from './stored-routing.ts';

/** How long a target has to answer a stored-response request (headers, and each gap in the body). */
export const STORED_CALL_TIMEOUT_MS = 30_000;
/** The connect timeout when the target's route is gone from the config. */
const DEFAULT_CONNECT_MS = 5_000;
const BODY_LIMIT = 64 * 1024 * 1024;
const ERROR_BODY_LIMIT = 64 * 1024;

/** What the client gets: a JSON body with its status, a typed error, or a stream already relayed to it. */
export type StoredOutcome = { kind: 'json'; status: number; body: string } | { kind: 'error'; error: unknown } | { kind: 'streamed' };

export interface StoredRequest {
  id: string;
  action: StoredAction;
  /** The client's query string, without the `?`. */
  query: string;
  /** The request's path, for a 404's words. */
  path: string;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** Where a resumed background stream (GET …?stream=true) is relayed. */
  res: ServerResponse;
}

type Reached = { ok: true; answer: UpstreamAnswer } | { ok: false; detail: string };

export async function serveStoredRequest(stores: ResponseStores, routes: readonly Route[], r: StoredRequest): Promise<StoredOutcome> {
  const found = stores.find(r.id);
  const routing = routeStoredRequest(r.action, found && { route: found.route, servedBy: found.stored.servedBy, response: found.stored.response }, routes);
  const stream = r.action === 'get' && new URLSearchParams(r.query).get('stream') === 'true';
  if (routing.to === 'store' || (routing.to === 'candidates' && routing.targets.length === 0)) return fromStore(stores, r);

  if (routing.to === 'candidates') {
    const unreachable: string[] = [];
    for (const t of routing.targets) {
      const reached = await call(t, routes, r, stream);
      if (!reached.ok) {
        unreachable.push(`'${t.name}' of route '${t.route}' (${reached.detail})`);
        continue;
      }
      if (reached.answer.streaming) return { kind: 'streamed' };
      if (reached.answer.statusCode === 404) continue;
      return passOn(reached.answer, t);
    }
    if (unreachable.length === routing.targets.length) {
      return { kind: 'error', error: new StoredResponseUnavailableError(`response '${r.id}' is not in this sidecar's store, and no target that could hold it answered: ${unreachable.join('; ')}`) };
    }
    return notFound(r);
  }

  const t = routing.target;
  const held = found!;
  const where = `target '${t.name}' of route '${t.route}'`;
  const reached = await call(t, routes, r, stream);
  if (r.action === 'delete') {
    held.store.delete(r.id);
    const status = reached.ok ? reached.answer.statusCode : 0;
    if ((status >= 200 && status < 300) || status === 404) return json(200, { id: r.id, object: 'response', deleted: true });
    const why = reached.ok ? `it answered ${status}` : reached.detail;
    return {
      kind: 'error',
      error: new StoredResponseUnavailableError(
        `the sidecar's copy of response '${r.id}' is deleted, but the provider's copy at ${where} could not be deleted (${why}); retry the DELETE to delete it there`,
        status === 429 ? 429 : 502,
      ),
    };
  }
  if (!reached.ok) {
    const what = r.action === 'cancel' ? `could not be cancelled: ${where} could not be reached` : `is ${String(held.stored.response.status)} (a background response) at ${where}, which could not be reached`;
    return { kind: 'error', error: new StoredResponseUnavailableError(`response '${r.id}' ${what} (${reached.detail}); the sidecar's stored status would be stale, so it is not served`) };
  }
  const a = reached.answer;
  if (a.streaming) return { kind: 'streamed' };
  const status = a.statusCode;
  if (r.action === 'get' && (status >= 500 || status === 429)) {
    return {
      kind: 'error',
      error: new StoredResponseUnavailableError(
        `response '${r.id}' is ${String(held.stored.response.status)} (a background response) at ${where}, which answered ${status}; the sidecar's stored status would be stale, so it is not served`,
        status === 429 ? 429 : 502,
      ),
    };
  }
  if (status >= 200 && status < 300) {
    const body = tryParse(a.text);
    // The target's current state replaces the stored one (its status moves on); the conversation stays.
    if (isObject(body) && body.id === r.id && !a.truncated) held.store.put(r.id, { ...held.stored, response: body as Json });
  }
  return passOn(a, t);
}

function fromStore(stores: ResponseStores, r: StoredRequest): StoredOutcome {
  const q = new URLSearchParams(r.query);
  const a = answerStoredResponse(stores, r.id, r.action, { limit: q.get('limit'), order: q.get('order'), after: q.get('after') });
  if (a.status === 200) return json(200, a.body);
  return { kind: 'error', error: a.status === 404 ? new NotFoundError('GET', r.path, undefined, a.message) : new BadRequestError(a.message, a.param) };
}

function notFound(r: StoredRequest): StoredOutcome {
  return { kind: 'error', error: new NotFoundError('GET', r.path, undefined, `Response with id '${r.id}' not found.`) };
}

function json(status: number, value: unknown): StoredOutcome {
  return { kind: 'json', status, body: JSON.stringify(value) };
}

/** The target's answer as it gave it: a JSON body with its status; anything else as its error, in OpenAI's shape. */
function passOn(a: UpstreamAnswer, t: Target): StoredOutcome {
  const status = a.statusCode;
  if (isObject(tryParse(a.text)) && !a.truncated) return { kind: 'json', status, body: a.text };
  const e = parseOpenAIError(status, a.text);
  const cls = status >= 200 && status < 300 ? 'ok' : e.errorClass;
  return { kind: 'error', error: new UpstreamRejectedError(status >= 400 ? status : 502, e.type, e.code, e.message, e.param ?? null, [{ target: t.name, class: cls, status }]) };
}

async function call(t: Target, routes: readonly Route[], r: StoredRequest, stream: boolean): Promise<Reached> {
  const route = routes.find((x) => x.name === t.route);
  const req = storedResponseRequest(t.provider as ResponsesFamily, t, r.id, r.action, r.query);
  const relay = stream ? new ResponseRelay(r.res) : undefined;
  try {
    const answer = await sendUpstream(req, {
      connectMs: route?.timeouts.connectMs ?? DEFAULT_CONNECT_MS,
      headersTimeoutMs: STORED_CALL_TIMEOUT_MS,
      bodyTimeoutMs: STORED_CALL_TIMEOUT_MS,
      signal: r.signal,
      limitFor: (status) => (status >= 200 && status < 300 ? BODY_LIMIT : ERROR_BODY_LIMIT),
      stream: relay,
    });
    if (answer.streaming && relay) await relay.done;
    return { ok: true, answer };
  } catch (err) {
    return { ok: false, detail: networkDetail(err) };
  }
}

/** What a network failure says: undici's or the socket's code, or its message (which never holds a header). */
function networkDetail(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'no connection before the connect timeout';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return `no answer within ${STORED_CALL_TIMEOUT_MS / 1000} s`;
  if (typeof code === 'string') return code;
  return err instanceof Error ? err.message : String(err);
}

/** A resumed background stream, relayed to the client byte for byte as the target sends it. */
class ResponseRelay implements StreamSink {
  readonly done: Promise<void>;
  #resolve!: () => void;
  readonly #res: ServerResponse;
  #controller: Dispatcher.DispatchController | undefined;

  constructor(res: ServerResponse) {
    this.#res = res;
    this.done = new Promise((resolve) => (this.#resolve = resolve));
  }

  attach(c: Dispatcher.DispatchController): void {
    this.#res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no', 'x-llmroute-attempts': '1', 'x-llmroute-fallbacks': '0' });
    this.#controller = c;
    this.#res.on('drain', () => c.resume());
  }

  data(chunk: Buffer): void {
    if (!this.#res.write(chunk)) this.#controller?.pause();
  }

  end(): void {
    this.#res.end();
    this.#resolve();
  }

  fail(): void {
    // Broken mid-stream: the client sees the stream cut (the SDK reports it), as the target cut it.
    this.#res.destroy();
    this.#resolve();
  }
}
