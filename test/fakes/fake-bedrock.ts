/**
 * A fake Amazon Bedrock runtime: `POST /model/{modelId}/converse` and
 * `/converse-stream`. It checks what the real service checks:
 * - auth: a Bedrock API key as `Authorization: Bearer`, or a SigV4 signature, verified
 *   independently with the `aws4` package (not the sidecar's @smithy/signature-v4): the
 *   credential scope (date, region, service `bedrock`), the Host (the regional host
 *   bedrock-runtime.<region>.amazonaws.com, whatever address the request came to), the
 *   x-amz-date within 5 minutes, a known access key with its session token, not expired, and
 *   the signature over the signed headers. Refusals are Bedrock's real errors (403
 *   MissingAuthenticationTokenException, UnrecognizedClientException, InvalidSignatureException,
 *   ExpiredTokenException; type in `x-amzn-errortype`, body `{"message"}`).
 * - the body: messages alternate user/assistant from a user turn, no empty text, toolConfig
 *   present when tool blocks are used, a toolResult answering a toolUse of the turn before.
 * Streams are encoded with an independent event-stream encoder (eventstream.ts: CRC32 from
 * node:zlib). Faults: throttling, any error type, exception frames mid-stream, cut streams,
 * guardrail stops.
 */
import type { ServerResponse } from 'node:http';
import aws4 from 'aws4';
import { CloudServer, pieces, writeFlushed, type CloudRequest, type Job } from './fake-cloud-server.ts';
import { CredentialStore } from './fake-aws-credentials.ts';
import { eventFrame, exceptionFrame } from './eventstream.ts';
import { exampleArguments, randomAlnum } from './wire-common.ts';

export type BedrockBehaviour =
  | { kind: 'ok'; text?: string; chunks?: number; toolCall?: boolean; stopReason?: string }
  /** An error of this type (ThrottlingException, ModelNotReadyException, ValidationException, …) with its real status. */
  | { kind: 'error'; type: string; message?: string; status?: number }
  /** Stream: after K content deltas, an exception frame (camelCase type, e.g. throttlingException). Non-stream: the error as a status. */
  | { kind: 'exception'; afterChunks: number; exceptionType: string; message?: string }
  /** Stream: close the socket after K content deltas. */
  | { kind: 'cut'; afterChunks: number };

const STATUS_OF: Record<string, number> = {
  ThrottlingException: 429,
  ModelNotReadyException: 429,
  ServiceUnavailableException: 503,
  InternalServerException: 500,
  ValidationException: 400,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  ModelTimeoutException: 408,
  ModelErrorException: 424,
  ServiceQuotaExceededException: 400,
};

export interface FakeBedrockOptions {
  region?: string;
  store?: CredentialStore;
  /** A Bedrock API key accepted as a bearer token. */
  apiKey?: string;
  text?: string;
  chunks?: number;
  /** The signing clock's reference (tests of skew); default Date.now. */
  now?: () => number;
  behaviour?: BedrockBehaviour | ((req: CloudRequest, n: number) => BedrockBehaviour | undefined);
}

const PATH = /^\/model\/([^/]+)\/(converse|converse-stream)$/;
const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    'x-amzn-requestid': crypto.randomUUID(),
  });
  res.end(JSON.stringify({ message }));
}

/** x-amz-date (20250102T030405Z) -> ms. */
function amzDate(s: string | undefined): number {
  const m = s ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s) : null;
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : Number.NaN;
}

export class FakeBedrock {
  readonly server: CloudServer<BedrockBehaviour>;
  readonly region: string;
  readonly store: CredentialStore;
  readonly opts: FakeBedrockOptions;
  /** Why requests were refused, in order (auth and validation). */
  readonly refusals: string[] = [];

