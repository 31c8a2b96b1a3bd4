// A real single-node Kubernetes on this machine, for the node suite: a
// network namespace with a bridge (the node address), containerd (Debian's,
// its own config, root and state under a temp folder), etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler and the kubelet
// (hack/build-controlplane.sh and hack/build-node.sh build them), the
// sidecar, operator and pause images imported with `ctr images import`.
//
// Everything runs inside the namespace (nsenter --net only: the mount
// namespace stays the host's, so the kubelet's volume mounts are containerd's
// too), binding the node address or the namespace's loopback; clients
// (kubectl, helm, fake providers) run inside it as well. Pods reach the node
// address over the bridge (CNI bridge + host-local); the `kubernetes`
// Service's ClusterIP is routed to the API server by one DNAT rule (there is
// no kube-proxy, and no cluster DNS).
//
// What this machine needs (Debian 12, cgroup v1 hybrid, root without
// CAP_SYS_RESOURCE, no systemd as PID 1): failCgroupV1: false and the
// cgroupfs driver in the kubelet config, restrict_oom_score_adj in
// containerd's CRI config. The kubelet changes kernel.panic,
// kernel.panic_on_oops and vm.overcommit_memory: they are recorded first and
// put back on teardown. Teardown (teardown.ts) runs from the state file the
// start writes as it goes, in the jest process, in a watchdog when jest dies,
// or in the next run.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, X509Certificate, generateKeyPairSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import yaml from 'js-yaml';
import { buildImage, type Component } from '../../../hack/images.ts';
import { writeImageArchive } from '../../../hack/image-archive.ts';
import { writeNodeState, type NodeState } from './node-state.ts';
import { cgroupHierarchies, netnsList, reapStaleNodes, teardownNode } from './teardown.ts';

export const ROOT_PREFIX = 'llmroute-node-';
/** The node's address on its bridge: the API server, the kubelet and the fake providers listen here. */
export const NODE_IP = '10.244.0.1';
export const POD_SUBNET = '10.244.0.0/24';
export const SERVICE_CIDR = '10.96.0.0/24';
/** The `kubernetes` Service's ClusterIP (the first of SERVICE_CIDR). */
export const KUBERNETES_SERVICE_IP = '10.96.0.1';
export const API_PORT = 6443;
export const NODE_NAME = 'llmroute-node';
const BRIDGE = 'llmr0';
const SYSCTLS = ['kernel.panic', 'kernel.panic_on_oops', 'vm.overcommit_memory'];

export interface NodeOptions {
  repoRoot: string;
  /** The kubelet's syncFrequency (how soon a changed Secret or ConfigMap reaches a volume); default 5s for the tests. */
  syncFrequency?: string;
  log?: (line: string) => void;
}

export interface NodeInfo {
  mode: 'local' | 'kubeconfig';
  rootDir: string;
  /** `ip netns` name, local mode only. */
  netns?: string;
  kubeconfigPath: string;
  /** The address pods reach this machine's fake providers at. */
  providerHost: string;
  logDir: string;
  timings: Record<string, number>;
}

export interface LocalNode extends NodeInfo {
  stop(): void;
}

/** argv that runs `cmd` inside the node's network namespace (nothing else changes: same mounts, same user). */
export function inNetns(netns: string | undefined, cmd: string[]): string[] {
  return netns ? ['nsenter', `--net=/run/netns/${netns}`, '--', ...cmd] : cmd;
}

