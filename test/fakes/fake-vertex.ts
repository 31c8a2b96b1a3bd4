/**
 * A fake Vertex AI (v1) for one project and location:
 * - `POST /v1/projects/{p}/locations/{l}/publishers/google/models/{m}:generateContent`
 *   and `:streamGenerateContent` (`alt=sse`): Gemini, answered by fake-gemini.ts's
 *   wire format and checks;
 * - `POST …/publishers/anthropic/models/{m}:rawPredict` and `:streamRawPredict`:
 *   Claude, the Messages body with `anthropic_version: "vertex-2023-10-16"` and
 *   no `model` (the model is in the path), `stream: true` exactly on
 *   streamRawPredict; answered in Anthropic's wire format (wire-anthropic.ts).
 * Every request needs `Authorization: Bearer <token>` with a token its
 * TokenStore issued (fake-google-auth.ts), unexpired and with the
 * cloud-platform scope; else 401 UNAUTHENTICATED as Google sends it. A
 * wrong project or location is 404 NOT_FOUND (403 PERMISSION_DENIED for a project).
 *
 * Behaviours are fake-gemini.ts's; the anthropic publisher serves ok,
 * status, rate-limit (Vertex's 429 RESOURCE_EXHAUSTED), cut and
 * stream-error (after K deltas Anthropic's `event: error` frame,
 * overloaded_error by default; non-stream: 529 with that error).
 */
import type { ServerResponse } from 'node:http';
import { CloudServer, writeFlushed, type CloudRequest, type Job } from './fake-cloud-server.ts';
import { FakeGemini, geminiErrorBody, type GeminiBehaviour } from './fake-gemini.ts';
import type { TokenStore } from './fake-google-auth.ts';
import { messageBody, messageFrames, messageId, toolUseId, validate } from './wire-anthropic.ts';
import { estimateTokens, exampleArguments, splitArgs, splitText, unixNow } from './wire-common.ts';

const PATH = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/(google|anthropic)\/models\/([^/:]+):(generateContent|streamGenerateContent|rawPredict|streamRawPredict)$/;

export interface FakeVertexOptions {
  project: string;
  location: string;
  tokens: TokenStore;
  text?: string;
  behaviour?: GeminiBehaviour | ((req: CloudRequest, n: number) => GeminiBehaviour | undefined);
}

function googleError(res: ServerResponse, code: number, message: string, status?: string): void {
  res.writeHead(code, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(geminiErrorBody(code, message, status));
}

function anthropicError(res: ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ type: 'error', error: { type, message } }));
}

export class FakeVertex {
  readonly server: CloudServer<GeminiBehaviour>;
  readonly opts: FakeVertexOptions;
  readonly #gemini: FakeGemini;

