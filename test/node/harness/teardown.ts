// Undoes a real-node run from its state file, every step on its own so one
// failure does not leave the rest behind: the kubelet and the control plane
// stopped by PID, every container process of the node's cgroup tree and
// every containerd shim of its socket killed, containerd stopped, the pod
// network namespaces it made removed, every mount under the temp folder
// unmounted, the node's cgroups removed, the kernel sysctls the kubelet
// changed put back, the network namespace deleted (its bridge, addresses
// and NAT rule go with it), and the temp folder removed.
//
//   node test/node/harness/teardown.ts <rootDir>             tear that run down now
//   node test/node/harness/teardown.ts --watch <rootDir>     (the watchdog) wait until stdin closes
//                                                            without "dismiss", then tear down
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readNodeState, type NodeState } from './node-state.ts';

const CGROUP = '/sys/fs/cgroup';

/** Alive and not a zombie (the harness's own children stay zombies until its event loop reaps them, which a synchronous teardown never lets it do). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** True when pid is alive and runs bin (guards against pid reuse). */
function runs(pid: number, bin: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] === bin;
  } catch {
    return false;
  }
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone
  }
}

/** Waits, polling /proc, until none of the pids is alive or the deadline passes. */
function waitGone(pids: number[], ms: number): boolean {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!pids.some(alive)) return true;
    spawnSync('sleep', ['0.1']);
  }
  return !pids.some(alive);
}

/** SIGTERM, then SIGKILL after the grace; returns the names of those that needed SIGKILL. */
function stopPids(procs: Array<{ pid: number; bin: string; name?: string }>, graceMs: number): string[] {
  const live = procs.filter((p) => runs(p.pid, p.bin));
  for (const p of live) kill(p.pid, 'SIGTERM');
  waitGone(live.map((p) => p.pid), graceMs);
  const stubborn = live.filter((p) => alive(p.pid));
  for (const p of stubborn) kill(p.pid, 'SIGKILL');
  waitGone(stubborn.map((p) => p.pid), 5_000);
  return stubborn.map((p) => p.name ?? p.bin);
}

/** The distinct cgroup hierarchies (v1 controllers, the unified tree); cpu,cpuacct style links counted once. */
export function cgroupHierarchies(): string[] {
  if (!existsSync(CGROUP)) return [];
  const seen = new Set<string>();
  const out: string[] = [];
  for (const e of readdirSync(CGROUP)) {
    const dir = path.join(CGROUP, e);
    let real: string;
    try {
      real = realpathSync(dir);
    } catch {
      continue;
    }
    if (seen.has(real) || !existsSync(path.join(real, 'cgroup.procs'))) continue;
    seen.add(real);
    out.push(real);
  }
  return out;
}

/** Every cgroup folder under dir, deepest first. */
function cgroupDirs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) out.push(...cgroupDirs(path.join(dir, e.name)));
  out.push(dir);
  return out;
}

