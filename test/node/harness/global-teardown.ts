// Jest globalTeardown of the node project: tears the node down (teardown.ts),
// whatever the tests did. A jest killed before this runs is covered by the
// watchdog node-cluster.ts starts, and a watchdog killed too by the next run.
import { rmSync } from 'node:fs';
import { NODE_GLOBAL_KEY, type NodeGlobal } from './global-setup.ts';

export default async function globalTeardown(): Promise<void> {
  const g = (globalThis as Record<string, unknown>)[NODE_GLOBAL_KEY] as NodeGlobal | undefined;
  g?.node?.stop();
  if (g?.infoDir) rmSync(g.infoDir, { recursive: true, force: true });
  if (g) delete g.node;
  delete process.env.LLMROUTE_NODE_INFO;
}
