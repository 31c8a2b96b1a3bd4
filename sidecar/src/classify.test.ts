import { UpstreamAbortedError } from './errors.ts';
import { classifyNetworkError, classifyStatus, hintFromError } from './classify.ts';

describe('classifyStatus (SPEC section 5)', () => {
  it.each([
    [429, undefined, 'rate-limit'],
    [500, undefined, 'server-error'],
    [502, undefined, 'server-error'],
    [503, undefined, 'server-error'],
    [504, undefined, 'server-error'],
    [529, undefined, 'server-error'],
    [401, undefined, 'auth'],
    [403, undefined, 'auth'],
    [429, 'quota', 'auth'],
    [400, 'context-window', 'context-window'],
    [400, undefined, 'bad-request'],
    // A 404 is the target's: a wrong baseURL, a renamed deployment, a retired model (issue 10).
    [404, undefined, 'not-found'],
    [404, 'missing-model', 'not-found'],
    [400, 'missing-model', 'not-found'],
    // ...unless it is about something the request names (a file id): the client's error.
    [404, 'request-resource', 'bad-request'],
    [400, 'request-resource', 'bad-request'],
    [422, undefined, 'bad-request'],
  ] as const)('%i %s → %s', (status, hint, cls) => {
    expect(classifyStatus(status, hint)).toBe(cls);
  });
});

describe('hintFromError', () => {
  it('knows context-window errors of each provider', () => {
    expect(hintFromError('context_length_exceeded', 'x')).toBe('context-window');
    expect(hintFromError(null, 'prompt is too long: 210000 tokens > 200000 maximum')).toBe('context-window');
    expect(hintFromError(null, "This model's maximum context length is 8192 tokens")).toBe('context-window');
  });
  it('knows quota exhaustion', () => {
    expect(hintFromError('insufficient_quota', 'You exceeded your current quota')).toBe('quota');
    expect(hintFromError(null, 'Your credit balance is too low to access the Anthropic API')).toBe('quota');
  });
  it('says nothing of an ordinary error', () => expect(hintFromError('invalid_value', 'temperature is invalid')).toBeUndefined());

  // The messages real providers send when the prompt does not fit (each from the provider's own answers).
  it.each<[string, string | null, string, string | null]>([
    ['OpenAI', 'context_length_exceeded', "This model's maximum context length is 128000 tokens. However, your messages resulted in 130001 tokens. Please reduce the length of the messages.", 'invalid_request_error'],
    ['OpenAI (newer models)', 'context_length_exceeded', 'Input tokens exceed the configured limit of 272000 tokens. Your messages resulted in 300000 tokens. Please reduce the length of the messages.', 'invalid_request_error'],
    ['Azure OpenAI', 'context_length_exceeded', "This model's maximum context length is 8192 tokens, however you requested 9000 tokens (9000 in your prompt; 0 for the completion). Please reduce your prompt; or completion length.", 'invalid_request_error'],
    ['Anthropic', null, 'prompt is too long: 210000 tokens > 200000 maximum', 'invalid_request_error'],
    ['Anthropic (with max_tokens)', null, 'input length and `max_tokens` exceed context limit: 199000 + 8192 > 200000, decrease input length or `max_tokens` and try again', 'invalid_request_error'],
    ['vLLM', null, "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (4000 in the messages, 1000 in the completion). Please reduce the length of the messages or completion.", 'BadRequestError'],
    ['vLLM (decoder prompt)', null, 'The decoder prompt (length 5000) is longer than the maximum model length of 4096. Make sure that `max_model_len` is no smaller than the number of text tokens.', 'BadRequestError'],
    ['llama.cpp', null, 'request (2021 tokens) exceeds the available context size (512 tokens), try increasing it', 'exceed_context_size_error'],
    ['llama.cpp (by its type alone)', null, 'request too large', 'exceed_context_size_error'],
    ['llama.cpp (older)', null, 'the request exceeds the available context size, try increasing the context size or enable context shift', 'invalid_request_error'],
    ['Ollama', null, 'the input length exceeds the context length', 'api_error'],
    ['Mistral', null, 'Prompt contains 40000 tokens and 0 draft tokens, too large for model with 32768 maximum context length', 'invalid_request_error'],
    ['Gemini (OpenAI endpoint)', null, 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).', 'INVALID_ARGUMENT'],
    ['TGI', null, 'Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 5000 `inputs` tokens and 100 `max_new_tokens`', 'validation'],
  ])('%s: context-window', (_provider, code, message, type) => {
    expect(hintFromError(code, message, type)).toBe('context-window');
  });

  it.each<[string, string | null, string, string | null]>([
    ['OpenAI: max_tokens over the model\'s output limit', 'invalid_value', 'max_tokens is too large: 100000. This model supports at most 16384 completion tokens, whereas you provided 100000.', 'invalid_request_error'],
    ['Anthropic: a deprecated parameter', null, '`temperature` is deprecated for this model.', 'invalid_request_error'],
    ['an unknown parameter about context management', null, 'context_management: Extra inputs are not permitted', 'invalid_request_error'],
  ])('%s: no hint', (_what, code, message, type) => expect(hintFromError(code, message, type)).toBeUndefined());

  it.each<[string, string | null, string, string | null]>([
    ["OpenAI's model_not_found", 'model_not_found', 'The model `gpt-4.5-preview` does not exist or you do not have access to it.', null],
    ["Azure's DeploymentNotFound", 'DeploymentNotFound', 'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.', null],
  ])('%s: missing-model', (_what, code, message, param) => expect(hintFromError(code, message, 'invalid_request_error', param)).toBe('missing-model'));

  it.each<[string, string, string | null]>([
    ['an OpenAI 404 naming a param of the request', 'Invalid file id', 'messages[0].content[1].file.file_id'],
    ['a file the request names', 'No such File object: file-abc123', null],
    ['an Anthropic file the request names', 'File not found: file_011CNha8iCJcU1wXNR6q4V8w', null],
  ])('%s: request-resource', (_what, message, param) => expect(hintFromError(null, message, 'invalid_request_error', param)).toBe('request-resource'));

  it("a 404 for a wrong baseURL, Anthropic's not_found_error, vLLM's unknown model: no hint (the status says not-found)", () => {
    expect(hintFromError(null, 'Invalid URL (POST /v1/v1/chat/completions)', 'invalid_request_error', null)).toBeUndefined();
    expect(hintFromError(null, 'model: claude-3-opus-20240229', 'not_found_error', null)).toBeUndefined();
    expect(hintFromError(null, 'The model `llama-3` does not exist.', 'NotFoundError', null)).toBeUndefined();
    expect(hintFromError(null, 'Resource not found', null, null)).toBeUndefined();
  });
});