  constructor(opts: FakeBedrockOptions) {
    this.opts = opts;
    this.region = opts.region ?? 'us-east-1';
    this.store = opts.store ?? new CredentialStore();
    this.server = new CloudServer<BedrockBehaviour>((req, res, job, next) => this.#handle(req, res, job, next), opts.behaviour);
  }

  get url(): string {
    return this.server.origin;
  }
  get requests(): CloudRequest[] {
    return this.server.requests;
  }
  get host(): string {
    return `bedrock-runtime.${this.region}.amazonaws.com`;
  }
  script(...b: BedrockBehaviour[]): void {
    this.server.script(...b);
  }
  close(): Promise<void> {
    return this.server.close();
  }

  /** The auth problem of a request as Bedrock reports it, or undefined. */
  #authProblem(req: CloudRequest): [number, string, string] | undefined {
    const auth = req.headers.authorization;
    if (!auth) return [403, 'MissingAuthenticationTokenException', 'Missing Authentication Token'];
    if (auth.startsWith('Bearer ')) {
      return this.opts.apiKey !== undefined && auth.slice(7) === this.opts.apiKey ? undefined : [403, 'UnrecognizedClientException', 'The security token included in the request is invalid.'];
    }
    const m = AUTH.exec(auth);
    if (!m) return [403, 'IncompleteSignatureException', `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.`];
    const [, accessKeyId, date, region, service, signedHeaders, signature] = m;
    const key = this.store.get(accessKeyId!);
    if (!key) return [403, 'UnrecognizedClientException', 'The security token included in the request is invalid.'];
    const now = (this.opts.now ?? Date.now)();
    if (key.expiresAt !== undefined && now > key.expiresAt) return [403, 'ExpiredTokenException', 'The security token included in the request is expired'];
    if (key.sessionToken !== undefined && req.headers['x-amz-security-token'] !== key.sessionToken) {
      return [403, 'UnrecognizedClientException', 'The security token included in the request is invalid.'];
    }
    if (service !== 'bedrock' || region !== this.region) {
      return [403, 'InvalidSignatureException', `Credential should be scoped to a valid region and service 'bedrock', not '${region}/${service}'.`];
    }
    const when = amzDate(req.headers['x-amz-date']);
    if (!Number.isFinite(when) || Math.abs(now - when) > 5 * 60_000 || req.headers['x-amz-date']!.slice(0, 8) !== date) {
      return [403, 'InvalidSignatureException', 'Signature expired: the request time is more than 5 minutes away from the server time.'];
    }
    const names = signedHeaders!.split(';');
    if (!names.includes('host') || !names.includes('x-amz-date')) return [403, 'InvalidSignatureException', 'host and x-amz-date must be signed.'];
    if (req.headers.host !== this.host) {
      // Signed for another host than the service's own: the recomputed signature would differ.
      return [403, 'InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'];
    }
    const headers: Record<string, string> = {};
    for (const n of names) {
      const v = req.headers[n];
      if (v === undefined) return [403, 'InvalidSignatureException', `The signed header ${n} is missing.`];
      headers[n] = v;
    }
    const ignore: Record<string, boolean> = names.includes('content-length') ? {} : { 'content-length': true };
    const expected = aws4.sign(
      { host: this.host, path: req.path, method: req.method, headers, body: req.rawBody, service: 'bedrock', region: this.region, extraHeadersToIgnore: ignore } as aws4.Request,
      { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, ...(key.sessionToken ? { sessionToken: key.sessionToken } : {}) },
    );
    const got = String((expected.headers as Record<string, unknown>).Authorization ?? (expected.headers as Record<string, unknown>).authorization);
    if (!got.endsWith(`SignedHeaders=${signedHeaders}, Signature=${signature}`)) {
      return [403, 'InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'];
    }
    return undefined;
  }

  async #handle(req: CloudRequest, res: ServerResponse, job: Job, next: () => BedrockBehaviour | undefined): Promise<void> {
    const m = PATH.exec(req.pathname);
    if (req.method !== 'POST' || !m) {
      req.outcome = 'not-found';
      return sendError(res, 404, 'UnknownOperationException', 'Unknown operation');
    }
    const problem = this.#authProblem(req);
    if (problem) {
      req.outcome = 'auth-failed';
      this.refusals.push(problem[1]);
      return sendError(res, ...problem);
    }
    const invalid = validateConverse(req.body);
    if (invalid) {
      req.outcome = 'invalid';
      this.refusals.push(invalid);
      return sendError(res, 400, 'ValidationException', invalid);
    }
    const modelId = decodeURIComponent(m[1]!);
    const stream = m[2] === 'converse-stream';
    const b = next() ?? { kind: 'ok' };
    if (b.kind === 'error') return sendError(res, b.status ?? STATUS_OF[b.type] ?? 400, b.type, b.message ?? `the fake failed with ${b.type}`);
    if (b.kind === 'exception' && !stream) {
      const type = b.exceptionType[0]!.toUpperCase() + b.exceptionType.slice(1);
      return sendError(res, STATUS_OF[type] ?? 500, type, b.message ?? 'The system encountered an unexpected error during processing. Try your request again.');
    }

