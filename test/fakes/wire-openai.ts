/**
 * OpenAI's wire format (Chat Completions, Embeddings, errors), and Azure
 * OpenAI's variations of it (content-filter results, its own 401/404/429
 * bodies).
 */
import { maskKey, randomAlnum, randomHex, type ErrorSpec, type ReplyContext, type StreamFrames, type WireError } from './wire-common.ts';

const FINGERPRINT = 'fp_' + randomHex(10);

export function chatId(): string {
  return 'chatcmpl-' + randomAlnum(29);
}

export function toolCallId(): string {
  return 'call_' + randomAlnum(24);
}

export function requestId(): string {
  return 'req_' + randomHex(32);
}

const FILTER_OK =
  '{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},' +
  '"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}';
const PROMPT_FILTER = '[{"prompt_index":0,"content_filter_results":' + FILTER_OK + '}]';

/** Random padding like OpenAI's `obfuscation` field (varying length). */
const OBFUSCATIONS = Array.from({ length: 16 }, (_, i) => JSON.stringify(randomAlnum(1 + ((i * 7) % 16))));
let obfAt = 0;
function obf(on: boolean): string {
  if (!on) return '';
  obfAt = (obfAt + 1) & 15;
  return ',"obfuscation":' + OBFUSCATIONS[obfAt];
}

function usageJson(ctx: ReplyContext): string {
  return (
    '{"prompt_tokens":' +
    ctx.promptTokens +
    ',"completion_tokens":' +
    ctx.completionTokens +
    ',"total_tokens":' +
    (ctx.promptTokens + ctx.completionTokens) +
    ',"prompt_tokens_details":{"cached_tokens":' +
    (ctx.cacheReadTokens ?? 0) +
    ',"audio_tokens":0},' +
    '"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}'
  );
}

function finishReason(ctx: ReplyContext): string {
  return ctx.finishReason ?? (ctx.toolCall ? 'tool_calls' : 'stop');
}

/** A non-stream chat completion. */
export function chatCompletionBody(ctx: ReplyContext, azure: boolean): string {
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: ctx.toolCall && ctx.text === '' ? null : ctx.text,
  };
  if (ctx.reasoning !== undefined) message['reasoning_content'] = ctx.reasoning;
  if (ctx.toolCall) {
    message['tool_calls'] = [
      { id: ctx.toolCall.id, type: 'function', function: { name: ctx.toolCall.name, arguments: ctx.toolCall.arguments } },
    ];
  }
  message['refusal'] = null;
  message['annotations'] = [];
  const choice: Record<string, unknown> = { index: 0, message, logprobs: null, finish_reason: finishReason(ctx) };
  if (azure) choice['content_filter_results'] = JSON.parse(FILTER_OK);
  return (
    '{"id":"' +
    ctx.id +
    '","object":"chat.completion","created":' +
    ctx.created +
    ',"model":' +
    ctx.modelJson +
    ',"choices":[' +
    JSON.stringify(choice) +
    '],"usage":' +
    usageJson(ctx) +
    (azure ? ',"prompt_filter_results":' + PROMPT_FILTER : ',"service_tier":"default"') +
    ',"system_fingerprint":"' +
    FINGERPRINT +
    '"}'
  );
}