function run(argv: string[], opts: { input?: string; timeoutMs?: number } = {}): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input: opts.input, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || r.error?.message || '').trim().slice(0, 2000)}`);
  return r.stdout;
}

/** Runs a build script and returns the folder it prints (its last line). */
function buildDir(repoRoot: string, script: string, log: (l: string) => void): string {
  log(`locating binaries with ${script} (a cold build takes several minutes)`);
  const r = spawnSync('bash', [path.join(repoRoot, 'hack', script)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`hack/${script} failed (${r.status ?? r.signal})`);
  return r.stdout.trim().split('\n').pop()!.trim();
}

function tail(file: string, n = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Polls `probe` until it returns true; throws with the last probe error and the log's tail at the deadline. */
export async function pollUntil(what: string, probe: () => boolean | Promise<boolean>, o: { timeoutMs: number; proc?: ChildProcess; logFile?: string; intervalMs?: number }): Promise<void> {
  const deadline = performance.now() + o.timeoutMs;
  let last = '';
  for (;;) {
    if (o.proc && (o.proc.exitCode !== null || o.proc.signalCode !== null)) throw new Error(`${what}: the process exited (${o.proc.exitCode ?? o.proc.signalCode}). ${o.logFile}:\n${tail(o.logFile!)}`);
    try {
      if (await probe()) return;
      last = 'not yet';
    } catch (e) {
      last = (e as Error).message;
    }
    if (performance.now() > deadline) throw new Error(`${what}: not within ${o.timeoutMs / 1000} s (last: ${last.slice(0, 500)})${o.logFile ? `. ${o.logFile}:\n${tail(o.logFile)}` : ''}`);
    await sleep(o.intervalMs ?? 200);
  }
}

export async function startNode(opts: NodeOptions): Promise<LocalNode> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`[llmroute-node] ${l}\n`));
  if (process.getuid?.() !== 0) throw new Error('the real-node suite runs as root (network namespaces, containerd, the kubelet)');
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  const mark = (name: string, since: number) => (timings[name] = Math.round(performance.now() - since));
  reapStaleNodes(os.tmpdir(), ROOT_PREFIX, log);

  let t = performance.now();
  const cp = buildDir(opts.repoRoot, 'build-controlplane.sh', log);
  const nodeBins = buildDir(opts.repoRoot, 'build-node.sh', log);
  mark('binariesMs', t);
  const bin = {
    etcd: path.join(cp, 'etcd'),
    apiserver: path.join(cp, 'kube-apiserver'),
    kcm: path.join(nodeBins, 'kube-controller-manager'),
    scheduler: path.join(nodeBins, 'kube-scheduler'),
    kubelet: path.join(nodeBins, 'kubelet'),
    pause: path.join(nodeBins, 'pause'),
    containerd: '/usr/bin/containerd',
    ctr: '/usr/bin/ctr',
  };
  for (const b of ['containerd', 'ctr', 'runc', 'nsenter', 'iptables'])
    if (spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0) throw new Error(`${b} is not installed (hack/debian-packages.txt; .ci/run installs them)`);
  if (!existsSync('/usr/lib/cni/bridge')) throw new Error('the CNI plugins are not installed (containernetworking-plugins, hack/debian-packages.txt)');

  const rootDir = mkdtempSync(path.join(os.tmpdir(), ROOT_PREFIX));
  const id = path.basename(rootDir).slice(ROOT_PREFIX.length).toLowerCase().replace(/[^a-z0-9]/g, '');
  const dirs = { logs: path.join(rootDir, 'logs'), certs: path.join(rootDir, 'certs'), cni: path.join(rootDir, 'cni'), kubelet: path.join(rootDir, 'kubelet'), images: path.join(rootDir, 'images') };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  const state: NodeState = { ownerPid: process.pid, rootDir, processes: [] };
  const save = () => writeNodeState(state);
  save();

  // The watchdog: tears everything down if this process dies without stop().
  const watchdog = spawn(process.execPath, [path.join(import.meta.dirname, 'teardown.ts'), '--watch', rootDir], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  watchdog.unref();
  watchdog.stdin!.on('error', () => {});
  (watchdog.stdin as unknown as { unref?: () => void }).unref?.();

  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    const t1 = performance.now();
    if (process.env.LLMROUTE_E2E_KEEP_LOGS === '1') {
      const kept = mkdtempSync(path.join(os.tmpdir(), 'llmroute-node-logs-'));
      spawnSync('cp', ['-r', dirs.logs, kept]);
      log(`logs kept in ${kept}`);
    }
    teardownNode(state, log);
    watchdog.stdin!.end('dismiss\n');
    log(`node torn down in ${Math.round(performance.now() - t1)} ms`);
  };
  const onExit = () => stop();
  process.once('exit', onExit);

  const spawnIn = (name: string, binary: string, args: string[]): ChildProcess => {
    const logFile = path.join(dirs.logs, `${name}.log`);
    const fd = openSync(logFile, 'a');
    try {
      // nsenter execs the binary in place: the pid is the binary's
      const p = spawn('nsenter', [`--net=/run/netns/${state.netns}`, '--', binary, ...args], { stdio: ['ignore', fd, fd] });
      p.on('error', () => {});
      p.unref();
      state.processes.push({ pid: p.pid!, bin: binary, name });
      save();
      return p;
    } finally {
      closeSync(fd);
    }
  };
  const ns = (argv: string[], o?: { input?: string }) => run(inNetns(state.netns, argv), o);

  try {
    // --- the network namespace -------------------------------------------
    t = performance.now();
    state.netnsBefore = netnsList();
    state.netns = `llmroute-node-${id}`;
    save();
    run(['ip', 'netns', 'add', state.netns]);
    ns(['ip', 'link', 'set', 'lo', 'up']);
    ns(['ip', 'link', 'add', BRIDGE, 'type', 'bridge']);
    ns(['ip', 'addr', 'add', `${NODE_IP}/24`, 'dev', BRIDGE]);
    ns(['ip', 'link', 'set', BRIDGE, 'up']);
    // The kubelet wants a default route; it leads nowhere outside the namespace.
    ns(['ip', 'route', 'add', 'default', 'dev', BRIDGE]);
    // The `kubernetes` Service, for pods (no kube-proxy): ClusterIP:443 → the API server.
    ns(['iptables', '-t', 'nat', '-A', 'PREROUTING', '-d', KUBERNETES_SERVICE_IP, '-p', 'tcp', '--dport', '443', '-j', 'DNAT', '--to-destination', `${NODE_IP}:${API_PORT}`]);
    mark('netnsMs', t);

    // --- containerd -------------------------------------------------------
    t = performance.now();
    const socket = path.join(rootDir, 'containerd.sock');
    state.containerdSocket = socket;
    const sandboxImage = 'llmroute.dev/pause:node-harness';
    writeFileSync(path.join(dirs.cni, '10-llmroute.conflist'), JSON.stringify({
      cniVersion: '1.0.0',
      name: 'llmroute',
      plugins: [{
        type: 'bridge', bridge: BRIDGE, isGateway: true, isDefaultGateway: true, ipMasq: false, hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: POD_SUBNET, rangeStart: '10.244.0.10', gateway: NODE_IP }]], dataDir: path.join(dirs.cni, 'ipam') },
      }],
    }, null, 2));
    const toml = `version = 2