    const body = req.body;
    const tools = body.toolConfig?.tools;
    const callTool = b.kind === 'ok' && b.toolCall && Array.isArray(tools) && tools.length > 0;
    const text = (b.kind === 'ok' ? b.text : undefined) ?? this.opts.text ?? `Hello from bedrock ${modelId}`;
    const textPieces = callTool ? [] : pieces(text, Math.max(1, (b.kind === 'ok' ? b.chunks : undefined) ?? this.opts.chunks ?? 4));
    const stopReason = callTool ? 'tool_use' : ((b.kind === 'ok' ? b.stopReason : undefined) ?? 'end_turn');
    const inputTokens = Math.max(1, Math.ceil(JSON.stringify(body.messages).length / 4));
    const toolSpec = callTool ? tools[0].toolSpec : undefined;
    const toolUse = toolSpec ? { toolUseId: `tooluse_${randomAlnum(22)}`, name: toolSpec.name, input: exampleArguments(toolSpec.inputSchema?.json) } : undefined;
    const usage = { inputTokens, outputTokens: textPieces.length + (toolUse ? 1 : 0), totalTokens: inputTokens + textPieces.length + (toolUse ? 1 : 0) };

    if (!stream) {
      const content: unknown[] = [];
      if (textPieces.length && textPieces.join('')) content.push({ text: textPieces.join('') });
      if (toolUse) content.push({ toolUse });
      res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': crypto.randomUUID() });
      res.end(JSON.stringify({ output: { message: { role: 'assistant', content } }, stopReason, usage, metrics: { latencyMs: 42 } }));
      return;
    }

    const p = () => randomAlnum(1 + Math.floor(Math.random() * 20));
    const frames: Buffer[] = [eventFrame('messageStart', { p: p(), role: 'assistant' })];
    const content: Buffer[] = [];
    if (toolUse) {
      frames.push(eventFrame('contentBlockStart', { contentBlockIndex: 0, p: p(), start: { toolUse: { toolUseId: toolUse.toolUseId, name: toolUse.name } } }));
      const args = JSON.stringify(toolUse.input);
      for (const piece of pieces(args, 2)) content.push(eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { toolUse: { input: piece } }, p: p() }));
    } else {
      for (const piece of textPieces) content.push(eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: piece }, p: p() }));
    }
    const end = [
      eventFrame('contentBlockStop', { contentBlockIndex: 0, p: p() }),
      eventFrame('messageStop', { p: p(), stopReason }),
      eventFrame('metadata', { metrics: { latencyMs: 42 }, p: p(), usage }),
    ];
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': crypto.randomUUID(), 'transfer-encoding': 'chunked' });
    const k = b.kind === 'ok' ? content.length : Math.min(b.afterChunks, content.length);
    for (const f of [...frames, ...content.slice(0, k)]) {
      if (job.dead) return;
      await writeFlushed(res, f);
    }
    if (b.kind === 'cut') {
      res.socket?.destroy();
      return;
    }
    if (b.kind === 'exception') {
      res.end(exceptionFrame(b.exceptionType, b.message ?? 'The system encountered an unexpected error during processing. Try your request again.'));
      return;
    }
    res.end(Buffer.concat(end));
  }
}

/** What Converse refuses in a body (its ValidationException messages), or undefined. */
export function validateConverse(body: any): string | undefined {
  if (typeof body !== 'object' || body === null || !Array.isArray(body.messages) || body.messages.length === 0) {
    return 'A conversation must start with a user message. Try again with a conversation that starts with a user message.';
  }
  let usesTools = false;
  for (const [i, msg] of body.messages.entries()) {
    if (i === 0 && msg.role !== 'user') return 'A conversation must start with a user message. Try again with a conversation that starts with a user message.';
    if (i > 0 && msg.role === body.messages[i - 1].role) {
      return 'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.';
    }
    if (!Array.isArray(msg.content) || msg.content.length === 0) return `The content field in the Message object at messages.${i} is empty. Add a ContentBlock object to the content field and try again.`;
    for (const block of msg.content) {
      if (typeof block.text === 'string' && block.text.trim() === '' && msg.content.length === 1) {
        return `The text field in the ContentBlock object at messages.${i}.content.0 is blank. Add text to the text field, and try again.`;
      }
      if (block.toolUse || block.toolResult) usesTools = true;
      if (block.toolResult) {
        const prev = body.messages[i - 1];
        if (!prev?.content?.some((b: any) => b.toolUse?.toolUseId === block.toolResult.toolUseId)) {
          return `Expected toolResult blocks at messages.${i}.content for the following Ids: none, but found: ${block.toolResult.toolUseId}`;
        }
      }
      if (block.image && !['png', 'jpeg', 'gif', 'webp'].includes(block.image.format)) return `messages.${i}: invalid image format`;
    }
  }
  if (usesTools && !body.toolConfig) return 'The toolConfig field must be defined when using toolUse and toolResult content blocks.';
  return undefined;
}

export async function startFakeBedrock(opts: FakeBedrockOptions = {}): Promise<FakeBedrock> {
  const b = new FakeBedrock(opts);
  await b.server.listen();
  return b;
}
