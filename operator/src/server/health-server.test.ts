import { startHealthServer } from './health-server.ts';
import { OperatorMetrics } from './metrics.ts';

describe('health server', () => {
  it('serves /healthz, /readyz (as ready says) and /metrics', async () => {
    const metrics = new OperatorMetrics();
    let ready = false;
    const s = await startHealthServer({ port: 0, host: '127.0.0.1', metrics, ready: () => ready });
    try {
      const base = `http://127.0.0.1:${s.port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      ready = true;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      metrics.reconciles.inc({ result: 'success' });
      metrics.leader.set(1);
      const text = await (await fetch(`${base}/metrics`)).text();
      expect(text).toMatch(/^llmroute_operator_reconcile_total\{result="success"\} 1$/m);
      expect(text).toMatch(/^llmroute_operator_leader 1$/m);
      expect((await fetch(`${base}/nope`)).status).toBe(404);
      expect((await fetch(`${base}/healthz`, { method: 'POST' })).status).toBe(405);
      expect(await metrics.value('llmroute_operator_reconcile_total', { result: 'success' })).toBe(1);
    } finally {
      await s.close();
    }
  });
});
