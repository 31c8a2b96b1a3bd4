/**
 * The OpenAI-compatible API on the listen address: POST /v1/chat/completions,
 * POST /v1/embeddings, POST /v1/completions, GET /v1/models and
 * /v1/models/{id}, and Azure OpenAI's deployment paths
 * (/openai/deployments/{route}/chat/completions...). Plain node:http (express's router
 * costs more than the whole proxy on this path; see the README's benchmark).
 * Reads and checks the body, picks the route, runs the failover loop and
 * writes the answer with the x-llmroute-* headers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { RuntimeConfig, Route } from './config/runtime-config.ts';
import { AllTargetsFailedError, BadRequestError, BodyTooLargeError, ClientClosedError, DrainingError, ModelNotFoundError, NotFoundError, UnsupportedRequestError } from './errors.ts';
import { runFailover, type Committed, type FailoverDeps, type FailoverRequest } from './failover.ts';
import { decideAfterStreamFailure } from './failover-policy.ts';
import { errorResponse } from './http-errors.ts';
import { affinityHash } from './affinity.ts';
import { bodyReadCap, routeForEndpoint } from './endpoint-routes.ts';
import type { EndpointKind } from './providers/types.ts';
import { checkRequest, parseJsonBody } from './request-checks.ts';
import type { RequestObserver } from './request-observer.ts';
import { relayStream } from './stream-relay.ts';
import { pathOf, routePath } from './url-path.ts';
import { anthropicErrorResponse, estimateInputTokens, messagesReach } from './surfaces/messages-surface.ts';
import { responsesRequest } from './surfaces/responses-surface.ts';
import type { ResponseStores } from './surfaces/response-stores.ts';
import type { StoredAction } from './surfaces/stored-responses.ts';
import { serveStoredRequest } from './surfaces/stored-relay.ts';
import type { ApiName } from './surfaces/types.ts';

/** A declared body larger than this is read into one buffer of its size (see readBody). */
const PREALLOCATE_FROM_BYTES = 256 * 1024;
/** A too-large body up to this size is read to its end and dropped (see handle). */
const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;

export interface ApiServerDeps extends FailoverDeps {
  config: () => RuntimeConfig;
  /** Where every request's metrics and log lines go (the failover loop reports to it too). */
  observer: RequestObserver;
  isDraining: () => boolean;
  /** The routes' stores of served Responses API answers (previous_response_id, GET /v1/responses/{id}). */
  responseStores: ResponseStores;
  /** How long a client may take to send its request headers (node:http's headersTimeout). Default 20 s. */
  headersTimeoutMs?: number | undefined;
  /**
   * How often node:http checks open connections against headersTimeout and requestTimeout
   * (its connectionsCheckingInterval): a slow client is cut between one and one plus this
   * after its timeout. Default Node's own, 30 s. Tests set both small to see the cut in seconds.
   */
  connectionsCheckingIntervalMs?: number | undefined;
}

export interface ApiServer {
  server: Server;
  /** Requests being served now. */
  inflight: () => number;
  /** Draining: answers not yet begun go out with `connection: close`, so no client sends another request down a socket about to close. */
  closeConnectionsAfterResponse: () => void;
  /** Resolves as soon as no request is being served (at once when none is): the drain's end. */
  idle: () => Promise<void>;
}

interface Endpoint {
  method: string;
  /** The API the client speaks: its error shape and the `api` label. */
  api: ApiName;
  /** Unset: GET /v1/models (with `modelId`: /v1/models/{id}), or a stored response (`stored`). */
  kind?: EndpointKind;
  /** /v1/responses/{id}[/input_items|/cancel]: the response id and what is asked of it. */
  stored?: { id: string; action: 'get' | 'input_items' | 'cancel' };
  /** Azure's path shape: the deployment in the path names the route. */
  deployment?: string;
  modelId?: string;
}

const PATHS: Record<string, Endpoint> = {
  '/v1/chat/completions': { method: 'POST', api: 'chat', kind: 'chat' },
  '/v1/embeddings': { method: 'POST', api: 'chat', kind: 'embeddings' },
  '/v1/completions': { method: 'POST', api: 'chat', kind: 'completions' },
  '/v1/models': { method: 'GET', api: 'chat' },
  '/v1/responses': { method: 'POST', api: 'responses', kind: 'responses' },
  '/v1/messages': { method: 'POST', api: 'messages', kind: 'messages' },
  '/v1/messages/count_tokens': { method: 'POST', api: 'messages', kind: 'count-tokens' },
};

const RESPONSE_PATH = /^\/v1\/responses\/([^/]+)(?:\/(input_items|cancel))?$/;

const MODEL_PATH = '/v1/models/';
const AZURE_PATH = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings|completions)$/;
const AZURE_KINDS: Record<string, EndpointKind> = { 'chat/completions': 'chat', embeddings: 'embeddings', completions: 'completions' };

