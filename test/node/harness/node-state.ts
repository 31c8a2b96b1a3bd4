// What a real-node run leaves on the machine while it is up, written to
// <rootDir>/node-state.json as each piece is made, so that teardown (in the
// jest process, in the watchdog after jest died, or in the next run's reaper)
// can undo exactly that and nothing else.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface NodeState {
  /** The jest process that owns the node. */
  ownerPid: number;
  /** The temp folder: containerd's root and state, the kubelet's root, etcd's data, logs, certs. */
  rootDir: string;
  /** The network namespace (`ip netns` name) everything runs in. */
  netns?: string;
  /** `ip netns list` before containerd started: the pod namespaces (cni-*) it makes are the new ones. */
  netnsBefore?: string[];
  /** The processes started, in start order (stopped in reverse). */
  processes: Array<{ pid: number; bin: string; name: string }>;
  /** Kernel sysctls as they were before the kubelet started (it changes them), restored on teardown. */
  sysctls?: Record<string, string>;
  /** The kubelet's cgroupRoot (e.g. /llmroute-node-ab12), made under every v1 controller and the unified tree. */
  cgroupRoot?: string;
  /** containerd's socket, for `ctr` and for finding its shims. */
  containerdSocket?: string;
}

export const STATE_FILE = 'node-state.json';

export function writeNodeState(state: NodeState): void {
  writeFileSync(path.join(state.rootDir, STATE_FILE), JSON.stringify(state, null, 2));
}

export function readNodeState(rootDir: string): NodeState | undefined {
  try {
    return JSON.parse(readFileSync(path.join(rootDir, STATE_FILE), 'utf8')) as NodeState;
  } catch {
    return undefined;
  }
}
