// The operator-at-scale bench (bench/operator-scale.ts) at a hundredth of its
// size, as a correctness check only: its own etcd + kube-apiserver, 10
// namespaces, 50 LLMRoutes, 20 labelled and 200 unrelated Secrets, two
// replicas and a churn of 20 updates with a leader handover halfway. It
// asserts what must hold at any size (every route Ready at its last
// generation, every change rendered, none lost, one LIST per cache and
// no relists), never a time: the bench reports those.

import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnNodeScript } from '../../operator/src/testing/processes.ts';

describe('bench:operator at --scale 0.01', () => {
  const dir = mkdtempSync(join(tmpdir(), 'llmroute-scale-tiny-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ends with every route Ready and rendered, every update through, and a bounded number of LISTs', async () => {
    const out = join(dir, 'operator-scale.json');
    const t0 = performance.now();
    const bench = spawnNodeScript('bench/operator-scale.ts', ['--scale', '0.01', '--ts', '--churn', '20', '--rest-seconds', '1', '--out', out]);
    const code = await bench.exited;
    const seconds = Math.round((performance.now() - t0) / 100) / 10;
    const r = JSON.parse(readFileSync(out, 'utf8'));
    // exit 3: a check of the end state failed; 1: the bench could not run.
    expect({ code, stderr: code === 0 ? '' : bench.stderr().slice(-3000) }).toEqual({ code: 0, stderr: '' });
    expect(r.endState).toMatchObject({ routesChecked: 50, configMapsChecked: 10, problemCount: 0 });
    expect(r.churn).toMatchObject({ updates: 20, lost: 0 });
    expect(r.churn.handoverMs).not.toBeNull();
    // One paged LIST per cache (routes, two of Secrets, rendered ConfigMaps) and one of the Lease; no relist storm on either replica.
    expect(r.replicaA.listCallsByResource).toEqual({ llmroutes: 1, secrets: 2, configmaps: 1, leases: 1 });
    expect(r.replicaA.listCalls).toBeLessThanOrEqual(5);
    expect(r.replicaB.listCalls).toBeLessThanOrEqual(10);
    expect(r.replicaB.watchErrors).toBe(0);
    // eslint-disable-next-line no-console
    console.log(`bench:operator --scale 0.01: ${seconds} s in all; Ready after ${r.replicaA.readyS} s, churn p50/p99 ${r.churn.p50Ms}/${r.churn.p99Ms} ms, handover ${r.churn.handoverMs} ms`);
  }, 180_000);
});
