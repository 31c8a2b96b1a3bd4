/**
 * A fake Google AI Studio Gemini API (v1beta): `POST /v1beta/models/{model}:generateContent`
 * and `:streamGenerateContent` (`alt=sse`: SSE `data:` events; without it, one JSON array, as
 * the real API does), key in `x-goog-api-key` (or `?key=`). It refuses what the real API
 * refuses: a wrong key (400 INVALID_ARGUMENT, reason API_KEY_INVALID), no contents, roles other
 * than user/model, empty parts, a functionResponse turn that does not follow a functionCall turn,
 * and (gemini-3 models) a functionCall without a thoughtSignature.
 *
 *   const g = await startFakeGemini({ apiKey: 'AIza-test' });
 *   g.script({ kind: 'rate-limit' }, { kind: 'finish', finishReason: 'SAFETY', afterChunks: 1 });
 */
import type { ServerResponse } from 'node:http';
import { CloudServer, pieces, writeFlushed, type CloudRequest, type Job } from './fake-cloud-server.ts';
import { exampleArguments, randomAlnum } from './wire-common.ts';

export type GeminiBehaviour =
  | { kind: 'ok'; text?: string; chunks?: number; toolCall?: boolean; chunkDelayMs?: number }
  /** Any status with Gemini's error body for it (status name from the code unless given). */
  | { kind: 'status'; status: number; statusName?: string; message?: string; details?: unknown[] }
  | { kind: 'rate-limit' }
  | { kind: 'context-window' }
  /** The text up to `afterChunks` pieces, then a chunk with this finishReason (SAFETY, RECITATION, MAX_TOKENS, …). */
  | { kind: 'finish'; finishReason: string; afterChunks?: number }
  /** promptFeedback.blockReason, no candidates. */
  | { kind: 'blocked-prompt'; blockReason?: string }
  /** Stream: close the socket after K chunks. Non-stream: half the body. */
  | { kind: 'cut'; afterChunks: number }
  /** Stream: after K chunks an `error` event (Gemini's mid-stream failure). Non-stream: 503. */
  | { kind: 'stream-error'; afterChunks: number; status?: number; statusName?: string; message?: string };

export interface FakeGeminiOptions {
  apiKey?: string;
  text?: string;
  chunks?: number;
  behaviour?: GeminiBehaviour | ((req: CloudRequest, n: number) => GeminiBehaviour | undefined);
}

const STATUS_NAMES: Record<number, string> = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED' };
const PATH = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

export function geminiErrorBody(code: number, message: string, status = STATUS_NAMES[code] ?? 'UNKNOWN', details?: unknown[]): string {
  return JSON.stringify({ error: { code, message, status, ...(details ? { details } : {}) } }, null, 2);
}

function sendError(res: ServerResponse, code: number, message: string, status?: string, details?: unknown[]): void {
  res.writeHead(code, { 'content-type': 'application/json; charset=UTF-8', vary: 'Origin, X-Origin, Referer' });
  res.end(geminiErrorBody(code, message, status, details));
}

/** The problem the real API reports for a body, or undefined. */
function invalid(body: any, model: string): string | undefined {
  if (typeof body !== 'object' || body === null) return 'Invalid JSON payload received.';
  if (!Array.isArray(body.contents) || body.contents.length === 0) return '* GenerateContentRequest.contents: contents is not specified\n';
  let prev: any;
  for (const [i, c] of body.contents.entries()) {
    if (c.role !== 'user' && c.role !== 'model') return `Please use a valid role: user, model. (contents[${i}])`;
    if (!Array.isArray(c.parts) || c.parts.length === 0) return `* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.\n`;
    const responds = c.parts.some((p: any) => p.functionResponse);
    if (responds && !(prev?.role === 'model' && prev.parts.some((p: any) => p.functionCall))) {
      return 'Please ensure that function response turn comes immediately after a function call turn.';
    }
    for (const p of c.parts) {
      if (p.functionResponse && (typeof p.functionResponse.name !== 'string' || typeof p.functionResponse.response !== 'object')) {
        return `* GenerateContentRequest.contents[${i}].parts: functionResponse needs a name and a response object\n`;
      }
    }
    if (/^gemini-3/.test(model) && c.role === 'model') {
      const first = c.parts.find((p: any) => p.functionCall);
      if (first && !first.thoughtSignature) return `Function call is missing a thought_signature in functionCall parts. (contents[${i}])`;
    }
    prev = c;
  }
  return undefined;
}

