import { MAX_SHIFT_MS, NO_RESET_SHIFT_MS, nearLimitUntil, parseGoDurationMs, rfc3339InMs } from './rate-limit-headers.ts';

const P = { minRemainingShare: 0.05 };
const NOW = Date.parse('2026-12-01T16:00:00Z');

describe('parseGoDurationMs (OpenAI x-ratelimit-reset-*)', () => {
  it.each([
    ['1s', 1000],
    ['6m0s', 360_000],
    ['20ms', 20],
    ['1h2m3.5s', 3_723_500],
    ['17.28s', 17_280],
    ['2m59.56s', 179_560],
    ['0s', 0],
    ['7', 7000],
  ])('%s = %d ms', (text, ms) => expect(parseGoDurationMs(text)).toBeCloseTo(ms, 6));

  it.each(['', 'soon', '1d', 's', '-1s', '1s2'])('refuses %j', (text) => expect(parseGoDurationMs(text)).toBeNaN());
});

describe('rfc3339InMs (anthropic-ratelimit-*-reset)', () => {
  it('reads a UTC and an offset time', () => {
    expect(rfc3339InMs('2026-12-01T16:00:05Z', NOW)).toBe(5000);
    expect(rfc3339InMs('2026-12-01T17:00:05.5+01:00', NOW)).toBe(5500);
  });
  it('refuses what is not RFC 3339', () => {
    expect(rfc3339InMs('Tue, 01 Dec 2026 16:00:05 GMT', NOW)).toBeNaN();
    expect(rfc3339InMs('5', NOW)).toBeNaN();
  });
});