/** The endpoint of a path: a fixed one, /v1/models/{id}, or an Azure deployment path. */
function endpointOf(path: string): Endpoint | undefined {
  const fixed = PATHS[path];
  if (fixed) return fixed;
  if (path.startsWith(MODEL_PATH)) {
    const id = decoded(path.slice(MODEL_PATH.length));
    return id ? { method: 'GET', api: 'chat', modelId: id } : undefined;
  }
  if (path.startsWith('/openai/deployments/')) {
    const m = AZURE_PATH.exec(path);
    const deployment = m ? decoded(m[1]!) : undefined;
    if (deployment) return { method: 'POST', api: 'chat', kind: AZURE_KINDS[m![2]!]!, deployment };
  }
  if (path.startsWith('/v1/responses/')) {
    const m = RESPONSE_PATH.exec(path);
    const id = m ? decoded(m[1]!) : undefined;
    if (id) {
      const action = (m![2] ?? 'get') as 'get' | 'input_items' | 'cancel';
      // GET and DELETE share the bare path: the method picks (storedAction).
      return { method: action === 'cancel' ? 'POST' : action === 'get' ? 'GET|DELETE' : 'GET', api: 'responses', stored: { id, action } };
    }
  }
  return undefined;
}

function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment) || undefined;
  } catch {
    return undefined;
  }
}

export function createApiServer(deps: ApiServerDeps): ApiServer {
  let inflight = 0;
  const idleWaiters: Array<() => void> = [];
  // Responses being served, linked through small nodes that unlinking clears. Not a Set: one
  // churned by an add and a delete per request leaves its outgrown tables holding responses until
  // a full GC, which kept every in-flight request alive through minor GCs (4x the heap, 10x the GC
  // time at saturation; see bench/README.md).
  const open: OpenList = { head: undefined };
  const serverOptions = {
    keepAliveTimeout: 65_000,
    headersTimeout: deps.headersTimeoutMs ?? 20_000,
    requestTimeout: 120_000,
    connectionsCheckingInterval: deps.connectionsCheckingIntervalMs ?? 30_000,
  };
  const server = createServer(serverOptions, (req, res) => {
    inflight++;
    const node = linkOpen(open, res);
    res.once('close', () => {
      inflight--;
      unlinkOpen(open, node);
      if (inflight === 0 && idleWaiters.length) for (const wake of idleWaiters.splice(0)) wake();
    });
    handle(req, res, deps).catch((err) => {
      deps.observer.unexpected(err);
      if (!res.headersSent) sendError(res, err, {});
      else res.destroy();
    });
  });
  server.on('clientError', (err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy(err);
  });
  const closeConnectionsAfterResponse = (): void => {
    for (let n = open.head; n; n = n.next) if (!n.res.headersSent) n.res.setHeader('connection', 'close');
  };
  const idle = (): Promise<void> => (inflight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve)));
  return { server, inflight: () => inflight, closeConnectionsAfterResponse, idle };
}

interface OpenNode {
  res: ServerResponse;
  prev: OpenNode | undefined;
  next: OpenNode | undefined;
}
interface OpenList {
  head: OpenNode | undefined;
}

function linkOpen(list: OpenList, res: ServerResponse): OpenNode {
  const node: OpenNode = { res, prev: undefined, next: list.head };
  if (list.head) list.head.prev = node;
  list.head = node;
  return node;
}

function unlinkOpen(list: OpenList, node: OpenNode): void {
  if (node.prev) node.prev.next = node.next;
  else if (list.head === node) list.head = node.next;
  if (node.next) node.next.prev = node.prev;
  node.prev = undefined;
  node.next = undefined;
}