export class FakeGemini {
  readonly server: CloudServer<GeminiBehaviour>;
  readonly opts: FakeGeminiOptions;

  constructor(opts: FakeGeminiOptions) {
    this.opts = opts;
    this.server = new CloudServer<GeminiBehaviour>((req, res, job, next) => this.#handle(req, res, job, next), opts.behaviour);
  }

  get url(): string {
    return this.server.origin;
  }
  get requests(): CloudRequest[] {
    return this.server.requests;
  }
  script(...b: GeminiBehaviour[]): void {
    this.server.script(...b);
  }
  close(): Promise<void> {
    return this.server.close();
  }

  async #handle(req: CloudRequest, res: ServerResponse, job: Job, next: () => GeminiBehaviour | undefined): Promise<void> {
    const m = PATH.exec(req.pathname);
    if (req.method !== 'POST' || !m) {
      req.outcome = 'not-found';
      return sendError(res, 404, `Method not found.`, 'NOT_FOUND');
    }
    const key = req.headers['x-goog-api-key'] ?? req.query.key;
    if (this.opts.apiKey !== undefined && key !== this.opts.apiKey) {
      req.outcome = 'auth-failed';
      return sendError(res, 400, 'API key not valid. Please pass a valid API key.', 'INVALID_ARGUMENT', [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
      ]);
    }
    return this.serve(req, res, job, next, decodeURIComponent(m[1]!), m[2] === 'streamGenerateContent');
  }

  /** Answers a request whose path and credentials were checked (here, and by fake-vertex.ts for its google publisher). */
  async serve(req: CloudRequest, res: ServerResponse, job: Job, next: () => GeminiBehaviour | undefined, model: string, stream: boolean): Promise<void> {
    const problem = invalid(req.body, model);
    if (problem) {
      req.outcome = 'invalid';
      return sendError(res, 400, problem, 'INVALID_ARGUMENT');
    }
    const sse = stream && req.query.alt === 'sse';
    const b = next() ?? { kind: 'ok' };
    const body = req.body;

    switch (b.kind) {
      case 'status':
        return sendError(res, b.status, b.message ?? `the fake failed with ${b.status}`, b.statusName, b.details);
      case 'rate-limit':
        return sendError(res, 429, 'Resource has been exhausted (e.g. check quota).', 'RESOURCE_EXHAUSTED', [
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '2s' },
        ]);
      case 'context-window':
        return sendError(res, 400, 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).', 'INVALID_ARGUMENT');
      case 'blocked-prompt': {
        const r = { promptFeedback: { blockReason: b.blockReason ?? 'SAFETY' }, usageMetadata: { promptTokenCount: 8, totalTokenCount: 8 }, modelVersion: model, responseId: randomAlnum(22) };
        if (!stream) return this.#json(res, r);
        return this.#stream(res, job, [r], sse, undefined, 0);
      }
      default:
        break;
    }

    const responseId = randomAlnum(22);
    const text = (b.kind === 'ok' ? b.text : undefined) ?? this.opts.text ?? 'Hello from gemini';
    const n = Math.max(1, (b.kind === 'ok' ? b.chunks : undefined) ?? this.opts.chunks ?? 4);
    const textPieces = pieces(text, n);
    const tools = body.tools?.[0]?.functionDeclarations;
    const callTool = b.kind === 'ok' && b.toolCall && Array.isArray(tools) && tools.length > 0;
    const promptTokenCount = Math.max(1, Math.ceil(JSON.stringify(body.contents).length / 4));
    const usage = (k: number) => ({ promptTokenCount, candidatesTokenCount: k, totalTokenCount: promptTokenCount + k });
    const event = (parts: unknown[] | undefined, k: number, finishReason?: string): Record<string, unknown> => ({
      candidates: [{ ...(parts ? { content: { parts, role: 'model' } } : {}), ...(finishReason ? { finishReason } : {}), index: 0 }],
      usageMetadata: usage(k),
      modelVersion: model,
      responseId,
    });

