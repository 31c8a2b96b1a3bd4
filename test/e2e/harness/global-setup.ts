// Jest globalSetup of the e2e project: one control plane for the whole run.
//
// By default it starts a local etcd + kube-apiserver (control-plane.ts).
// With KUBECONFIG set AND LLMROUTE_E2E_USE_KUBECONFIG=1 it uses that
// kubeconfig's current cluster instead; the unprivileged test user is then
// impersonated (`as:` in the user kubeconfig), so the admin must be allowed to
// impersonate users.
//
// Tests find the cluster through:
//   process.env.LLMROUTE_E2E_STATE  path of a JSON file (ControlPlaneInfo)
//   process.env.KUBECONFIG          the admin kubeconfig
// (globalSetup runs in jest's parent process before the workers are forked,
// so both reach every test file.) harness/kube.ts reads them.
//
// Every crds/*.yaml is server-side applied (field manager llmroute-e2e) and
// awaited until Established.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import {
  connectExistingCluster,
  controlPlaneInfo,
  startControlPlane,
  type ControlPlane,
} from './control-plane.ts';
import { installCrds } from './kube.ts';

/** Shared with global-teardown.ts (same process; module instances may differ). */
export interface E2EGlobal {
  controlPlane?: ControlPlane;
  stateFile?: string;
  previousKubeconfig?: string | undefined;
}
export const E2E_GLOBAL_KEY = '__llmrouteE2E';

export default async function globalSetup(_globalConfig: unknown, projectConfig?: { rootDir?: string }): Promise<void> {
  const repoRoot = projectConfig?.rootDir ?? process.cwd();
  const g = ((globalThis as Record<string, unknown>)[E2E_GLOBAL_KEY] ??= {}) as E2EGlobal;
  const useKubeconfig = process.env.LLMROUTE_E2E_USE_KUBECONFIG === '1' && !!process.env.KUBECONFIG;

  const t0 = performance.now();
  let cp: ControlPlane;
  if (useKubeconfig) {
    // KUBECONFIG may be a list; the first file is used.
    const file = process.env.KUBECONFIG!.split(path.delimiter)[0]!;
    process.stderr.write(`[llmroute-e2e] using the existing cluster of ${file} (LLMROUTE_E2E_USE_KUBECONFIG=1)\n`);
    cp = await connectExistingCluster(file);
  } else {
    cp = await startControlPlane({ repoRoot });
  }
  g.controlPlane = cp;
  g.previousKubeconfig = process.env.KUBECONFIG;

  const stateFile = path.join(cp.rootDir, 'state.json');
  // It holds the tokens: owner-only.
  writeFileSync(stateFile, JSON.stringify(controlPlaneInfo(cp), null, 2), { mode: 0o600 });
  g.stateFile = stateFile;
  process.env.LLMROUTE_E2E_STATE = stateFile;
  process.env.KUBECONFIG = cp.kubeconfigPath;

  try {
    const kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfigPath);
    const tCrd = performance.now();
    const crds = await installCrds(kc, path.join(repoRoot, 'crds'));
    process.stderr.write(
      `[llmroute-e2e] ${crds.length ? `CRDs established: ${crds.join(', ')}` : 'no CRDs in crds/'} ` +
        `(${Math.round(performance.now() - tCrd)} ms); e2e setup took ${Math.round(performance.now() - t0)} ms\n`,
    );
  } catch (err) {
    // Jest skips the teardown when the setup throws: stop here.
    await cp.stop().catch(() => {});
    throw err;
  }
}
