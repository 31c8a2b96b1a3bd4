import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { StreamStep } from './providers/types.ts';
import { relayStream } from './stream-relay.ts';
import type { StreamSession } from './stream-session.ts';

/** A response whose socket buffer is "full" until drain() is called. */
class SlowResponse extends EventEmitter {
  writes: string[] = [];
  ended = '';
  writableEnded = false;
  destroyed = false;
  full = true;
  write(s: string): boolean {
    this.writes.push(s);
    return !this.full;
  }
  end(s = ''): void {
    this.ended = s;
    this.writableEnded = true;
  }
  drain(): void {
    this.full = false;
    this.emit('drain');
  }
}

function session(steps: Array<StreamStep[] | null | Error>) {
  let pulls = 0;
  const s = {
    next: async () => {
      const v = steps[pulls++];
      if (v instanceof Error) throw v;
      return v ?? null;
    },
    destroy: () => undefined,
    get pulls() {
      return pulls;
    },
  };
  return s;
}

const step = (out: string[], extra: Partial<StreamStep> = {}): StreamStep => ({ out, content: true, finished: false, ...extra });

describe('relayStream', () => {
  it('does not read more from upstream while the client is not taking what it has (backpressure)', async () => {
    const res = new SlowResponse();
    const up = session([[step(['"b"'])], [step(['"c"'])], [step([], { finished: true })]]);
    const done = relayStream(res as unknown as ServerResponse, up as unknown as StreamSession, ['"a"'], false, undefined, new AbortController().signal);
    await new Promise((r) => setTimeout(r, 30));
    expect(up.pulls).toBe(0);
    expect(res.writes).toEqual(['data: "a"\n\n']);
    res.drain();
    await done;
    expect(up.pulls).toBe(3);
    expect(res.ended).toBe('data: [DONE]\n\n');
  });

  it('ends a stream that breaks after the commit point with an error event and no [DONE]', async () => {
    const res = new SlowResponse();
    res.full = false;
    const up = session([[step(['"b"'])], Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })]);
    const r = await relayStream(res as unknown as ServerResponse, up as unknown as StreamSession, ['"a"'], false, undefined, new AbortController().signal);
    expect(r.failure?.errorClass).toBe('connection-error');
    expect(res.ended).toMatch(/^data: \{"error":\{"message":"the stream broke \(UND_ERR_SOCKET\) after the stream started"/);
    expect(res.ended).not.toContain('[DONE]');
  });

  it('treats an upstream that just stops (no finish) as an error, not a clean end', async () => {
    const res = new SlowResponse();
    res.full = false;
    const r = await relayStream(res as unknown as ServerResponse, session([null]) as unknown as StreamSession, ['"a"'], false, undefined, new AbortController().signal);
    expect(r.failure?.errorClass).toBe('connection-error');
    expect(res.ended).toContain('"error"');
    expect(res.ended).not.toContain('[DONE]');
  });

  it("passes a provider's in-stream error on as the last event", async () => {
    const res = new SlowResponse();
    res.full = false;
    const error = { errorClass: 'server-error' as const, status: 529, message: 'Overloaded', type: 'overloaded_error', code: 'overloaded', param: null };
    const r = await relayStream(res as unknown as ServerResponse, session([[step(['"b"']), step([], { error })]]) as unknown as StreamSession, ['"a"'], false, undefined, new AbortController().signal);
    expect(r.failure?.errorClass).toBe('server-error');
    expect(JSON.parse(res.ended.slice('data: '.length))).toEqual({ error: { message: 'Overloaded', type: 'overloaded_error', code: 'overloaded', param: null } });
  });

  it('a client that leaves while the relay waits on a slow upstream: the session closes at once and the relay returns', async () => {
    const res = new SlowResponse();
    res.full = false;
    let wake: ((v: null) => void) | undefined;
    let destroyed = 0;
    const up = {
      next: () => new Promise<null>((resolve) => (wake = resolve)),
      destroy: () => {
        destroyed++;
        wake?.(null);
      },
    };
    const client = new AbortController();
    const done = relayStream(res as unknown as ServerResponse, up as unknown as StreamSession, ['"a"'], false, undefined, client.signal);
    await new Promise((r) => setTimeout(r, 10));
    res.destroyed = true;
    client.abort('client-closed');
    const r = await done;
    expect(r).toEqual({ usage: undefined, clientGone: true });
    expect(destroyed).toBeGreaterThan(0);
    expect(res.ended).toBe('');
  });

  it('a client gone while its socket buffer was full: the relay does not wait for a drain that cannot come', async () => {
    const res = new SlowResponse();
    const client = new AbortController();
    res.destroyed = true;
    client.abort('client-closed');
    const up = session([[step(['"b"'])]]);
    const r = await relayStream(res as unknown as ServerResponse, up as unknown as StreamSession, ['"a"'], false, undefined, client.signal);
    expect(r.clientGone).toBe(true);
    expect(up.pulls).toBe(0);
  });

  it('the total deadline while the relay waits on the upstream: the error event, no [DONE]', async () => {
    const res = new SlowResponse();
    res.full = false;
    let wake: ((v: null) => void) | undefined;
    const up = { next: () => new Promise<null>((resolve) => (wake = resolve)), destroy: () => wake?.(null) };
    const request = new AbortController();
    const done = relayStream(res as unknown as ServerResponse, up as unknown as StreamSession, ['"a"'], false, undefined, request.signal);
    await new Promise((r) => setTimeout(r, 10));
    request.abort('deadline');
    const r = await done;
    expect(r.failure?.errorClass).toBe('timeout');
    expect(res.ended).toContain('the total deadline ran out');
    expect(res.ended).not.toContain('[DONE]');
  });

  it('writes everything at once when the stream finished before the commit', async () => {
    const res = new SlowResponse();
    await relayStream(res as unknown as ServerResponse, session([]) as unknown as StreamSession, ['"a"', '"b"'], true, undefined, new AbortController().signal);
    expect(res.ended).toBe('data: "a"\n\ndata: "b"\n\ndata: [DONE]\n\n');
  });
});