async function handle(req: IncomingMessage, res: ServerResponse, deps: ApiServerDeps): Promise<void> {
  const path = pathOf(req.url);
  const entry = endpointOf(routePath(path));
  if (!entry) return drainThenError(req, res, new NotFoundError(req.method ?? '', path), apiOfPath(path));
  const api = entry.api;
  if (req.method !== entry.method && !(entry.stored && methodAllowed(entry.method, req.method))) {
    return drainThenError(req, res, new NotFoundError(req.method ?? '', path, entry.method.replace('|', ', ')), api);
  }
  if (deps.isDraining()) return drainThenError(req, res, new DrainingError(), api);
  const config = deps.config();
  if (entry.stored) {
    req.resume();
    const action: StoredAction = entry.stored.action === 'get' && req.method === 'DELETE' ? 'delete' : entry.stored.action;
    const query = req.url!.includes('?') ? req.url!.slice(req.url!.indexOf('?') + 1) : '';
    // From the store or the native target that holds the id (stored-routing.ts decides).
    const client = abortOnClientClose(res);
    try {
      const out = await serveStoredRequest(deps.responseStores, config.routes, { id: entry.stored.id, action, query, path, signal: client.controller.signal, res });
      if (out.kind === 'json') sendJsonText(res, out.status, out.body);
      else if (out.kind === 'error') sendError(res, out.error, {}, api);
    } finally {
      client.release();
    }
    return;
  }
  if (!entry.kind) {
    if (entry.modelId === undefined) sendModels(res, config);
    else sendModel(res, config, entry.modelId);
    return;
  }

  const kind = entry.kind;
  const started = performance.now();
  let body: Record<string, unknown>;
  let route: Route | undefined;
  try {
    let size: number;
    // The raw bytes are not kept past parsing (a local here would hold them for the whole request).
    ({ body, size } = parsed(await readBody(req, bodyReadCap(config))));
    // Azure's shape: the deployment in the path is the model; a `model` in the body does not count.
    if (entry.deployment !== undefined) body.model = entry.deployment;
    const model = checkRequest(kind, body);
    route = config.models.get(model);
    if (!route) throw new ModelNotFoundError(model);
    if (size > route.maxRequestBytes) throw new BodyTooLargeError(route.maxRequestBytes, route.name);
    route = routeForEndpoint(kind, route);
  } catch (err) {
    // The rest of a too-large body is read and dropped, so the client sees the 413 rather than a
    // broken pipe mid-upload; past DISCARD_LIMIT_BYTES (or with no length given) the connection closes instead.
    if (err instanceof BodyTooLargeError && !(Number(req.headers['content-length']) <= DISCARD_LIMIT_BYTES)) res.setHeader('connection', 'close');
    deps.observer.refused(route?.name ?? '', sendError(res, err, {}, api), api);
    return;
  }

  const stream = kind !== 'count-tokens' && body.stream === true;
  const client = abortOnClientClose(res);
  const controller = client.controller;
  const deadlineTimer = setTimeout(() => controller.abort('deadline'), route.timeouts.totalMs);
  const responses = api === 'responses' ? responsesRequest(body, route, deps.responseStores.for(route)) : undefined;
  const freq: FailoverRequest = {
    route,
    kind,
    body,
    stream,
    signal: controller.signal,
    deadlineAt: Date.now() + route.timeouts.totalMs,
    attempts: [],
    fallbacks: 0,
    api,
    reach: api === 'chat' ? undefined : responses ? responses.reach(deps.adapterFor) : messagesReach(kind, body, deps.adapterFor),
    clientHeaders: api === 'messages' ? req.headers : undefined,
    affinityHash: route.affinity ? affinityHash(route.affinity, body, req.headers) : undefined,
  };
  try {
    let committed: Committed;
    try {
      committed = await runFailover(freq, deps);
    } catch (err) {
      if (err instanceof ClientClosedError) {
        deps.observer.clientClosed(route, freq);
        return;
      }
      if (kind === 'count-tokens' && (err instanceof UnsupportedRequestError || err instanceof AllTargetsFailedError)) {
        // No anthropic target could count: the documented estimate, said to be one.
        sendJson(res, { input_tokens: estimateInputTokens(body) }, { ...routeHeaders(route.name, undefined, freq), 'x-llmroute-estimated': 'true' });
        deps.observer.answeredLocally(route, freq, started);
        return;
      }
      deps.observer.failed(route, freq, sendError(res, err, routeHeaders(route.name, undefined, freq), api), err, started);
      return;
    }
    const target = committed.target;
    const headers = routeHeaders(route.name, committed.target, freq);
    // The serving provider's request id and rate-limit headers (passthrough-headers.ts).
    if (committed.headers) for (const k in committed.headers) headers[k] = committed.headers[k]!;
    if (committed.kind === 'json') {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(committed.body));
      res.writeHead(200, headers);
      res.end(committed.body);
      deps.observer.served(route, target, freq, committed.usage, started);
      responses?.served(target, committed.body);
      return;
    }
    headers['content-type'] = 'text/event-stream; charset=utf-8';
    headers['cache-control'] = 'no-cache';
    headers['x-accel-buffering'] = 'no';
    res.writeHead(200, headers);
    deps.observer.streamCommitted(route, target, freq, committed.firstContentAt, started, committed.heldMs);
    const relayed = await relayStream(res, committed.session, committed.prelude, committed.finished, committed.usage, controller.signal);
    if (relayed.failure) {
      deps.health.apply(deps.health.get(target), decideAfterStreamFailure(relayed.failure), Date.now);
      deps.observer.streamBroke(route, target, relayed.failure);
    } else if (responses && !relayed.clientGone) responses.streamed(target, committed.session.framed);
    deps.observer.streamEnded(route, target, freq, relayed.usage, relayed.clientGone, started);
  } finally {
    clearTimeout(deadlineTimer);
    client.release();
  }
}