describe('nearLimitUntil', () => {
  it('is 0 without rate-limit headers, and when there is room', () => {
    expect(nearLimitUntil({ 'x-request-id': 'req_1' }, P, NOW)).toBe(0);
    expect(nearLimitUntil({ 'x-ratelimit-limit-requests': '500', 'x-ratelimit-remaining-requests': '26', 'x-ratelimit-reset-requests': '1s' }, P, NOW)).toBe(0);
  });

  it('OpenAI: remaining requests at 5% of the limit shift until the reset', () => {
    const h = { 'x-ratelimit-limit-requests': '500', 'x-ratelimit-remaining-requests': '25', 'x-ratelimit-reset-requests': '2.5s', 'x-ratelimit-limit-tokens': '30000', 'x-ratelimit-remaining-tokens': '29000', 'x-ratelimit-reset-tokens': '6m0s' };
    expect(nearLimitUntil(h, P, NOW)).toBe(NOW + 2500);
  });

  it('OpenAI: the tokens count decides alone when it is the one near', () => {
    const h = { 'x-ratelimit-limit-requests': '500', 'x-ratelimit-remaining-requests': '499', 'x-ratelimit-reset-requests': '120ms', 'x-ratelimit-limit-tokens': '30000', 'x-ratelimit-remaining-tokens': '1000', 'x-ratelimit-reset-tokens': '20s' };
    expect(nearLimitUntil(h, P, NOW)).toBe(NOW + 20_000);
  });

  it('the latest reset of the counts that are near wins; a long one is capped', () => {
    const h = { 'x-ratelimit-limit-requests': '10', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '3s', 'x-ratelimit-limit-tokens': '100', 'x-ratelimit-remaining-tokens': '1', 'x-ratelimit-reset-tokens': '24h0m0s' };
    expect(nearLimitUntil(h, P, NOW)).toBe(NOW + MAX_SHIFT_MS);
  });

  it('Azure: remaining without a limit shifts only at 0, for a second without a reset', () => {
    expect(nearLimitUntil({ 'x-ratelimit-remaining-requests': '3' }, P, NOW)).toBe(0);
    expect(nearLimitUntil({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-remaining-tokens': '9000' }, P, NOW)).toBe(NOW + NO_RESET_SHIFT_MS);
  });

  it('Anthropic: any of requests, tokens, input and output tokens; resets are RFC 3339 times', () => {
    const base = {
      'anthropic-ratelimit-requests-limit': '50',
      'anthropic-ratelimit-requests-remaining': '49',
      'anthropic-ratelimit-requests-reset': '2026-12-01T16:00:01Z',
      'anthropic-ratelimit-input-tokens-limit': '30000',
      'anthropic-ratelimit-input-tokens-remaining': '30000',
      'anthropic-ratelimit-input-tokens-reset': '2026-12-01T16:00:00Z',
      'anthropic-ratelimit-output-tokens-limit': '8000',
      'anthropic-ratelimit-output-tokens-remaining': '200',
      'anthropic-ratelimit-output-tokens-reset': '2026-12-01T16:00:07Z',
      'anthropic-ratelimit-tokens-limit': '38000',
      'anthropic-ratelimit-tokens-remaining': '30200',
      'anthropic-ratelimit-tokens-reset': '2026-12-01T16:00:07Z',
    };
    expect(nearLimitUntil(base, P, NOW)).toBe(NOW + 7000);
    expect(nearLimitUntil({ ...base, 'anthropic-ratelimit-output-tokens-remaining': '7000' }, P, NOW)).toBe(0);
    expect(nearLimitUntil({ ...base, 'anthropic-ratelimit-output-tokens-remaining': '7000', 'anthropic-ratelimit-requests-remaining': '2' }, P, NOW)).toBe(NOW + 1000);
  });

  it('a reset in the past or unreadable shifts for a second; garbage counts are ignored', () => {
    expect(nearLimitUntil({ 'anthropic-ratelimit-requests-limit': '50', 'anthropic-ratelimit-requests-remaining': '0', 'anthropic-ratelimit-requests-reset': '2026-12-01T15:59:00Z' }, P, NOW)).toBe(NOW + NO_RESET_SHIFT_MS);
    expect(nearLimitUntil({ 'x-ratelimit-limit-requests': '50', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': 'later' }, P, NOW)).toBe(NOW + NO_RESET_SHIFT_MS);
    expect(nearLimitUntil({ 'x-ratelimit-limit-requests': '50', 'x-ratelimit-remaining-requests': 'lots' }, P, NOW)).toBe(0);
  });

  it('reads remaining requests less the tries in flight (not yet counted in any answer); tokens as they are', () => {
    const h = { 'x-ratelimit-limit-requests': '40', 'x-ratelimit-remaining-requests': '8', 'x-ratelimit-reset-requests': '1s' };
    expect(nearLimitUntil(h, P, NOW, 5)).toBe(0);
    expect(nearLimitUntil(h, P, NOW, 6)).toBe(NOW + 1000);
    const t = { 'anthropic-ratelimit-tokens-limit': '1000', 'anthropic-ratelimit-tokens-remaining': '100', 'anthropic-ratelimit-tokens-reset': '2026-12-01T16:00:01Z' };
    expect(nearLimitUntil(t, P, NOW, 50)).toBe(0);
    expect(nearLimitUntil({ ...t, 'anthropic-ratelimit-requests-limit': '50', 'anthropic-ratelimit-requests-remaining': '10', 'anthropic-ratelimit-requests-reset': '2026-12-01T16:00:02Z' }, P, NOW, 8)).toBe(NOW + 2000);
  });

  it('minRemainingShare 0: only when nothing remains', () => {
    const h = { 'x-ratelimit-limit-requests': '500', 'x-ratelimit-remaining-requests': '1', 'x-ratelimit-reset-requests': '1s' };
    expect(nearLimitUntil(h, { minRemainingShare: 0 }, NOW)).toBe(0);
    expect(nearLimitUntil({ ...h, 'x-ratelimit-remaining-requests': '0' }, { minRemainingShare: 0 }, NOW)).toBe(NOW + 1000);
  });
});