root = "${rootDir}/containerd/root"
state = "${rootDir}/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "${socket}"
[ttrpc]
  address = "${socket}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "${rootDir}/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${sandboxImage}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  # root here lacks CAP_SYS_RESOURCE: without this every container fails ("can't get final child's PID from pipe: EOF")
  restrict_oom_score_adj = true
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${dirs.cni}"
`;
    const containerdConfig = path.join(rootDir, 'containerd.toml');
    writeFileSync(containerdConfig, toml);
    const containerd = spawnIn('containerd', bin.containerd, ['--config', containerdConfig]);
    const ctr = (args: string[]) => ns([bin.ctr, '--address', socket, '-n', 'k8s.io', ...args]);
    await pollUntil('containerd', () => (ctr(['version']), true), { timeoutMs: 30_000, proc: containerd, logFile: path.join(dirs.logs, 'containerd.log') });
    mark('containerdMs', t);

    // --- images: pause, sidecar, operator -----------------------------------
    t = performance.now();
    const pause = writeImageArchive({
      name: sandboxImage,
      file: path.join(dirs.images, 'pause.tar'),
      layers: [[{ path: 'pause', type: 'file', mode: 0o755, source: bin.pause }]],
      config: { user: '65535:65535', env: [], entrypoint: ['/pause'], cmd: [], workdir: '/', exposedPorts: [] },
      created: new Date(0).toISOString(),
      history: ['pause, compiled from the kubelet module\'s build/pause/linux/pause.c (hack/build-node.sh)'],
    });
    const imagesDir = process.env.LLMROUTE_NODE_IMAGES;
    const images = [pause.file];
    for (const c of ['sidecar', 'operator'] as Component[]) {
      const prebuilt = imagesDir && path.join(imagesDir, `${c}.tar`);
      if (prebuilt && existsSync(prebuilt)) images.push(prebuilt);
      else images.push(buildImage(opts.repoRoot, c, dirs.images, path.join(rootDir, 'image-build')).file);
    }
    // scratch of the builds (the assembled stages, their node_modules): not needed past here
    rmSync(path.join(rootDir, 'image-build'), { recursive: true, force: true });
    mark('imagesBuildMs', t);
    t = performance.now();
    for (const f of images) ctr(['images', 'import', '--snapshotter', 'overlayfs', f]);
    mark('imagesImportMs', t);

    // --- etcd ----------------------------------------------------------------
    t = performance.now();
    const etcd = spawnIn('etcd', bin.etcd, [
      '--name=node', `--data-dir=${rootDir}/etcd`, '--listen-client-urls=http://127.0.0.1:2379', '--advertise-client-urls=http://127.0.0.1:2379',
      '--listen-peer-urls=http://127.0.0.1:2380', '--initial-advertise-peer-urls=http://127.0.0.1:2380', '--initial-cluster=node=http://127.0.0.1:2380',
      '--unsafe-no-fsync=true', '--heartbeat-interval=10', '--election-timeout=100', '--log-level=warn',
    ]);
    const etcdHealth = 'fetch("http://127.0.0.1:2379/health").then((r) => r.text()).then((t) => process.stdout.write(t))';
    await pollUntil('etcd', () => /"health":\s*"true"/.test(ns([process.execPath, '-e', etcdHealth])), { timeoutMs: 30_000, proc: etcd, logFile: path.join(dirs.logs, 'etcd.log') });
    mark('etcdMs', t);

    // --- kube-apiserver --------------------------------------------------------
    t = performance.now();
    const adminToken = randomBytes(24).toString('hex');
    const tokenFile = path.join(dirs.certs, 'tokens.csv');
    writeFileSync(tokenFile, `${adminToken},llmroute-node-admin,llmroute-node-admin,"system:masters"\n`, { mode: 0o600 });
    const sa = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    writeFileSync(path.join(dirs.certs, 'sa.pub'), sa.publicKey);
    writeFileSync(path.join(dirs.certs, 'sa.key'), sa.privateKey, { mode: 0o600 });
    const apiserver = spawnIn('kube-apiserver', bin.apiserver, [
      '--etcd-servers=http://127.0.0.1:2379',
      `--bind-address=${NODE_IP}`,
      `--advertise-address=${NODE_IP}`,
      `--secure-port=${API_PORT}`,
      // No --tls-cert-file: the self-made serving cert's SANs are the advertise address, the
      // first Service IP and the kubernetes.default.svc names; cert then CA in apiserver.crt.
      `--cert-dir=${dirs.certs}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${dirs.certs}/sa.pub`,
      `--service-account-signing-key-file=${dirs.certs}/sa.key`,
      `--token-auth-file=${tokenFile}`,
      '--authorization-mode=RBAC',
      '--allow-privileged=true',
      // ServiceAccount admission stays on: pods get their token, the operator finds the cluster in-cluster.
      // Webhooks named by a Service are dialled at its endpoints (nothing routes ClusterIPs but the one rule above).
      '--enable-aggregator-routing=true',
      // kubectl logs/exec reach the kubelet at its InternalIP (the node's name resolves nowhere).
      '--kubelet-preferred-address-types=InternalIP',
    ]);
    const kubeconfigPath = path.join(rootDir, 'admin.kubeconfig');
    const kubeconfig = (ca: string | undefined) =>
      yaml.dump({
        apiVersion: 'v1', kind: 'Config',
        clusters: [{ name: 'node', cluster: { server: `https://${NODE_IP}:${API_PORT}`, ...(ca ? { 'certificate-authority-data': Buffer.from(ca).toString('base64') } : { 'insecure-skip-tls-verify': true }) } }],
        users: [{ name: 'admin', user: { token: adminToken } }],
        contexts: [{ name: 'node', context: { cluster: 'node', user: 'admin', namespace: 'default' } }],
        'current-context': 'node',
      });
    writeFileSync(kubeconfigPath, kubeconfig(undefined), { mode: 0o600 });
    const kubectlBin = kubectlPath();
    await pollUntil('kube-apiserver /readyz', () => ns([kubectlBin, '--kubeconfig', kubeconfigPath, 'get', '--raw', '/readyz']).trim() === 'ok', { timeoutMs: 90_000, proc: apiserver, logFile: path.join(dirs.logs, 'kube-apiserver.log'), intervalMs: 300 });
    const pems = readFileSync(path.join(dirs.certs, 'apiserver.crt'), 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
    const ca = pems.find((p) => new X509Certificate(p).ca);
    if (!ca) throw new Error('kube-apiserver wrote no CA to apiserver.crt');
    const caFile = path.join(dirs.certs, 'ca.crt');
    writeFileSync(caFile, ca);
    writeFileSync(kubeconfigPath, kubeconfig(ca), { mode: 0o600 });
    mark('apiserverMs', t);

    // --- controller-manager, scheduler ------------------------------------------
    t = performance.now();
    spawnIn('kube-controller-manager', bin.kcm, [
      `--kubeconfig=${kubeconfigPath}`, '--leader-elect=false', `--root-ca-file=${caFile}`,
      `--service-account-private-key-file=${dirs.certs}/sa.key`, '--use-service-account-credentials=false',
      '--bind-address=127.0.0.1', '--secure-port=0', '--controllers=*',
    ]);
    spawnIn('kube-scheduler', bin.scheduler, [`--kubeconfig=${kubeconfigPath}`, '--leader-elect=false', '--bind-address=127.0.0.1', '--secure-port=0']);

    // --- the kubelet --------------------------------------------------------------
    state.sysctls = Object.fromEntries(SYSCTLS.map((k) => [k, readFileSync(`/proc/sys/${k.replace(/\./g, '/')}`, 'utf8').trim()]));
    state.cgroupRoot = `/llmroute-node-${id}`;
    save();
    for (const h of cgroupHierarchies()) {
      const dir = path.join(h, state.cgroupRoot);
      mkdirSync(dir, { recursive: true });
      // a new v1 cpuset cgroup has no cpus or mems: give it its parent's, so tasks can join it
      for (const f of ['cpuset.cpus', 'cpuset.mems']) if (existsSync(path.join(h, f))) writeFileSync(path.join(dir, f), readFileSync(path.join(h, f), 'utf8'));
    }
    const resolvConf = path.join(rootDir, 'resolv.conf');
    // no cluster DNS, no way out: names resolve nowhere
    writeFileSync(resolvConf, 'nameserver 127.0.0.1\noptions ndots:1 timeout:1 attempts:1\n');
    const kubeletConfig = path.join(rootDir, 'kubelet.yaml');
    writeFileSync(kubeletConfig, yaml.dump({
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      failCgroupV1: false,
      cgroupDriver: 'cgroupfs',
      cgroupRoot: state.cgroupRoot,
      containerRuntimeEndpoint: `unix://${socket}`,
      address: NODE_IP,
      port: 10250,
      readOnlyPort: 0,
      healthzBindAddress: '127.0.0.1',
      healthzPort: 10248,
      authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
      authorization: { mode: 'AlwaysAllow' },
      // How soon a changed Secret or ConfigMap reaches a mounted volume (default 1m): short for the tests.
      syncFrequency: opts.syncFrequency ?? '5s',
      resolvConf,
      clusterDomain: 'cluster.local',
      podLogsDir: path.join(rootDir, 'pod-logs'),
      failSwapOn: false,
      evictionHard: { 'memory.available': '1Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      nodeStatusUpdateFrequency: '4s',
      serializeImagePulls: false,
    }));
    const kubelet = spawnIn('kubelet', bin.kubelet, [
      `--config=${kubeletConfig}`, `--kubeconfig=${kubeconfigPath}`, `--root-dir=${dirs.kubelet}`,
      `--hostname-override=${NODE_NAME}`, `--node-ip=${NODE_IP}`, `--cert-dir=${dirs.kubelet}/pki`,
    ]);
    const kubectl = (args: string[]) => ns([kubectlBin, '--kubeconfig', kubeconfigPath, ...args]);
    await pollUntil(
      'the Node Ready',
      () => kubectl(['get', 'node', NODE_NAME, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']).trim() === 'True',
      { timeoutMs: 120_000, proc: kubelet, logFile: path.join(dirs.logs, 'kubelet.log'), intervalMs: 250 },
    );
    // the ServiceAccount controller runs: namespaces get their default ServiceAccount
    await pollUntil('the default ServiceAccount', () => (kubectl(['-n', 'default', 'get', 'serviceaccount', 'default']), true), { timeoutMs: 60_000 });
    mark('nodeReadyMs', t);
    timings.totalMs = Math.round(performance.now() - t0);
    log(`node ready in ${timings.totalMs} ms (${Object.entries(timings).map(([k, v]) => `${k} ${v}`).join(', ')}); logs: ${dirs.logs}`);
    return {
      mode: 'local', rootDir, netns: state.netns, kubeconfigPath, providerHost: NODE_IP, logDir: dirs.logs, timings,
      stop: () => {
        process.removeListener('exit', onExit);
        stop();
      },
    };
  } catch (err) {
    log(`the node failed to start: ${(err as Error).message}`);
    if (process.env.LLMROUTE_E2E_KEEP_LOGS !== '1') process.env.LLMROUTE_E2E_KEEP_LOGS = '1';
    process.removeListener('exit', onExit);
    stop();
    throw err;
  }
}

/** kubectl from hack/tools.ts (KUBECTL_BIN overrides it). */
export function kubectlPath(): string {
  return run([process.execPath, path.resolve(import.meta.dirname, '../../../hack/tools.ts'), 'kubectl']).trim();
}

export function helmPath(): string {
  return run([process.execPath, path.resolve(import.meta.dirname, '../../../hack/tools.ts'), 'helm']).trim();
}