    let events: Record<string, unknown>[];
    if (callTool) {
      const decl = tools[0];
      events = [event([{ functionCall: { name: decl.name, args: exampleArguments(decl.parametersJsonSchema ?? decl.parameters) }, thoughtSignature: randomAlnum(40) }], 1, 'STOP')];
    } else if (b.kind === 'finish') {
      const k = Math.min(b.afterChunks ?? 0, textPieces.length);
      events = textPieces.slice(0, k).map((p, i) => event([{ text: p }], i + 1));
      events.push(event(undefined, k, b.finishReason));
      (events.at(-1)!.candidates as any[])[0].safetyRatings = [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: b.finishReason === 'SAFETY' }];
    } else {
      events = textPieces.map((p, i) => event([{ text: p }], i + 1, i === textPieces.length - 1 ? 'STOP' : undefined));
    }

    if (!stream) {
      // One response: the parts of every event joined, the last event's finishReason and usage.
      const parts: any[] = [];
      for (const e of events) for (const p of ((e.candidates as any[])[0].content?.parts ?? []) as any[]) parts.push(p);
      const merged: any[] = [];
      for (const p of parts) {
        const last = merged.at(-1);
        if (last && typeof last.text === 'string' && typeof p.text === 'string') last.text += p.text;
        else merged.push({ ...p });
      }
      const last = events.at(-1)!;
      const cand = { ...(last.candidates as any[])[0], content: merged.length ? { parts: merged, role: 'model' } : undefined };
      if (b.kind === 'cut') return this.#cutJson(res, { ...last, candidates: [cand] });
      if (b.kind === 'stream-error') return sendError(res, b.status ?? 503, b.message ?? 'The model is overloaded. Please try again later.', b.statusName);
      return this.#json(res, { ...last, candidates: [cand] });
    }
    if (b.kind === 'cut') return this.#stream(res, job, events.slice(0, b.afterChunks), sse, 'cut', 0);
    if (b.kind === 'stream-error') {
      const err = { error: { code: b.status ?? 503, message: b.message ?? 'The model is overloaded. Please try again later.', status: b.statusName ?? STATUS_NAMES[b.status ?? 503] } };
      return this.#stream(res, job, [...events.slice(0, b.afterChunks), err], sse, undefined, 0);
    }
    return this.#stream(res, job, events, sse, undefined, b.kind === 'ok' ? (b.chunkDelayMs ?? 0) : 0);
  }

  #json(res: ServerResponse, value: unknown): void {
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(JSON.stringify(value, null, 2));
  }

  async #cutJson(res: ServerResponse, value: unknown): Promise<void> {
    const full = Buffer.from(JSON.stringify(value));
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8', 'content-length': String(full.length) });
    await writeFlushed(res, full.subarray(0, full.length >> 1));
    res.socket?.destroy();
  }

  async #stream(res: ServerResponse, job: Job, events: unknown[], sse: boolean, end: 'cut' | undefined, gap: number): Promise<void> {
    res.writeHead(200, { 'content-type': sse ? 'text/event-stream' : 'application/json; charset=UTF-8' });
    if (!sse) {
      res.end(`[${events.map((e) => JSON.stringify(e)).join(',\r\n')}]`);
      return;
    }
    for (const [i, e] of events.entries()) {
      if (i > 0 && gap > 0) await job.sleep(gap);
      if (job.dead) return;
      await writeFlushed(res, `data: ${JSON.stringify(e)}\r\n\r\n`);
    }
    if (end === 'cut') res.socket?.destroy();
    else res.end();
  }
}

export async function startFakeGemini(opts: FakeGeminiOptions = {}): Promise<FakeGemini> {
  const g = new FakeGemini(opts);
  await g.server.listen();
  return g;
}
