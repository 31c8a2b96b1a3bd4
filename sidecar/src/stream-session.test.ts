import { describe, expect, it } from '@jest/globals';
import type { Dispatcher } from 'undici';
import type { SseEvent, StreamDecoder, StreamStep } from './providers/types.ts';
import { StreamSession } from './stream-session.ts';

const decoder: StreamDecoder = {
  push: (e: SseEvent): StreamStep => (e.data === '[DONE]' ? { out: [], content: false, finished: true } : { out: [e.data], content: true, finished: false }),
};

function fakeController() {
  const c = {
    paused: false,
    aborted: false,
    reason: null as Error | null,
    pauses: 0,
    resumes: 0,
    abortedWith: undefined as Error | undefined,
    pause() {
      c.paused = true;
      c.pauses++;
    },
    resume() {
      c.paused = false;
      c.resumes++;
    },
    abort(err: Error) {
      c.aborted = true;
      c.abortedWith = err;
    },
  };
  return c;
}

const event = (data: string): Buffer => Buffer.from(`data: ${data}\n\n`);
const outs = (steps: StreamStep[] | null): string[] | null => (steps === null ? null : steps.flatMap((s) => s.out));

function started() {
  const s = new StreamSession(decoder);
  const c = fakeController();
  s.attach(c as unknown as Dispatcher.DispatchController);
  return { s, c };
}

describe('StreamSession', () => {
  it('a waiting reader gets the next events as they arrive, then null at the end', async () => {
    const { s } = started();
    const first = s.next();
    s.data(event('a'));
    expect(outs(await first)).toEqual(['a']);
    s.data(Buffer.from('data: b\n\nda'));
    s.data(Buffer.from('ta: c\n\n'));
    s.end();
    expect(outs(await s.next())).toEqual(['b']);
    expect(outs(await s.next())).toEqual(['c']);
    expect(await s.next()).toBeNull();
    expect(await s.next()).toBeNull();
  });

  it('nudge wakes a waiting reader with no steps and loses nothing: what comes next goes to the next read', async () => {
    const { s } = started();
    const waiting = s.next();
    s.nudge();
    expect(await waiting).toEqual([]);
    s.nudge(); // nobody waiting: nothing happens
    s.data(event('a'));
    expect(outs(await s.next())).toEqual(['a']);
  });

  it('bytes that complete no event wake nobody', async () => {
    const { s } = started();
    let woke = false;
    const p = s.next().then((v) => ((woke = true), v));
    s.data(Buffer.from('data: par'));
    await new Promise((r) => setImmediate(r));
    expect(woke).toBe(false);
    s.data(Buffer.from('tial\n\n'));
    expect(outs(await p)).toEqual(['partial']);
  });

  it('what arrived before a failure is read first, then the failure', async () => {
    const { s } = started();
    s.data(event('a'));
    const err = Object.assign(new Error('socket hang up'), { code: 'UND_ERR_SOCKET' });
    s.fail(err);
    expect(outs(await s.next())).toEqual(['a']);
    await expect(s.next()).rejects.toBe(err);
  });

  it('a failure wakes a waiting reader', async () => {
    const { s } = started();
    const p = s.next();
    s.fail(new Error('reset'));
    await expect(p).rejects.toThrow('reset');
  });

  it('pauses the upstream past 64 KB unread, resumes below 16 KB', async () => {
    const { s, c } = started();
    const big = event('x'.repeat(20 * 1024));
    for (let i = 0; i < 3; i++) s.data(big);
    expect(c.paused).toBe(false);
    s.data(big);
    expect(c.paused).toBe(true);
    await s.next();
    await s.next();
    await s.next();
    expect(c.paused).toBe(true); // 20 KB left
    await s.next();
    expect(c.paused).toBe(false);
    expect([c.pauses, c.resumes]).toEqual([1, 1]);
  });

  it('an event over the size limit fails the stream and aborts the upstream', async () => {
    const s = new StreamSession(decoder);
    (s as unknown as { parser: { maxEventBytes: number } }).parser.maxEventBytes = 1024;
    const c = fakeController();
    s.attach(c as unknown as Dispatcher.DispatchController);
    s.data(Buffer.from(`data: ${'y'.repeat(2048)}`));
    await expect(s.next()).rejects.toThrow(/larger than 1024 bytes/);
    expect(c.aborted).toBe(true);
  });

  it('destroying an unfinished stream aborts the upstream, and wakes a waiting reader with null', async () => {
    const { s, c } = started();
    const p = s.next();
    s.destroy();
    expect(await p).toBeNull();
    expect(c.aborted).toBe(true);
  });

  it('destroying a finished stream keeps the connection: the last bytes are dropped, up to 64 KB', () => {
    const { s, c } = started();
    s.data(event('[DONE]'));
    s.destroy();
    expect(c.aborted).toBe(false);
    s.data(Buffer.alloc(1000));
    expect(c.aborted).toBe(false);
    s.data(Buffer.alloc(64 * 1024));
    expect(c.aborted).toBe(true);
  });

  it('destroying a paused finished stream resumes it, so that the rest can drain', () => {
    const { s, c } = started();
    for (let i = 0; i < 4; i++) s.data(event('x'.repeat(20 * 1024)));
    s.data(event('[DONE]'));
    expect(c.paused).toBe(true);
    s.destroy();
    expect([c.paused, c.aborted]).toEqual([false, false]);
  });

  it('nothing to release when the body already ended or failed; a body that starts after destroy is aborted', () => {
    const done = started();
    done.s.end();
    done.s.destroy();
    expect(done.c.aborted).toBe(false);
    const late = new StreamSession(decoder);
    late.destroy();
    const c = fakeController();
    late.attach(c as unknown as Dispatcher.DispatchController);
    expect(c.aborted).toBe(true);
  });
});