/** A chat completion as SSE frames. */
export function chatCompletionFrames(ctx: ReplyContext, azure: boolean): StreamFrames {
  const head =
    'data: {"id":"' +
    ctx.id +
    '","object":"chat.completion.chunk","created":' +
    ctx.created +
    ',"model":' +
    ctx.modelJson +
    (azure ? '' : ',"service_tier":"default"') +
    ',"system_fingerprint":"' +
    FINGERPRINT +
    '","choices":[{"index":0,"delta":';
  const usageNull = ctx.includeUsage ? ',"usage":null' : '';
  const mid = ',"logprobs":null,"finish_reason":';
  const ob = ctx.obfuscation && !azure;
  const frame = (delta: string, finish: string): string => head + delta + mid + finish + '}]' + usageNull + obf(ob) + '}\n\n';

  let pre = '';
  if (azure) {
    pre += 'data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":' + PROMPT_FILTER + '}\n\n';
  }
  const firstIsTool = ctx.toolCall !== undefined && ctx.escaped.length === 0;
  pre += frame(firstIsTool ? '{"role":"assistant","content":null,"refusal":null}' : '{"role":"assistant","content":"","refusal":null}', 'null');

  const content: string[] = [];
  if (ctx.reasoning !== undefined) content.push(frame('{"reasoning_content":' + JSON.stringify(ctx.reasoning) + '}', 'null'));
  for (const piece of ctx.escaped) content.push(frame('{"content":' + piece + '}', 'null'));
  if (ctx.toolCall) {
    const tc = ctx.toolCall;
    content.push(
      frame(
        '{"tool_calls":[{"index":0,"id":"' +
          tc.id +
          '","type":"function","function":{"name":' +
          JSON.stringify(tc.name) +
          ',"arguments":""}}]}',
        'null',
      ),
    );
    for (const piece of ctx.argPiecesEscaped) content.push(frame('{"tool_calls":[{"index":0,"function":{"arguments":' + piece + '}}]}', 'null'));
  }

  let post = frame('{}', '"' + finishReason(ctx) + '"');
  if (ctx.includeUsage) {
    post +=
      'data: {"id":"' +
      ctx.id +
      '","object":"chat.completion.chunk","created":' +
      ctx.created +
      ',"model":' +
      ctx.modelJson +
      (azure ? '' : ',"service_tier":"default"') +
      ',"system_fingerprint":"' +
      FINGERPRINT +
      '","choices":[],"usage":' +
      usageJson(ctx) +
      obf(ob) +
      '}\n\n';
  }
  post += 'data: [DONE]\n\n';
  return { pre, content, post };
}

/** Cached embedding vectors per dimension count: JSON floats and base64 float32. */
const vectorCache = new Map<number, { json: string; base64: string }>();

function vector(dims: number): { json: string; base64: string } {
  let v = vectorCache.get(dims);
  if (!v) {
    const f = new Float32Array(dims);
    let norm = 0;
    for (let i = 0; i < dims; i++) {
      const x = Math.sin(i * 12.9898 + 78.233) * 0.5;
      f[i] = x;
      norm += x * x;
    }
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < dims; i++) f[i] = (f[i] as number) / norm;
    const nums: string[] = [];
    for (let i = 0; i < dims; i++) nums.push(String(f[i]));
    v = { json: '[' + nums.join(',') + ']', base64: Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('base64') };
    if (vectorCache.size > 32) vectorCache.clear();
    vectorCache.set(dims, v);
  }
  return v;
}

/** An embeddings response for `count` inputs. */
export function embeddingsBody(modelJson: string, count: number, dims: number, base64: boolean, promptTokens: number): string {
  const v = vector(dims);
  const emb = base64 ? '"' + v.base64 + '"' : v.json;
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push('{"object":"embedding","index":' + i + ',"embedding":' + emb + '}');
  return (
    '{"object":"list","data":[' +
    parts.join(',') +
    '],"model":' +
    modelJson +
    ',"usage":{"prompt_tokens":' +
    promptTokens +
    ',"total_tokens":' +
    promptTokens +
    '}}'
  );
}

/** The models list. */
export function modelsBody(models: string[]): string {
  return JSON.stringify({
    object: 'list',
    data: models.map((id) => ({ id, object: 'model', created: 1715367049, owned_by: 'system' })),
  });
}

function errorJson(message: string, type: string | null, param: string | null, code: string | number | null): string {
  return JSON.stringify({ error: { message, type, param, code } });
}