function pidsIn(dir: string): number[] {
  try {
    return readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** containerd shims started for this socket (they outlive containerd). */
function shims(socket: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.includes('containerd-shim') && argv.includes(socket)) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

/** Mount points at or under dir, deepest first (from this process's mountinfo: the harness shares the host's mount namespace). */
export function mountsUnder(dir: string): string[] {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[4]!.replace(/\\040/g, ' '))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

export function netnsList(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return r.stdout.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
}

export function teardownNode(state: NodeState, log: (line: string) => void = (l) => process.stderr.write(`[llmroute-node] ${l}\n`)): string[] {
  const problems: string[] = [];
  const slow: string[] = [];
  const step = (name: string, fn: () => void): void => {
    const t = performance.now();
    try {
      fn();
    } catch (e) {
      problems.push(`${name}: ${(e as Error).message}`);
    }
    const ms = performance.now() - t;
    if (ms > 1000) slow.push(`${name} ${Math.round(ms)} ms`);
  };
  const containerd = state.processes.find((p) => p.name === 'containerd');
  const stopEach = (procs: typeof state.processes) => {
    // one at a time, newest first: the API server's graceful stop needs etcd still up
    const killed = [...procs].reverse().flatMap((p) => stopPids([p], 10_000));
    if (killed.length) log(`teardown: SIGKILL after 10 s for ${killed.join(', ')}`);
  };
  // 1. The kubelet, so that nothing restarts the containers.
  step('stop kubelet', () => stopEach(state.processes.filter((p) => p.name === 'kubelet')));
  // 2. Every container process of the node, then the shims (before the API server: the pods' open watches hold its graceful stop).
  step('kill containers', () => {
    if (!state.cgroupRoot) return;
    for (let round = 0; round < 3; round++) {
      const pids = cgroupHierarchies().flatMap((h) => cgroupDirs(path.join(h, state.cgroupRoot!)).flatMap(pidsIn));
      if (!pids.length) break;
      for (const pid of pids) kill(pid, 'SIGKILL');
      waitGone(pids, 5_000);
    }
  });
  step('kill shims', () => {
    if (!state.containerdSocket) return;
    const pids = shims(state.containerdSocket);
    for (const pid of pids) kill(pid, 'SIGKILL');
    waitGone(pids, 5_000);
  });
  // 3. The control plane, then containerd.
  step('stop control plane', () => stopEach(state.processes.filter((p) => p.name !== 'kubelet' && p.name !== 'containerd')));
  step('stop containerd', () => containerd && stopPids([containerd], 10_000));
  // Anything else still in the node's namespace: clients and fake providers the tests started there
  // (a jest killed outright leaves its workers' children behind).
  step('processes in the netns', () => {
    if (!state.netns || !netnsList().includes(state.netns)) return;
    const pids = spawnSync('ip', ['netns', 'pids', state.netns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
    for (const pid of pids) kill(pid, 'SIGKILL');
    waitGone(pids, 5_000);
  });
  // 4. Pod network namespaces containerd made (new since it started).
  step('pod netns', () => {
    if (!state.netnsBefore) return;
    for (const ns of netnsList().filter((n) => n.startsWith('cni-') && !state.netnsBefore!.includes(n))) {
      execFileSync('ip', ['netns', 'delete', ns], { stdio: 'pipe' });
    }
  });
  // 5. Mounts under the temp folder: the kubelet's volumes, containerd's rootfs overlays and shm.
  step('mounts', () => {
    for (let round = 0; round < 3; round++) {
      const points = mountsUnder(state.rootDir);
      if (!points.length) break;
      for (const p of points) spawnSync('umount', ['-l', p], { stdio: 'pipe' });
    }
    const left = mountsUnder(state.rootDir);
    if (left.length) throw new Error(`still mounted: ${left.join(', ')}`);
  });
  // 6. The node's cgroups.
  step('cgroups', () => {
    if (!state.cgroupRoot) return;
    for (const h of cgroupHierarchies()) for (const d of cgroupDirs(path.join(h, state.cgroupRoot))) rmdirSync(d);
  });
  // 7. Sysctls the kubelet changed.
  step('sysctls', () => {
    for (const [key, value] of Object.entries(state.sysctls ?? {})) writeFileSync(`/proc/sys/${key.replace(/\./g, '/')}`, value);
  });
  // 8. The node's network namespace: its bridge, addresses and NAT rule go with it.
  step('netns', () => {
    if (state.netns && netnsList().includes(state.netns)) execFileSync('ip', ['netns', 'delete', state.netns], { stdio: 'pipe' });
  });
  step('temp folder', () => rmSync(state.rootDir, { recursive: true, force: true }));
  if (slow.length) log(`teardown: slow steps: ${slow.join(', ')}`);
  if (problems.length) log(`teardown of ${state.rootDir} left problems: ${problems.join('; ')}`);
  return problems;
}

/** Tears down runs under baseDir whose owner process is gone (jest killed, watchdog killed with it). */
export function reapStaleNodes(baseDir: string, prefix: string, log: (line: string) => void): void {
  let entries: string[];
  try {
    entries = readdirSync(baseDir).filter((e) => e.startsWith(prefix));
  } catch {
    return;
  }
  for (const e of entries) {
    const state = readNodeState(path.join(baseDir, e));
    if (!state || alive(state.ownerPid)) continue;
    log(`tearing down a node left by process ${state.ownerPid}: ${state.rootDir}`);
    teardownNode(state, log);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const watch = process.argv[2] === '--watch';
  const rootDir = process.argv[watch ? 3 : 2];
  if (!rootDir) {
    process.stderr.write('usage: node test/node/harness/teardown.ts [--watch] <rootDir>\n');
    process.exit(2);
  }
  const run = (): void => {
    const state = readNodeState(rootDir);
    if (state) teardownNode(state);
    process.exit(0);
  };
  if (!watch) run();
  else {
    // The watchdog: outlives a jest killed by a signal, tears down when the owner's pipe closes.
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, () => {});
    let buf = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (d: string) => {
      buf += d;
      if (buf.includes('dismiss\n')) process.exit(0);
    });
    process.stdin.on('close', run);
    process.stdin.on('error', run);
  }
}