describe('classifyNetworkError', () => {
  const err = (code: string, cause?: unknown) => Object.assign(new Error(code), { code, cause });
  it.each([
    ['ECONNREFUSED', 'connection-error'],
    ['ECONNRESET', 'connection-error'],
    ['ENOTFOUND', 'connection-error'],
    ['UND_ERR_SOCKET', 'connection-error'],
    ['HPE_INVALID_CONSTANT', 'connection-error'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'connection-error'],
    ['UND_ERR_CONNECT_TIMEOUT', 'timeout'],
    ['UND_ERR_HEADERS_TIMEOUT', 'timeout'],
    ['UND_ERR_BODY_TIMEOUT', 'timeout'],
  ])('%s → %s', (code, cls) => expect(classifyNetworkError(err(code))).toBe(cls));
  it('treats bytes that are not HTTP as a connection error', () => {
    expect(classifyNetworkError(Object.assign(new Error('Response does not match the HTTP/1.1 protocol'), { name: 'HTTPParserError' }))).toBe('connection-error');
  });
  it('looks through causes', () => expect(classifyNetworkError(new Error('fetch failed', { cause: err('ECONNRESET') }))).toBe('connection-error'));
  it('leaves other errors alone', () => expect(classifyNetworkError(new TypeError('x'))).toBeUndefined());
  it('an exchange we aborted is no network failure, whatever its cause', () => {
    expect(classifyNetworkError(new UpstreamAbortedError('the request was aborted', 'deadline'))).toBeUndefined();
    expect(classifyNetworkError(new UpstreamAbortedError('the request was aborted', err('ECONNRESET')))).toBeUndefined();
  });
});