/** Default message, type and code of an OpenAI error by status. */
function defaults(status: number, model: string): { message: string; type: string; code: string | number | null; param: string | null } {
  switch (status) {
    case 400:
      return { message: 'Invalid request.', type: 'invalid_request_error', code: null, param: null };
    case 401:
      return {
        message: 'Incorrect API key provided: sk-****. You can find your API key at https://platform.openai.com/account/api-keys.',
        type: 'invalid_request_error',
        code: 'invalid_api_key',
        param: null,
      };
    case 403:
      return { message: 'Country, region, or territory not supported', type: 'request_forbidden', code: 'unsupported_country_region_territory', param: null };
    case 404:
      return {
        message: `The model \`${model}\` does not exist or you do not have access to it.`,
        type: 'invalid_request_error',
        code: 'model_not_found',
        param: null,
      };
    case 429:
      return {
        message:
          `Rate limit reached for ${model} in organization org-fake on requests per min (RPM): Limit 500, Used 500, Requested 1. ` +
          'Please try again in 120ms. Visit https://platform.openai.com/account/rate-limits to learn more.',
        type: 'requests',
        code: 'rate_limit_exceeded',
        param: null,
      };
    case 500:
      return { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', code: null, param: null };
    case 502:
      return { message: 'Bad gateway.', type: 'cf_bad_gateway', code: 502, param: null };
    case 503:
      return { message: 'The server is overloaded or not ready yet.', type: 'server_error', code: null, param: null };
    case 504:
      return { message: 'Gateway timeout.', type: 'cf_gateway_timeout', code: 504, param: null };
    default:
      return status >= 500
        ? { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', code: null, param: null }
        : { message: 'Invalid request.', type: 'invalid_request_error', code: null, param: null };
  }
}

/** An error body for a status (OpenAI shape; Azure's own shape for 401, 404 and 429). */
export function errorBody(status: number, spec: ErrorSpec, model: string, azure: boolean, retryAfterSeconds?: number): string {
  if (azure && spec.message === undefined && spec.type === undefined) {
    if (status === 401) return azureAuthBody();
    if (status === 429) {
      const s = retryAfterSeconds ?? 1;
      return JSON.stringify({
        error: {
          code: '429',
          message:
            'Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded call rate limit of your current OpenAI S0 pricing tier. ' +
            `Please retry after ${s} second${s === 1 ? '' : 's'}. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`,
        },
      });
    }
  }
  const d = defaults(status, model);
  return errorJson(
    spec.message ?? d.message,
    spec.type ?? d.type,
    spec.param !== undefined ? spec.param : d.param,
    spec.code !== undefined ? spec.code : d.code,
  );
}

/** The in-stream error event. */
export function streamErrorFrame(spec: ErrorSpec): string {
  const d = defaults(500, '');
  return 'data: ' + errorJson(spec.message ?? d.message, spec.type ?? d.type, spec.param ?? null, spec.code !== undefined ? spec.code : null) + '\n\n';
}

export function contextWindowError(promptTokens: number): WireError {
  const limit = 128000;
  const asked = Math.max(limit + 1, promptTokens);
  return {
    status: 400,
    body: errorJson(
      `This model's maximum context length is ${limit} tokens. However, your messages resulted in ${asked} tokens. Please reduce the length of the messages.`,
      'invalid_request_error',
      'messages',
      'context_length_exceeded',
    ),
  };
}

export function quotaError(): WireError {
  return {
    status: 429,
    body: errorJson(
      'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
      'insufficient_quota',
      null,
      'insufficient_quota',
    ),
  };
}

function azureAuthBody(): string {
  return JSON.stringify({
    error: {
      code: '401',
      message:
        'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
    },
  });
}

/** The 401 for a missing or wrong key. */
export function authError(azure: boolean, given: string | undefined): WireError {
  if (azure) return { status: 401, body: azureAuthBody() };
  if (!given) {
    return {
      status: 401,
      body: errorJson(
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), " +
          "or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username. " +
          'You can obtain an API key from https://platform.openai.com/account/api-keys.',
        'invalid_request_error',
        null,
        null,
      ),
    };
  }
  return {
    status: 401,
    body: errorJson(
      `Incorrect API key provided: ${maskKey(given)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      'invalid_request_error',
      null,
      'invalid_api_key',
    ),
  };
}

/** Azure's answer to an unknown path or a missing api-version. */
export function azureNotFound(): WireError {
  return { status: 404, body: JSON.stringify({ error: { code: '404', message: 'Resource not found' } }) };
}

/** Azure's answer for a deployment the resource does not have (renamed or deleted). */
export function azureDeploymentNotFound(): WireError {
  return {
    status: 404,
    body: JSON.stringify({
      error: {
        code: 'DeploymentNotFound',
        message: 'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
      },
    }),
  };
}

export function invalidURL(method: string, path: string): WireError {
  return { status: 404, body: errorJson(`Invalid URL (${method} ${path})`, 'invalid_request_error', null, null) };
}

export function badJSON(): WireError {
  return {
    status: 400,
    body: errorJson(
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. " +
        'The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)',
      'invalid_request_error',
      null,
      null,
    ),
  };
}

/** The request's validation error, if any. */
export function validate(endpoint: 'chat' | 'embeddings', body: Record<string, unknown>, azure: boolean): WireError | undefined {
  if (!azure && typeof body['model'] !== 'string') {
    return { status: 400, body: errorJson('you must provide a model parameter', 'invalid_request_error', null, null) };
  }
  if (endpoint === 'chat') {
    const m = body['messages'];
    if (!Array.isArray(m)) {
      return {
        status: 400,
        body: errorJson("Missing required parameter: 'messages'.", 'invalid_request_error', 'messages', 'missing_required_parameter'),
      };
    }
    if (m.length === 0) {
      return {
        status: 400,
        body: errorJson("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", 'invalid_request_error', 'messages', 'empty_array'),
      };
    }
  } else if (body['input'] === undefined) {
    return { status: 400, body: errorJson("Missing required parameter: 'input'.", 'invalid_request_error', 'input', 'missing_required_parameter') };
  }
  return undefined;
}

/** The HTML page a Cloudflare edge sends for a 5xx. */
export function cloudflareHTML(status: number): string {
  const title = status === 502 ? '502 Bad Gateway' : status === 504 ? '504 Gateway Time-out' : `${status} Service Temporarily Unavailable`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n`;
}

// ------------------------------------------------- legacy completions (/v1/completions)

export function completionId(): string {
  return 'cmpl-' + randomAlnum(29);
}

function completionChunk(ctx: ReplyContext, text: string, finish: string | null): string {
  return (
    '{"id":"' + ctx.id + '","object":"text_completion","created":' + ctx.created +
    ',"choices":[{"text":' + text + ',"index":0,"logprobs":null,"finish_reason":' + (finish === null ? 'null' : '"' + finish + '"') +
    '}],"model":' + ctx.modelJson + ',"system_fingerprint":"' + FINGERPRINT + '"}'
  );
}

/** A non-stream legacy completion (`object: text_completion`, the text in `choices[].text`). */
export function completionBody(ctx: ReplyContext): string {
  const c = completionChunk(ctx, JSON.stringify(ctx.text), finishReason(ctx));
  return c.slice(0, -1) + ',"usage":' + usageJson(ctx) + '}';
}

/** A legacy completion as SSE frames: one chunk per piece, then the finish chunk, the usage chunk when asked, [DONE]. */
export function completionFrames(ctx: ReplyContext): StreamFrames {
  const content = ctx.escaped.map((piece) => 'data: ' + completionChunk(ctx, piece, null) + '\n\n');
  let post = 'data: ' + completionChunk(ctx, '""', finishReason(ctx)) + '\n\n';
  if (ctx.includeUsage) {
    post += 'data: {"id":"' + ctx.id + '","object":"text_completion","created":' + ctx.created + ',"choices":[],"model":' + ctx.modelJson + ',"usage":' + usageJson(ctx) + '}\n\n';
  }
  return { pre: '', content, post: post + 'data: [DONE]\n\n' };
}

/** What OpenAI checks of a legacy completion request. */
export function validateCompletion(body: Record<string, unknown>, azure: boolean): WireError | undefined {
  if (!azure && typeof body['model'] !== 'string') {
    return { status: 400, body: errorJson('you must provide a model parameter', 'invalid_request_error', null, null) };
  }
  const p = body['prompt'];
  if (p === undefined || p === null) {
    return { status: 400, body: errorJson("Missing required parameter: 'prompt'.", 'invalid_request_error', 'prompt', 'missing_required_parameter') };
  }
  if (body['messages'] !== undefined) {
    return { status: 400, body: errorJson('Unrecognized request argument supplied: messages', 'invalid_request_error', null, null) };
  }
  return undefined;
}

// ------------------------------------------------- Azure api-versions

/**
 * What an Azure deployment path refuses for its api-version: `stream_options`
 * before the versions that take it (GA 2024-10-21 and later, previews from
 * 2024-09-01-preview), with Azure's "Unrecognized request argument" 400.
 */
export function azureRefusedForVersion(body: Record<string, unknown>, apiVersion: string): WireError | undefined {
  if (body['stream_options'] === undefined) return undefined;
  const m = /^(\d{4}-\d{2}-\d{2})(-preview)?$/.exec(apiVersion);
  const takes = m !== null && (m[1] as string) >= (m[2] ? '2024-09-01' : '2024-10-21');
  if (takes) return undefined;
  return { status: 400, body: errorJson('Unrecognized request argument supplied: stream_options', 'invalid_request_error', null, null) };
}