/** A controller aborted with 'client-closed' when the client goes before the answer is finished; release() stops listening. */
function abortOnClientClose(res: ServerResponse): { controller: AbortController; release: () => void } {
  const controller = new AbortController();
  const onClose = (): void => {
    if (!res.writableFinished) controller.abort('client-closed');
  };
  res.once('close', onClose);
  return { controller, release: () => void res.off('close', onClose) };
}

function routeHeaders(route: string, target: Committed['target'] | undefined, f: FailoverRequest): Record<string, string> {
  const h: Record<string, string> = {
    'x-llmroute-route': route,
    'x-llmroute-attempts': String(f.attempts.length),
    'x-llmroute-fallbacks': String(f.fallbacks),
  };
  // A hedged request says how many hedges it started (x-llmroute-attempts counts their tries too).
  if (f.hedges !== undefined) h['x-llmroute-hedges'] = String(f.hedges);
  if (target) {
    h['x-llmroute-target'] = target.name;
    h['x-llmroute-provider'] = target.provider;
    h['x-llmroute-model'] = target.model;
  }
  return h;
}

/** Writes an error in the shape of the API the client spoke (Anthropic's for Messages). */
function sendError(res: ServerResponse, err: unknown, headers: Record<string, string>, api: ApiName = 'chat'): number {
  const r = api === 'messages' ? anthropicErrorResponse(errorResponse(err)) : errorResponse(err);
  const text = JSON.stringify(r.body);
  res.writeHead(r.status, { 'x-llmroute-attempts': '0', 'x-llmroute-fallbacks': '0', ...headers, ...r.headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
  return r.status;
}

/** Answers without reading a body we do not want, closing the connection if one is still coming. */
function drainThenError(req: IncomingMessage, res: ServerResponse, err: unknown, api: ApiName): void {
  if (!req.complete) res.setHeader('connection', 'close');
  sendError(res, err, {}, api);
  req.resume();
}

/** The API of a path no endpoint has, for its 404's shape: Anthropic's under /v1/messages. */
function apiOfPath(path: string): ApiName {
  return path.startsWith('/v1/messages') ? 'messages' : 'chat';
}

function methodAllowed(allowed: string, method: string | undefined): boolean {
  return method !== undefined && allowed.split('|').includes(method);
}

function parsed(raw: Buffer): { body: Record<string, unknown>; size: number } {
  return { body: parseJsonBody(raw), size: raw.length };
}

/** OpenAI's model object for a route's name or alias (an alias names its route as `root`). */
function modelObject(id: string, route: Route): Record<string, unknown> {
  return { id, object: 'model', created: 0, owned_by: 'llmroute', ...(id === route.name ? {} : { root: route.name }) };
}

function sendModels(res: ServerResponse, config: RuntimeConfig): void {
  const data = [];
  for (const route of config.routes) for (const id of [route.name, ...route.aliases]) data.push(modelObject(id, route));
  sendJson(res, { object: 'list', data });
}

/** GET /v1/models/{id}: the model object, or OpenAI's 404 model_not_found. */
function sendModel(res: ServerResponse, config: RuntimeConfig, id: string): void {
  const route = config.models.get(id);
  if (route) sendJson(res, modelObject(id, route));
  else sendError(res, new ModelNotFoundError(id), {});
}

function sendJson(res: ServerResponse, value: unknown, headers: Record<string, string> = {}): void {
  sendJsonText(res, 200, JSON.stringify(value), headers);
}

function sendJsonText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'x-llmroute-attempts': '0', 'x-llmroute-fallbacks': '0', ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

/**
 * The whole body, up to `limit` bytes. With a content-length it is read into
 * one buffer of that size (no list of chunks and no concatenated copy beside
 * it: a 32 MiB image request costs 32 MiB here, not 64).
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    req.resume();
    return Promise.reject(new BodyTooLargeError(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // node:http holds a body to its content-length, so a declared one fits the buffer exactly. A
    // small body usually comes in one chunk, taken as it is.
    const whole = declared > PREALLOCATE_FROM_BYTES && Number.isSafeInteger(declared) ? Buffer.allocUnsafe(declared) : undefined;
    req.on('data', (chunk: Buffer) => {
      if (whole) {
        if (size + chunk.length <= whole.length) chunk.copy(whole, size);
        size += chunk.length;
        return;
      }
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => {
      if (whole) {
        if (size === whole.length) resolve(whole);
        else reject(new BadRequestError('the request body does not match its content-length', null, 'invalid_body'));
      }
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    req.once('error', () => reject(new BadRequestError('the request body could not be read', null, 'invalid_body')));
    req.once('aborted', () => reject(new BadRequestError('the client aborted the request body', null, 'invalid_body')));
  });
}
