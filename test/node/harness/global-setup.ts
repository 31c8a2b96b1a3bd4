// Jest globalSetup of the node project: one real single node for the run
// (node-cluster.ts), or, with LLMROUTE_E2E_USE_KUBECONFIG=1 and KUBECONFIG,
// the cluster that kubeconfig points at (kind, k3d): the same scenarios run
// there (see README.md beside this file for what that cluster needs).
//
// Tests find it through process.env.LLMROUTE_NODE_INFO (a JSON file,
// NodeInfo); cluster.ts reads it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startNode, type LocalNode, type NodeInfo } from './node-cluster.ts';

export const NODE_GLOBAL_KEY = '__llmrouteNode';
export interface NodeGlobal {
  node?: LocalNode;
  infoDir?: string;
}

export default async function globalSetup(_globalConfig: unknown, projectConfig?: { rootDir?: string }): Promise<void> {
  const repoRoot = projectConfig?.rootDir ?? process.cwd();
  const g = ((globalThis as Record<string, unknown>)[NODE_GLOBAL_KEY] ??= {}) as NodeGlobal;
  let info: NodeInfo;
  if (process.env.LLMROUTE_E2E_USE_KUBECONFIG === '1' && process.env.KUBECONFIG) {
    const kubeconfigPath = path.resolve(process.env.KUBECONFIG.split(path.delimiter)[0]!);
    const providerHost = process.env.LLMROUTE_NODE_PROVIDER_HOST;
    if (!providerHost) throw new Error('LLMROUTE_E2E_USE_KUBECONFIG=1: set LLMROUTE_NODE_PROVIDER_HOST to an address of this machine the cluster\'s pods reach (kind: the docker bridge gateway, e.g. 172.18.0.1)');
    const rootDir = mkdtempSync(path.join(os.tmpdir(), 'llmroute-node-kc-'));
    g.infoDir = rootDir;
    info = { mode: 'kubeconfig', rootDir, kubeconfigPath, providerHost, logDir: rootDir, timings: {} };
    process.stderr.write(`[llmroute-node] using the cluster of ${kubeconfigPath}; pods reach the fake providers at ${providerHost}\n`);
  } else {
    g.node = await startNode({ repoRoot });
    const { stop: _stop, ...plain } = g.node;
    info = plain;
  }
  const file = path.join(info.rootDir, 'info.json');
  writeFileSync(file, JSON.stringify(info, null, 2));
  process.env.LLMROUTE_NODE_INFO = file;
}
