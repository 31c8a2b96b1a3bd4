// Jest globalTeardown of the e2e project: stops what global-setup.ts started.

import { readFileSync, rmSync } from 'node:fs';
import { E2E_GLOBAL_KEY, type E2EGlobal } from './global-setup.ts';
import { killFromPidFile, type ControlPlaneInfo } from './control-plane.ts';

export default async function globalTeardown(): Promise<void> {
  const g = (globalThis as Record<string, unknown>)[E2E_GLOBAL_KEY] as E2EGlobal | undefined;
  if (g?.controlPlane) {
    const t0 = performance.now();
    await g.controlPlane.stop();
    if (g.controlPlane.mode === 'local') {
      process.stderr.write(`[llmroute-e2e] control plane stopped in ${Math.round(performance.now() - t0)} ms\n`);
    }
  } else {
    // The handle is lost (should not happen: setup and teardown share the
    // process); fall back to the state file and the pid file.
    const stateFile = process.env.LLMROUTE_E2E_STATE;
    if (stateFile) {
      try {
        const info = JSON.parse(readFileSync(stateFile, 'utf8')) as ControlPlaneInfo;
        if (info.pidFile) killFromPidFile(info.pidFile);
        rmSync(info.rootDir, { recursive: true, force: true });
      } catch {
        // nothing left to clean
      }
    }
  }
  if (g) {
    if (g.previousKubeconfig === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = g.previousKubeconfig;
    delete g.controlPlane;
  }
  delete process.env.LLMROUTE_E2E_STATE;
}
