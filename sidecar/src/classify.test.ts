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
    [404, undefined, 'bad-request'],
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
