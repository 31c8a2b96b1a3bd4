import { afterEach, describe, expect, it } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createAdminServer, type AdminDeps } from './admin-server.ts';
import { Metrics } from './metrics.ts';

let server: Server | undefined;

afterEach(async () => {
  if (server) await new Promise((r) => server!.close(r));
  server = undefined;
});

async function start(over: Partial<AdminDeps> = {}): Promise<string> {
  const metrics = new Metrics(false);
  metrics.request('chat', 'primary', 200);
  server = createAdminServer({ metrics, isReady: () => true, isDraining: () => false, ...over });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the admin server', () => {
  it('/healthz answers ok', async () => {
    const base = await start();
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz says why it is not ready: no config, then draining', async () => {
    let ready = false;
    let draining = false;
    const base = await start({ isReady: () => ready, isDraining: () => draining });
    let res = await fetch(`${base}/readyz`);
    expect([res.status, await res.json()]).toEqual([503, { status: 'no config loaded' }]);
    ready = true;
    res = await fetch(`${base}/readyz`);
    expect([res.status, await res.json()]).toEqual([200, { status: 'ready' }]);
    draining = true;
    res = await fetch(`${base}/readyz/`);
    expect([res.status, await res.json()]).toEqual([503, { status: 'draining' }]);
  });

  it('/metrics serves the Prometheus text format, with the tallies flushed', async () => {
    const base = await start();
    const res = await fetch(`${base}/metrics?x=1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await res.text()).toContain('llmroute_requests_total{route="chat",target="primary",status="200",api="chat"} 1');
  });

  it('a failing registry is a 500 with a plain message, not a crash', async () => {
    const metrics = new Metrics(false);
    metrics.registry.metrics = () => Promise.reject(new Error('collector threw sk-secret'));
    const base = await start({ metrics });
    const res = await fetch(`${base}/metrics`);
    expect([res.status, await res.text()]).toEqual([500, 'metrics unavailable\n']);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('HEAD answers like GET, without a body', async () => {
    const base = await start();
    const res = await fetch(`${base}/healthz`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('content-length'))).toBe(JSON.stringify({ status: 'ok' }).length);
    expect(await res.text()).toBe('');
  });

  it('other methods on a known path: 405 with Allow', async () => {
    const base = await start();
    const res = await fetch(`${base}/metrics`, { method: 'POST', body: '{"a":1}' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed');
  });

  it('unknown paths: a JSON 404 naming the endpoints, the path cut short', async () => {
    const base = await start();
    let res = await fetch(`${base}/config`);
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { message: string; code: string } };
    expect(body.error).toMatchObject({ code: 'not_found', message: 'no admin endpoint GET /config; try GET /healthz, /readyz or /metrics' });
    res = await fetch(`${base}/${'a'.repeat(5000)}`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message.length).toBeLessThan(300);
    expect((await fetch(`${base}/HEALTHZ`)).status).toBe(404);
  });
});