  constructor(opts: FakeVertexOptions) {
    this.opts = opts;
    this.#gemini = new FakeGemini({ ...(opts.text ? { text: opts.text } : {}) });
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
      return googleError(res, 404, 'The requested URL was not found on this server.', 'NOT_FOUND');
    }
    const auth = req.headers.authorization;
    const why = this.opts.tokens.check(auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined);
    if (why) {
      req.outcome = `auth-failed:${why}`;
      if (why === 'scope') return googleError(res, 403, 'Request had insufficient authentication scopes.', 'PERMISSION_DENIED');
      return googleError(
        res,
        401,
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
        'UNAUTHENTICATED',
      );
    }
    const [, project, location, publisher, model, method] = m.map((x) => (x === undefined ? x : decodeURIComponent(x))) as string[];
    if (project !== this.opts.project) {
      req.outcome = 'not-found';
      return googleError(res, 403, `Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/projects/${project}/locations/${location}/publishers/${publisher}/models/${model}' (or it may not exist).`, 'PERMISSION_DENIED');
    }
    if (location !== this.opts.location) {
      req.outcome = 'not-found';
      return googleError(res, 404, `Publisher Model \`projects/${project}/locations/${location}/publishers/${publisher}/models/${model}\` not found.`, 'NOT_FOUND');
    }
    if (publisher === 'google') {
      if (method !== 'generateContent' && method !== 'streamGenerateContent') {
        req.outcome = 'not-found';
        return googleError(res, 400, `${method} is not supported for publisher google model ${model}`, 'FAILED_PRECONDITION');
      }
      return this.#gemini.serve(req, res, job, next, model!, method === 'streamGenerateContent');
    }
    if (method !== 'rawPredict' && method !== 'streamRawPredict') {
      req.outcome = 'not-found';
      return googleError(res, 400, `Anthropic models on Vertex AI are served by rawPredict and streamRawPredict, not ${method}.`, 'FAILED_PRECONDITION');
    }
    return this.#claude(req, res, job, next, model!, method === 'streamRawPredict');
  }

  async #claude(req: CloudRequest, res: ServerResponse, job: Job, next: () => GeminiBehaviour | undefined, model: string, stream: boolean): Promise<void> {
    const body = req.body;
    const bad = (message: string): void => {
      req.outcome = 'invalid';
      anthropicError(res, 400, 'invalid_request_error', message);
    };
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return bad('There was an error parsing the body of your request: it is not valid JSON');
    if (body.anthropic_version !== 'vertex-2023-10-16') return bad(`anthropic_version: Input should be 'vertex-2023-10-16'`);
    if ('model' in body) return bad('model: Extra inputs are not permitted');
    if ((body.stream === true) !== stream) return bad(stream ? 'streamRawPredict needs "stream": true' : 'rawPredict takes no "stream": true; use streamRawPredict');
    const { anthropic_version: _v, ...messages } = body;
    const wire = validate({ ...messages, model });
    if (wire) {
      req.outcome = 'invalid';
      res.writeHead(wire.status, { 'content-type': 'application/json' }).end(wire.body);
      return;
    }
    const b = next() ?? { kind: 'ok' };
    if (b.kind === 'status') return googleError(res, b.status, b.message ?? `the fake failed with ${b.status}`, b.statusName);
    if (b.kind === 'rate-limit') return googleError(res, 429, 'Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model with base model: anthropic-claude. Please submit a quota increase request.', 'RESOURCE_EXHAUSTED');
    if (b.kind === 'stream-error' && !stream) return anthropicError(res, 529, 'overloaded_error', b.message ?? 'Overloaded');
    if (b.kind !== 'ok' && b.kind !== 'cut' && b.kind !== 'stream-error') throw new Error(`behaviour ${b.kind} is not served by the anthropic publisher`);
    const text = (b.kind === 'ok' ? b.text : undefined) ?? this.opts.text ?? 'Hello from vertex';
    const tools = Array.isArray(body.tools) ? body.tools : [];
    const tool = b.kind === 'ok' && b.toolCall && tools.length ? tools[0] : undefined;
    const args = tool ? JSON.stringify(exampleArguments(tool.input_schema)) : '';
    const pieces = tool ? [] : splitText(text, 4);
    const promptTokens = Math.max(1, estimateTokens(body.messages));
    const ctx = {
      id: messageId(),
      created: unixNow(),
      model,
      modelJson: JSON.stringify(model),
      pieces,
      escaped: pieces.map((p) => JSON.stringify(p)),
      text: tool ? '' : text,
      toolCall: tool ? { id: toolUseId(), name: tool.name as string, arguments: args } : undefined,
      argPiecesEscaped: tool ? splitArgs(args, 2).map((p) => JSON.stringify(p)) : [],
      promptTokens,
      completionTokens: Math.max(1, pieces.length),
      finishReason: undefined,
      includeUsage: true,
      obfuscation: false,
    };
    if (!stream) {
      const full = messageBody(ctx);
      if (b.kind === 'cut') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(full)) });
        await writeFlushed(res, full.slice(0, full.length >> 1));
        res.socket?.destroy();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(full);
      return;
    }
    const frames = messageFrames(ctx);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    await writeFlushed(res, frames.pre);
    const upTo = b.kind === 'cut' || b.kind === 'stream-error' ? Math.min(b.afterChunks, frames.content.length) : frames.content.length;
    for (const f of frames.content.slice(0, upTo)) {
      if (job.dead) return;
      await writeFlushed(res, f);
    }
    if (b.kind === 'cut') {
      res.socket?.destroy();
      return;
    }
    if (b.kind === 'stream-error') {
      const error = { type: 'error', error: { type: b.statusName ?? 'overloaded_error', message: b.message ?? 'Overloaded' } };
      res.end(`event: error\ndata: ${JSON.stringify(error)}\n\n`);
      return;
    }
    res.end(frames.post);
  }
}

export async function startFakeVertex(opts: FakeVertexOptions): Promise<FakeVertex> {
  const v = new FakeVertex(opts);
  await v.server.listen();
  return v;
}
