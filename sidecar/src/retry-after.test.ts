import { retryAfterMs } from './retry-after.ts';

describe('retryAfterMs', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads seconds', () => expect(retryAfterMs({ 'retry-after': '3' }, now)).toBe(3000));
  it('reads fractional seconds', () => expect(retryAfterMs({ 'retry-after': '0.25' }, now)).toBe(250));
  it('reads an HTTP-date', () => expect(retryAfterMs({ 'retry-after': 'Thu, 01 Jan 2026 00:00:07 GMT' }, now)).toBe(7000));
  it('treats a date in the past as no wait', () => expect(retryAfterMs({ 'retry-after': 'Wed, 31 Dec 2025 23:00:00 GMT' }, now)).toBe(0));
  it("prefers OpenAI's retry-after-ms", () => expect(retryAfterMs({ 'retry-after-ms': '120', 'retry-after': '5' }, now)).toBe(120));
  it('ignores garbage and absence', () => {
    expect(retryAfterMs({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(retryAfterMs({}, now)).toBeUndefined();
  });
});
