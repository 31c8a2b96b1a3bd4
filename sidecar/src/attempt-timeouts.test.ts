import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { formatMs, StreamTimer, streamTimerFired, tryTimeouts, type TimeoutCause } from './attempt-timeouts.ts';
import type { Timeouts } from './config/runtime-config.ts';
import { routeWith } from './testing/route.ts';

/** The defaults of the schema, read through the config loader. */
const DEFAULTS: Timeouts = routeWith(['{name: a, provider: openai, model: m}']).timeouts;
const SMALL: Timeouts = { connectMs: 500, firstByteMs: 300, firstContentMs: 3000, idleMs: 30_000, totalMs: 10_000 };
const MIN = 60_000;

describe('the defaults cut no healthy generation (issue 10)', () => {
  it('are firstByte 15s, firstContent 10m, idle 30s, total 10m', () => {
    expect(DEFAULTS).toEqual({ connectMs: 2000, firstByteMs: 15_000, firstContentMs: 10 * MIN, idleMs: 30_000, totalMs: 10 * MIN });
  });

  it('a non-stream answer may take up to firstContent (10m): a 5-minute generation fits', () => {
    const t = tryTimeouts(DEFAULTS, false, DEFAULTS.totalMs);
    expect(t).toEqual({ headersMs: 10 * MIN, bodyMs: 30_000, stream: undefined });
    expect(t.headersMs).toBeGreaterThan(5 * MIN);
  });

  it('a stream: headers within firstByte (15s), then one timer that checks for a first byte at 15s', () => {
    expect(tryTimeouts(DEFAULTS, true, DEFAULTS.totalMs)).toEqual({ headersMs: 15_000, bodyMs: 10 * MIN, stream: { ms: 15_000, cause: 'first-byte' } });
  });

  it('a stream that sends its role chunk and then thinks silently for 90s is not cut by idle (30s): before the commit point gaps are bounded by firstContent', () => {
    const t = tryTimeouts(DEFAULTS, true, DEFAULTS.totalMs);
    expect(t.bodyMs).toBeGreaterThan(90_000);
    expect(t.bodyMs).toBe(DEFAULTS.firstContentMs);
  });

  it('a stream that has sent bytes by then (a role chunk, pings) gets the rest of firstContent: content at 90s fits', () => {
    const next = streamTimerFired(DEFAULTS, DEFAULTS.totalMs, 'first-byte', 15_000, true);
    expect(next).toEqual({ ms: 10 * MIN - 15_000, cause: 'first-content' });
  });

  it('a stream that has sent nothing by firstByte is left (the provider accepted the connection and said nothing)', () => {
    expect(streamTimerFired(DEFAULTS, DEFAULTS.totalMs, 'first-byte', 15_000, false)).toBe('first-byte');
  });
});

describe('tryTimeouts and streamTimerFired', () => {
  it.each<[string, Timeouts, boolean, number, ReturnType<typeof tryTimeouts>]>([
    ['non-stream: firstContent bounds the whole answer, idle the gaps in its body', SMALL, false, 10_000, { headersMs: 3000, bodyMs: 30_000, stream: undefined }],
    ['non-stream: cut to the time left of the total deadline', SMALL, false, 1200, { headersMs: 1200, bodyMs: 30_000, stream: undefined }],
    ['stream: firstByte for the headers and the first byte', SMALL, true, 10_000, { headersMs: 300, bodyMs: 30_000, stream: { ms: 300, cause: 'first-byte' } }],
    ['stream: both cut to the time left', SMALL, true, 200, { headersMs: 200, bodyMs: 30_000, stream: { ms: 200, cause: 'first-content' } }],
    ['stream: a firstContent no longer than firstByte is the one check', { ...SMALL, firstContentMs: 300 }, true, 10_000, { headersMs: 300, bodyMs: 30_000, stream: { ms: 300, cause: 'first-content' } }],
    ['stream: a firstContent shorter than firstByte comes first', { ...SMALL, firstContentMs: 100 }, true, 10_000, { headersMs: 300, bodyMs: 30_000, stream: { ms: 100, cause: 'first-content' } }],
  ])('%s', (_what, t, stream, remaining, expected) => {
    expect(tryTimeouts(t, stream, remaining)).toEqual(expected);
  });

  it.each<[string, TimeoutCause, number, boolean, number, ReturnType<typeof streamTimerFired>]>([
    ['first-byte check, bytes came: wait the rest of firstContent', 'first-byte', 300, true, 10_000, { ms: 2700, cause: 'first-content' }],
    ['first-byte check, nothing came: the firstByte timeout', 'first-byte', 300, false, 10_000, 'first-byte'],
    ['first-byte check fired late, past firstContent: the firstContent timeout', 'first-byte', 3000, true, 10_000, 'first-content'],
    ['first-byte check with less time left than firstContent: wait what is left', 'first-byte', 300, true, 1000, { ms: 700, cause: 'first-content' }],
    ['first-content check: the firstContent timeout, bytes or not', 'first-content', 3000, true, 10_000, 'first-content'],
  ])('%s', (_what, check, elapsed, sawBytes, remaining, expected) => {
    expect(streamTimerFired(SMALL, remaining, check, elapsed, sawBytes)).toEqual(expected);
  });

  it.each([
    [300, '300ms'],
    [1500, '1.5s'],
    [15_000, '15s'],
    [90_000, '90s'],
    [600_000, '10m'],
    [7_200_000, '2h'],
  ])('formatMs(%i) = %s', (ms, text) => expect(formatMs(ms)).toBe(text));
});

describe('StreamTimer (fake timers: minutes pass in no time)', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  function start(t: Timeouts, body: { sawBytes: boolean }): TimeoutCause[] {
    const fired: TimeoutCause[] = [];
    const first = tryTimeouts(t, true, t.totalMs).stream!;
    timer = new StreamTimer(t, t.totalMs, first, body, (cause) => fired.push(cause), () => Date.now());
    return fired;
  }
  let timer: StreamTimer;

  it('defaults, a reasoning model pinging every 10s whose first content comes at 90s: no timeout', () => {
    const body = { sawBytes: false };
    const fired = start(DEFAULTS, body);
    jest.advanceTimersByTime(10_000);
    body.sawBytes = true; // the first ping
    jest.advanceTimersByTime(80_000);
    expect(fired).toEqual([]);
    timer.cancel(); // the commit point
    jest.advanceTimersByTime(60 * MIN);
    expect(fired).toEqual([]);
  });

  it('defaults, a provider that accepts the connection and sends nothing: firstByte at 15s', () => {
    const fired = start(DEFAULTS, { sawBytes: false });
    jest.advanceTimersByTime(14_999);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(fired).toEqual(['first-byte']);
  });

  it('defaults, bytes but never any content: firstContent at 10m', () => {
    const fired = start(DEFAULTS, { sawBytes: true });
    jest.advanceTimersByTime(10 * MIN - 1);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(fired).toEqual(['first-content']);
    jest.advanceTimersByTime(60 * MIN);
    expect(fired).toEqual(['first-content']);
  });

  it('one timer at a time: set once, and once more only for a stream still without content at firstByte', () => {
    const fired = start(SMALL, { sawBytes: true });
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(300);
    expect(jest.getTimerCount()).toBe(1);
    timer.cancel();
    expect(jest.getTimerCount()).toBe(0);
    expect(fired).toEqual([]);
  });
});
