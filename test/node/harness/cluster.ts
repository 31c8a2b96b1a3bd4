// What node tests use: kubectl and helm against the node (inside its network
// namespace in local mode), fake providers where the node's pods reach them,
// and polling with a deadline.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { helmPath, inNetns, kubectlPath, pollUntil, type NodeInfo } from './node-cluster.ts';

export { pollUntil };
export const REPO = path.resolve(import.meta.dirname, '../../..');

export function nodeInfo(): NodeInfo {
  const file = process.env.LLMROUTE_NODE_INFO;
  if (!file) throw new Error('LLMROUTE_NODE_INFO is not set: run the node project (npm run test:node)');
  return JSON.parse(readFileSync(file, 'utf8')) as NodeInfo;
}

let tools: { kubectl: string; helm: string } | undefined;
const tool = (name: 'kubectl' | 'helm') => ((tools ??= { kubectl: kubectlPath(), helm: helmPath() })[name]);

function runTool(name: 'kubectl' | 'helm', args: string[], input?: string, timeoutMs = 120_000): string {
  const info = nodeInfo();
  const argv = inNetns(info.netns, [tool(name), '--kubeconfig', info.kubeconfigPath, ...args]);
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input, timeout: timeoutMs, maxBuffer: 1 << 26, env: { ...process.env, HELM_CACHE_HOME: path.join(info.rootDir, 'helm-cache'), HELM_CONFIG_HOME: path.join(info.rootDir, 'helm-config'), HELM_DATA_HOME: path.join(info.rootDir, 'helm-data') } });
  if (r.status !== 0) throw new Error(`${name} ${args.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || r.error?.message || '').trim().slice(0, 2000)}`);
  return r.stdout;
}

export const kubectl = (args: string[], input?: string): string => runTool('kubectl', args, input);
export const helm = (args: string[], timeoutMs?: number): string => runTool('helm', args, undefined, timeoutMs);
export const kubectlJson = <T = any>(args: string[]): T => JSON.parse(kubectl([...args, '-o', 'json'])) as T;

export interface RunningFake {
  url: string;
  port: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** A fake provider (test/fakes/cli.ts) listening where the node's pods reach it: the node address, inside its namespace. */
export async function startFakeInNode(args: string[]): Promise<RunningFake> {
  const info = nodeInfo();
  const argv = inNetns(info.netns, [process.execPath, path.join(REPO, 'test/fakes/cli.ts'), '--host', info.providerHost, '--port', '0', ...args]);
  const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  let first: { url: string; port: number } | undefined;
  for await (const line of createInterface({ input: proc.stdout! })) {
    first = JSON.parse(line) as { url: string; port: number };
    break;
  }
  proc.stdout!.resume();
  if (!first) throw new Error(`fake provider ${args.join(' ')} exited without listening`);
  return {
    ...first,
    proc,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

/** SIGKILLs a container's process through the node's containerd (local mode: the harness owns the runtime). */
export function killContainer(containerId: string): void {
  const info = nodeInfo();
  if (info.mode !== 'local') throw new Error('killContainer needs the node the harness started');
  const state = JSON.parse(readFileSync(path.join(info.rootDir, 'node-state.json'), 'utf8')) as { containerdSocket: string };
  const argv = inNetns(info.netns, ['ctr', '--address', state.containerdSocket, '-n', 'k8s.io', 'tasks', 'kill', '--signal', 'SIGKILL', containerId]);
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ctr tasks kill ${containerId}: ${r.stderr}`);
}

/**
 * A running container's working set in MiB (cgroup v1 memory: usage_in_bytes less total_inactive_file,
 * as the kubelet computes it), found under the node's cgroup root by the container's id. Local mode only;
 * null when the cgroup is not found.
 */
export function containerWorkingSetMiB(pod: any, container: string): number | null {
  const dir = containerMemoryCgroup(pod, container);
  if (!dir) return null;
  const usage = Number(readFileSync(path.join(dir, 'memory.usage_in_bytes'), 'utf8'));
  const inactive = Number(/^total_inactive_file (\d+)$/m.exec(readFileSync(path.join(dir, 'memory.stat'), 'utf8'))?.[1] ?? 0);
  return +((usage - inactive) / 2 ** 20).toFixed(1);
}

/** A running container's memory cgroup (v1) directory under the node's cgroup root, found by the container's id. Local mode only; null when not found. */
export function containerMemoryCgroup(pod: any, container: string): string | null {
  const info = nodeInfo();
  if (info.mode !== 'local') return null;
  const state = JSON.parse(readFileSync(path.join(info.rootDir, 'node-state.json'), 'utf8')) as { cgroupRoot: string };
  const statuses = [...(pod.status.initContainerStatuses ?? []), ...(pod.status.containerStatuses ?? [])];
  const id = String(statuses.find((s: { name: string }) => s.name === container)?.containerID ?? '').replace(/^containerd:\/\//, '');
  if (!id) return null;
  const find = spawnSync('find', [path.join('/sys/fs/cgroup/memory', state.cgroupRoot), '-type', 'd', '-name', id], { encoding: 'utf8' });
  return find.stdout.split('\n').find(Boolean) ?? null;
}

/** kubectl without blocking the event loop (for sampling while it runs): resolves with stdout, rejects on a non-zero exit. */
export function kubectlAsync(args: string[], timeoutMs = 120_000): Promise<string> {
  const info = nodeInfo();
  const argv = inNetns(info.netns, [tool('kubectl'), '--kubeconfig', info.kubeconfigPath, ...args]);
  return new Promise((resolve, reject) => {
    const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let out = '';
    let err = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    proc.on('error', reject);
    proc.on('close', (code, signal) => (code === 0 ? resolve(out) : reject(new Error(`kubectl ${args.slice(0, 6).join(' ')} failed (${code ?? signal}): ${(err || out).trim().slice(0, 2000)}`))));
  });
}
