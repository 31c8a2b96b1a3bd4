import { CircuitBreaker, stateAfter, type CircuitState } from './breaker.ts';

describe('CircuitBreaker', () => {
  const policy = { consecutiveFailures: 3, openForMs: 1000 };

  it('opens after consecutiveFailures failures in a row, not before', () => {
    const b = new CircuitBreaker(policy);
    b.failure(0);
    b.failure(0);
    expect(b.state).toBe('closed');
    b.failure(0);
    expect(b.state).toBe('open');
    expect(b.canPass(999)).toBe(false);
    expect(b.acquire(999)).toBe(false);
  });

  it('a success resets the count of failures in a row', () => {
    const b = new CircuitBreaker(policy);
    b.failure(0);
    b.failure(0);
    b.success();
    b.failure(0);
    b.failure(0);
    expect(b.state).toBe('closed');
  });

  it('lets exactly one probe through after openFor (half-open), and skips everyone else meanwhile', () => {
    const b = new CircuitBreaker(policy);
    b.trip(0);
    expect(b.acquire(1000)).toBe(true);
    expect(b.state).toBe('half-open');
    expect(b.acquire(1001)).toBe(false);
    expect(b.acquire(1500)).toBe(false);
  });

  it('closes when the probe succeeds', () => {
    const b = new CircuitBreaker(policy);
    b.trip(0);
    b.acquire(1000);
    b.success();
    expect(b.state).toBe('closed');
    expect(b.acquire(1001)).toBe(true);
  });

  it('reopens for another openFor when the probe fails, even below consecutiveFailures', () => {
    const b = new CircuitBreaker(policy);
    b.trip(0);
    b.acquire(1000);
    b.failure(1200);
    expect(b.state).toBe('open');
    expect(b.acquire(2199)).toBe(false);
    expect(b.acquire(2200)).toBe(true);
  });

  it('frees the probe slot when a probe never reports back', () => {
    const b = new CircuitBreaker(policy);
    b.trip(0);
    expect(b.acquire(1000)).toBe(true);
    expect(b.acquire(1999)).toBe(false);
    expect(b.acquire(2000)).toBe(true);
  });

  it('reports each state change once, and the wait until it can pass', () => {
    const seen: CircuitState[] = [];
    const b = new CircuitBreaker(policy);
    b.onChange = (s) => seen.push(s);
    b.trip(0);
    b.trip(10);
    expect(b.waitMs(400)).toBe(610);
    b.acquire(1010);
    b.success();
    expect(seen).toEqual(['open', 'half-open', 'closed']);
    expect(b.waitMs(2000)).toBe(0);
  });
});

describe('stateAfter: the breaker read ahead', () => {
  const policy = { consecutiveFailures: 3, openForMs: 1000 };
  /** A breaker in `state` with `failures` failures so far. */
  function breaker(state: CircuitState, failures: number): CircuitBreaker {
    const b = new CircuitBreaker(policy);
    if (state !== 'closed') b.trip(0);
    if (state === 'half-open') b.acquire(1000);
    b.failures = failures;
    return b;
  }
  it.each([
    ['closed', 0],
    ['closed', 2],
    ['half-open', 0],
    ['open', 1],
    ['open', 5],
  ] as const)('says what the breaker does, from %s with %i failures', (state, failures) => {
    for (const event of ['success', 'failure', 'trip', undefined] as const) {
      const b = breaker(state, failures);
      expect(b.state).toBe(state);
      const predicted = stateAfter(b, event);
      if (event === 'success') b.success();
      else if (event === 'failure') b.failure(2000);
      else if (event === 'trip') b.trip(2000);
      expect([event, predicted]).toEqual([event, b.state]);
    }
  });
});
