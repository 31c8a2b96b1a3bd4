// A real Kubernetes control plane for the e2e suite: one etcd and one
// kube-apiserver, both started as child processes on 127.0.0.1. No kubelet,
// no controller-manager, no scheduler, no cloud: only the API server with its
// built-in admission chain (mutating and validating webhooks included), RBAC
// and CRDs. That is everything the operator and its webhook talk to.
//
// What this control plane does NOT do, because nothing runs the controllers:
//   - Pods are never scheduled or run; they are only stored (and admitted).
//   - Deleted namespaces stay Terminating forever (no namespace controller):
//     give every test its own namespace name.
//   - No garbage collection: ownerReferences do not cascade.
//   - No ServiceAccount controller: namespaces get no `default` ServiceAccount.
//     The ServiceAccount admission plugin is disabled for that reason (as
//     controller-runtime's envtest does), so pods can be created without one.
//
// Alternatively connectExistingCluster() uses the cluster a kubeconfig points
// at (see global-setup.ts: KUBECONFIG + LLMROUTE_E2E_USE_KUBECONFIG=1).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import yaml from 'js-yaml';

/** The unprivileged user every local control plane knows (token auth). */
export const TEST_USER_NAME = 'llmroute-operator-test';
export const ADMIN_USER_NAME = 'llmroute-e2e-admin';
/** Prefix of the temp folders that hold a control plane's state. */
const ROOT_PREFIX = 'llmroute-e2e-';
const LOG_PREFIX = '[llmroute-e2e]';

export interface ControlPlaneOptions {
  /** Path of kube-apiserver; default $KUBE_APISERVER_BIN, else hack/build-controlplane.sh. */
  kubeApiserverBin?: string;
  /** Path of etcd; default $ETCD_BIN, else hack/build-controlplane.sh. */
  etcdBin?: string;
  /** The repository root (for hack/build-controlplane.sh); default: found from this file. */
  repoRoot?: string;
  /** Where the temp state folder is made; default os.tmpdir(). */
  baseDir?: string;
  /** How long to wait for /readyz; default 90 s. */
  readyTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace in stop(); default 10 s. */
  stopGraceMs?: number;
  /** Keep the logs folder after stop(); default $LLMROUTE_E2E_KEEP_LOGS === '1'. */
  keepLogs?: boolean;
  /** More kube-apiserver flags (`--name=value`); a flag given here replaces the default one. */
  apiserverArgs?: string[];
  /** Progress lines; default: stderr. */
  log?: (line: string) => void;
}

/** What tests need to reach a cluster. Serializable (it is the e2e state file). */
export interface ControlPlaneInfo {
  /** 'local': started by this harness; 'kubeconfig': an existing cluster. */
  mode: 'local' | 'kubeconfig';
  /** https://127.0.0.1:PORT */
  url: string;
  /** Bearer token of a `system:masters` user (local mode only). */
  adminToken?: string;
  /** Bearer token of the unprivileged user (local mode only). */
  userToken?: string;
  /** The unprivileged user's name (in kubeconfig mode it is impersonated). */
  userName: string;
  /** PEM of the CA that signed the serving cert, when the harness knows it. */
  caData?: string;
  /** Kubeconfig of the admin (the existing KUBECONFIG in kubeconfig mode). */
  kubeconfigPath: string;
  /** Kubeconfig of the unprivileged user (impersonation via `as:` in kubeconfig mode). */
  userKubeconfigPath: string;
  /** Folder with etcd.log and kube-apiserver.log (local mode). */
  logDir: string;
  /** The temp folder of this control plane (state, certs, data, kubeconfigs). */
  rootDir: string;
  /** The harness pid file (local mode): {ownerPid, processes: [{pid, bin}]} */
  pidFile?: string;
  /** Milliseconds: etcd to healthy, apiserver from spawn to ready, total. */
  timings?: { etcdReadyMs: number; apiserverReadyMs: number; totalMs: number };
}

export interface ControlPlane extends ControlPlaneInfo {
  /** Stops the processes (SIGTERM, SIGKILL after the grace) and removes the temp folders. */
  stop(): Promise<void>;
}

export interface LocalControlPlane extends ControlPlane {
  mode: 'local';
  adminToken: string;
  userToken: string;
  timings: { etcdReadyMs: number; apiserverReadyMs: number; totalMs: number };
}

interface PidFile {
  ownerPid: number;
  processes: Array<{ pid: number; bin: string }>;
}

// ---------------------------------------------------------------------------

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<LocalControlPlane> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${LOG_PREFIX} ${line}\n`));
  const t0 = performance.now();
  reapStaleControlPlanes(opts.baseDir, log);
  const bins = resolveBinaries(opts, log);

  const rootDir = await mkdtemp(path.join(opts.baseDir ?? os.tmpdir(), ROOT_PREFIX));
  const logDir = path.join(rootDir, 'logs');
  const certDir = path.join(rootDir, 'certs');
  const etcdDataDir = path.join(rootDir, 'etcd-data');
  await mkdir(logDir, { recursive: true });
  await mkdir(certDir, { recursive: true, mode: 0o700 });
  const pidFile = path.join(rootDir, 'pids.json');
  const keepLogs = opts.keepLogs ?? process.env.LLMROUTE_E2E_KEEP_LOGS === '1';
  const graceMs = opts.stopGraceMs ?? 10_000;

  const children: Array<{ proc: ChildProcess; bin: string; name: string }> = [];
  let watchdog: ChildProcess | undefined;
  const onExit = () => {
    // Last resort when the owning process exits without calling stop().
    for (const c of children) killQuietly(c.proc.pid, 'SIGKILL');
  };
  process.once('exit', onExit);

  const writePids = async () => {
    const content: PidFile = {
      ownerPid: process.pid,
      processes: children.flatMap((c) => (c.proc.pid ? [{ pid: c.proc.pid, bin: c.bin }] : [])),
    };
    await writeFile(pidFile, JSON.stringify(content, null, 2));
  };

  let stopped = false;
  const stop = async (removeLogs = !keepLogs) => {
    if (stopped) return;
    stopped = true;
    // apiserver first, then etcd.
    for (const c of [...children].reverse()) await stopProcess(c.proc, graceMs);
    if (watchdog?.stdin && !watchdog.stdin.destroyed) {
      watchdog.stdin.end('dismiss\n');
    }
    process.removeListener('exit', onExit);
    if (removeLogs) {
      await rm(rootDir, { recursive: true, force: true });
    } else {
      // Keep only the logs.
      for (const entry of readdirSync(rootDir)) {
        if (entry !== 'logs') await rm(path.join(rootDir, entry), { recursive: true, force: true });
      }
      log(`logs kept in ${logDir}`);
    }
  };

  try {
    // --- etcd -------------------------------------------------------------
    const tEtcd = performance.now();
    const etcdLog = path.join(logDir, 'etcd.log');
    const etcdUrl = await retryOnPortClash(etcdLog, async () => {
      await rm(etcdDataDir, { recursive: true, force: true });
      const [clientPort, peerPort] = await freePorts(2);
      const etcdUrl = `http://127.0.0.1:${clientPort}`;
      const peerUrl = `http://127.0.0.1:${peerPort}`;
      const etcd = spawnLogged(bins.etcd, [
        '--name=llmroute-e2e',
        `--data-dir=${etcdDataDir}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=llmroute-e2e=${peerUrl}`,
        '--initial-cluster-state=new',
        // Test data: durability does not matter, speed does.
        '--unsafe-no-fsync=true',
        // A single member has no peers to lose: elect itself at once
        // (the 1 s default made etcd take 0.2–0.9 s to become healthy).
        '--heartbeat-interval=10',
        '--election-timeout=100',
        '--log-level=warn',
      ], etcdLog);
      children.push({ proc: etcd, bin: bins.etcd, name: 'etcd' });
      await writePids();
      if (watchdog) watchdog.stdin?.write(`pids ${JSON.stringify({ pid: etcd.pid, bin: bins.etcd })}\n`);
      else watchdog = startWatchdog([{ pid: etcd.pid!, bin: bins.etcd }]);
      await waitUntilReady({
        name: 'etcd',
        proc: etcd,
        logFile: etcdLog,
        timeoutMs: 30_000,
        probe: async () => {
          const res = await httpGet(`${etcdUrl}/health`, {});
          if (res.status === 200 && /"health":\s*"true"/.test(res.body)) return true;
          throw new Error(`/health HTTP ${res.status}: ${res.body.slice(0, 200)}`);
        },
      });
      return etcdUrl;
    });
    const etcdReadyMs = performance.now() - tEtcd;

    // --- credentials ------------------------------------------------------
    const adminToken = randomBytes(24).toString('hex');
    const userToken = randomBytes(24).toString('hex');
    const tokenFile = path.join(rootDir, 'tokens.csv');
    // token,user,uid,"group1,group2"; the test user is in no group besides the
    // system:authenticated every authenticated user gets.
    await writeFile(
      tokenFile,
      `${adminToken},${ADMIN_USER_NAME},${ADMIN_USER_NAME},"system:masters"\n` +
        `${userToken},${TEST_USER_NAME},${TEST_USER_NAME}\n`,
      { mode: 0o600 },
    );
    const saKeys = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const saPub = path.join(certDir, 'sa.pub');
    const saKey = path.join(certDir, 'sa.key');
    await writeFile(saPub, saKeys.publicKey);
    await writeFile(saKey, saKeys.privateKey, { mode: 0o600 });

    // --- kube-apiserver ---------------------------------------------------
    const tApi = performance.now();
    const apiLog = path.join(logDir, 'kube-apiserver.log');
    const url = await retryOnPortClash(apiLog, async () => {
      const [securePort] = await freePorts(1);
      const url = `https://127.0.0.1:${securePort}`;
      const defaults = [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${securePort}`,
        // No --tls-cert-file: the apiserver makes a CA and a serving cert for
        // 127.0.0.1/localhost and writes both (cert, then CA) to apiserver.crt.
        `--cert-dir=${certDir}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${saPub}`,
        `--service-account-signing-key-file=${saKey}`,
        `--token-auth-file=${tokenFile}`,
        '--authorization-mode=RBAC',
        '--allow-privileged=true',
        // The default plugin set stays (MutatingAdmissionWebhook,
        // ValidatingAdmissionWebhook, ValidatingAdmissionPolicy, ...). Only
        // ServiceAccount goes: it refuses pods whose ServiceAccount does not
        // exist, and without a controller-manager no namespace has one.
        '--disable-admission-plugins=ServiceAccount',
        // The 'kubernetes' Service endpoints would point at 127.0.0.1, which
        // Endpoints validation refuses; nothing needs them here.
        '--endpoint-reconciler-type=none',
        // Webhooks and aggregated APIs named by a Service are dialled at the
        // Service's endpoints instead of its ClusterIP (nothing routes
        // ClusterIPs here). Endpoints may not be loopback addresses, though.
        '--enable-aggregator-routing=true',
      ];
      const apiArgs = mergeFlags(defaults, opts.apiserverArgs ?? []);
      const apiserver = spawnLogged(bins.kubeApiserver, apiArgs, apiLog);
      children.push({ proc: apiserver, bin: bins.kubeApiserver, name: 'kube-apiserver' });
      await writePids();
      watchdog?.stdin?.write(`pids ${JSON.stringify({ pid: apiserver.pid, bin: bins.kubeApiserver })}\n`);
      await waitUntilReady({
        name: 'kube-apiserver',
        proc: apiserver,
        logFile: apiLog,
        timeoutMs: opts.readyTimeoutMs ?? 90_000,
        probe: async () => {
          const res = await httpGet(`${url}/readyz`, { token: adminToken, insecure: true });
          if (res.status === 200 && res.body.trim() === 'ok') return true;
          // /readyz lists the failing checks as "[-]name failed: ..." lines.
          const failing = res.body.split('\n').filter((l) => l.startsWith('[-]')).join('; ');
          throw new Error(`/readyz HTTP ${res.status}${failing ? `: ${failing}` : `: ${res.body.slice(0, 200)}`}`);
        },
      });
      return url;
    });
    const apiserverReadyMs = performance.now() - tApi;

    // --- kubeconfigs --------------------------------------------------------
    const caData = await readServingCa(path.join(certDir, 'apiserver.crt'), url, adminToken);
    const kubeconfigPath = path.join(rootDir, 'admin.kubeconfig');
    const userKubeconfigPath = path.join(rootDir, 'user.kubeconfig');
    await writeFile(kubeconfigPath, kubeconfigYaml({ url, caData, user: ADMIN_USER_NAME, token: adminToken }), { mode: 0o600 });
    await writeFile(userKubeconfigPath, kubeconfigYaml({ url, caData, user: TEST_USER_NAME, token: userToken }), { mode: 0o600 });

    const timings = {
      etcdReadyMs: Math.round(etcdReadyMs),
      apiserverReadyMs: Math.round(apiserverReadyMs),
      totalMs: Math.round(performance.now() - t0),
    };
    log(
      `control plane ready at ${url} in ${timings.totalMs} ms ` +
        `(etcd ${timings.etcdReadyMs} ms, kube-apiserver ${timings.apiserverReadyMs} ms); logs: ${logDir}`,
    );
    const cp: LocalControlPlane = {
      mode: 'local',
      url,
      adminToken,
      userToken,
      userName: TEST_USER_NAME,
      kubeconfigPath,
      userKubeconfigPath,
      logDir,
      rootDir,
      pidFile,
      timings,
      stop: () => stop(),
    };
    if (caData) cp.caData = caData;
    return cp;
  } catch (err) {
    log('control plane failed to start; stopping what was started');
    await stop(false).catch(() => {});
    throw err;
  }
}

/**
 * Uses the cluster of an existing kubeconfig (its current context) as admin.
 * The unprivileged user is reached by impersonation: the user kubeconfig is a
 * copy of the admin's current context with `as: llmroute-operator-test` on
 * its user, which both kubectl and @kubernetes/client-node honour (they send
 * `Impersonate-User`). The admin therefore needs the `impersonate` verb on
 * users, which cluster-admin has. Tokens stay unset in this mode.
 */
export async function connectExistingCluster(kubeconfigPath: string, opts: { baseDir?: string } = {}): Promise<ControlPlane> {
  const doc = yaml.load(await readFile(kubeconfigPath, 'utf8')) as KubeconfigDoc | undefined;
  if (!doc || typeof doc !== 'object') throw new Error(`${kubeconfigPath} is not a kubeconfig`);
  const ctxName = doc['current-context'];
  const ctx = doc.contexts?.find((c) => c.name === ctxName)?.context;
  if (!ctx) throw new Error(`${kubeconfigPath}: current-context '${ctxName ?? ''}' not found`);
  const cluster = doc.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  const user = doc.users?.find((u) => u.name === ctx.user);
  if (!cluster || !user) throw new Error(`${kubeconfigPath}: the cluster or user of context '${ctxName}' is missing`);

  // Relative file paths in a kubeconfig are relative to its folder; make them
  // absolute before the copy moves elsewhere.
  const base = path.dirname(path.resolve(kubeconfigPath));
  const abs = (o: Record<string, unknown>, keys: string[]) => {
    for (const k of keys) {
      const v = o[k];
      if (typeof v === 'string' && v && !path.isAbsolute(v)) o[k] = path.resolve(base, v);
    }
  };
  const clusterCopy = { ...cluster } as Record<string, unknown>;
  abs(clusterCopy, ['certificate-authority']);
  const userCopy = { ...(user.user ?? {}) } as Record<string, unknown>;
  abs(userCopy, ['client-certificate', 'client-key', 'tokenFile']);
  userCopy.as = TEST_USER_NAME;
  delete userCopy['as-groups'];

  const rootDir = await mkdtemp(path.join(opts.baseDir ?? os.tmpdir(), ROOT_PREFIX));
  const userKubeconfigPath = path.join(rootDir, 'user.kubeconfig');
  const userDoc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster: clusterCopy }],
    users: [{ name: TEST_USER_NAME, user: userCopy }],
    contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: TEST_USER_NAME } }],
    'current-context': 'e2e',
  };
  await writeFile(userKubeconfigPath, yaml.dump(userDoc), { mode: 0o600 });
  const caData = typeof cluster['certificate-authority-data'] === 'string'
    ? Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8')
    : undefined;
  const info: ControlPlane = {
    mode: 'kubeconfig',
    url: String(cluster.server),
    userName: TEST_USER_NAME,
    kubeconfigPath: path.resolve(kubeconfigPath),
    userKubeconfigPath,
    logDir: rootDir,
    rootDir,
    stop: async () => {
      await rm(rootDir, { recursive: true, force: true });
    },
  };
  if (caData) info.caData = caData;
  return info;
}

/** Plain data of a control plane (for the state file). */
export function controlPlaneInfo(cp: ControlPlaneInfo): ControlPlaneInfo {
  const { stop: _stop, ...info } = cp as ControlPlane;
  return info;
}

/**
 * Kills the processes listed in a control plane's pid file and removes its
 * folder. For teardown paths that lost the ControlPlane object.
 */
export function killFromPidFile(pidFile: string): void {
  let content: PidFile;
  try {
    content = JSON.parse(readFileSync(pidFile, 'utf8')) as PidFile;
  } catch {
    return;
  }
  for (const p of content.processes) if (isProcessOf(p.pid, p.bin)) killQuietly(p.pid, 'SIGKILL');
}

/**
 * Removes control planes whose owning process is gone (e.g. jest was killed
 * with SIGKILL before its teardown and the watchdog died with it too).
 */
export function reapStaleControlPlanes(baseDir = os.tmpdir(), log: (line: string) => void = () => {}): void {
  let entries: string[];
  try {
    entries = readdirSync(baseDir).filter((e) => e.startsWith(ROOT_PREFIX));
  } catch {
    return;
  }
  for (const entry of entries) {
    const dir = path.join(baseDir, entry);
    const pidFile = path.join(dir, 'pids.json');
    if (!existsSync(pidFile)) continue;
    let content: PidFile;
    try {
      content = JSON.parse(readFileSync(pidFile, 'utf8')) as PidFile;
    } catch {
      continue;
    }
    if (isAlive(content.ownerPid)) continue;
    const live = content.processes.filter((p) => isProcessOf(p.pid, p.bin));
    for (const p of live) killQuietly(p.pid, 'SIGKILL');
    if (live.length) log(`killed ${live.length} orphaned control-plane process(es) from ${dir}`);
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// binaries

function resolveBinaries(opts: ControlPlaneOptions, log: (line: string) => void): { kubeApiserver: string; etcd: string } {
  let kubeApiserver = opts.kubeApiserverBin ?? process.env.KUBE_APISERVER_BIN;
  let etcd = opts.etcdBin ?? process.env.ETCD_BIN;
  if (!kubeApiserver || !etcd) {
    const repoRoot = opts.repoRoot ?? findRepoRoot();
    const script = path.join(repoRoot, 'hack', 'build-controlplane.sh');
    log(`locating kube-apiserver and etcd with ${script} (a cold build takes several minutes)`);
    // stderr is inherited so that build progress is visible; stdout is the folder.
    const res = spawnSync('bash', [script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
    if (res.error) throw new Error(`could not run ${script}: ${res.error.message}`);
    if (res.status !== 0) throw new Error(`${script} failed with exit code ${res.status ?? res.signal}`);
    const dir = res.stdout.trim().split('\n').pop()?.trim();
    if (!dir) throw new Error(`${script} printed no folder`);
    kubeApiserver ??= path.join(dir, 'kube-apiserver');
    etcd ??= path.join(dir, 'etcd');
  }
  for (const [name, bin] of [['kube-apiserver', kubeApiserver], ['etcd', etcd]] as const) {
    if (!existsSync(bin)) throw new Error(`${name} binary not found at ${bin}`);
  }
  return { kubeApiserver, etcd };
}

function findRepoRoot(): string {
  // Walk up from the working directory to the folder that holds hack/build-controlplane.sh.
  let dir = process.cwd();
  for (;;) {
    if (existsSync(path.join(dir, 'hack', 'build-controlplane.sh'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find hack/build-controlplane.sh above the working directory; pass repoRoot');
    dir = parent;
  }
}

// ---------------------------------------------------------------------------
// processes

function spawnLogged(bin: string, args: string[], logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    const proc = spawn(bin, args, { stdio: ['ignore', fd, fd], detached: false });
    // Never keep the owner's event loop alive just for these.
    proc.unref();
    proc.on('error', () => {}); // surfaced by waitUntilReady through exitCode/log
    return proc;
  } finally {
    closeSync(fd);
  }
}

async function stopProcess(proc: ChildProcess, graceMs: number): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  killQuietly(proc.pid, 'SIGTERM');
  if (!(await exitsWithin(exited, graceMs))) {
    killQuietly(proc.pid, 'SIGKILL');
    await exitsWithin(exited, 5_000);
  }
}

/** Whether `exited` settles within ms; leaves no timer behind either way. */
async function exitsWithin(exited: Promise<void>, ms: number): Promise<boolean> {
  const ac = new AbortController();
  try {
    return await Promise.race([
      exited.then(() => true),
      sleep(ms, false, { signal: ac.signal }),
    ]);
  } finally {
    ac.abort();
  }
}

function killQuietly(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when pid is alive and runs bin (guards against pid reuse). */
function isProcessOf(pid: number, bin: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.split('\0')[0] === bin;
  } catch {
    // No /proc (not Linux): trust the pid.
    return process.platform !== 'linux';
  }
}

// A small node process that kills the control plane if its owner dies
// without stopping it (jest killed with SIGKILL, a crash, Ctrl-C). It reads
// its stdin, a pipe from the owner: when the pipe closes before the owner
// said "dismiss", it kills the processes (SIGTERM, then SIGKILL after 5 s).
const WATCHDOG_SOURCE = `
const fs = require('node:fs');
let procs = JSON.parse(process.argv[1]);
let dismissed = false, reaping = false, buf = '';
const owns = (p) => { try { return fs.readFileSync('/proc/' + p.pid + '/cmdline', 'utf8').split('\\0')[0] === p.bin; } catch { return process.platform !== 'linux'; } };
const kill = (sig) => { for (const p of procs) { try { if (owns(p)) process.kill(p.pid, sig); } catch {} } };
const reap = () => {
  if (dismissed || reaping) return;
  reaping = true;
  kill('SIGTERM');
  const started = Date.now();
  setInterval(() => {
    if (!procs.some(owns)) process.exit(0);
    if (Date.now() - started > 5000) { kill('SIGKILL'); process.exit(0); }
  }, 100);
};
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const line = buf.slice(0, i); buf = buf.slice(i + 1);
    if (line === 'dismiss') { dismissed = true; process.exit(0); }
    if (line.startsWith('pids ')) procs.push(JSON.parse(line.slice(5)));
  }
});
process.stdin.on('end', reap);
process.stdin.on('close', reap);
process.stdin.on('error', reap);
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, reap);
`;

function startWatchdog(procs: Array<{ pid: number; bin: string }>): ChildProcess {
  const wd = spawn(process.execPath, ['-e', WATCHDOG_SOURCE, JSON.stringify(procs)], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: false,
  });
  wd.on('error', () => {});
  wd.stdin?.on('error', () => {});
  wd.unref();
  (wd.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return wd;
}

/**
 * Runs start() again (up to 3 tries) when the process it started exited
 * because a port picked by freePorts() was taken in the meantime. The log of
 * a failed try is kept as <log>.tryN.
 */
async function retryOnPortClash<T>(logFile: string, start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= 3 || !/address already in use/.test(tail(logFile, 40))) throw err;
      renameSync(logFile, `${logFile}.try${attempt}`);
    }
  }
}

interface ReadyWait {
  name: string;
  proc: ChildProcess;
  logFile: string;
  timeoutMs: number;
  /** Resolves true when ready; false or a throw (its message is kept for the timeout error) when not yet. */
  probe: () => Promise<boolean>;
}

async function waitUntilReady(w: ReadyWait): Promise<void> {
  const deadline = performance.now() + w.timeoutMs;
  let lastError = '';
  for (;;) {
    if (w.proc.exitCode !== null || w.proc.signalCode !== null) {
      throw new Error(
        `${w.name} exited (${w.proc.exitCode ?? w.proc.signalCode}) before it was ready. ` +
          `Log ${w.logFile}, last lines:\n${tail(w.logFile, 40)}`,
      );
    }
    try {
      if (await w.probe()) return;
      lastError = 'not ready yet';
    } catch (e) {
      lastError = (e as Error).message;
    }
    if (performance.now() > deadline) {
      throw new Error(
        `${w.name} was not ready within ${Math.round(w.timeoutMs / 1000)} s (last probe: ${lastError}). ` +
          `Log ${w.logFile}, last lines:\n${tail(w.logFile, 40)}`,
      );
    }
    await sleep(100);
  }
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch (e) {
    return `(cannot read: ${(e as Error).message})`;
  }
}

// ---------------------------------------------------------------------------
// network

async function freePorts(n: number): Promise<number[]> {
  // Hold all listeners open until every port is known, so the n ports differ.
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const srv = net.createServer();
      servers.push(srv);
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', () => resolve());
      });
      ports.push((srv.address() as net.AddressInfo).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

interface HttpResult {
  status: number;
  body: string;
}

function httpGet(url: string, o: { token?: string; insecure?: boolean; ca?: string }): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = {};
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    const reqOpts: https.RequestOptions = { method: 'GET', headers, timeout: 5_000, agent: false };
    if (u.protocol === 'https:') {
      reqOpts.rejectUnauthorized = !o.insecure;
      if (o.ca) reqOpts.ca = o.ca;
    }
    const req = mod.request(u, reqOpts, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * The apiserver's self-made apiserver.crt holds the serving cert followed by
 * its CA. Returns the CA's PEM when a request verified with it succeeds;
 * otherwise undefined (kubeconfigs then skip TLS verification).
 */
async function readServingCa(certFile: string, url: string, token: string): Promise<string | undefined> {
  try {
    const pems = readFileSync(certFile, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
    const ca = pems.find((p) => new X509Certificate(p).ca);
    if (!ca) return undefined;
    const res = await httpGet(`${url}/readyz`, { token, ca });
    return res.status === 200 ? ca : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// kubeconfig

interface KubeconfigDoc {
  'current-context'?: string;
  contexts?: Array<{ name: string; context?: { cluster: string; user: string; namespace?: string } }>;
  clusters?: Array<{ name: string; cluster?: Record<string, unknown> & { server?: string } }>;
  users?: Array<{ name: string; user?: Record<string, unknown> }>;
}

function kubeconfigYaml(o: { url: string; caData: string | undefined; user: string; token: string }): string {
  const cluster: Record<string, unknown> = { server: o.url };
  if (o.caData) cluster['certificate-authority-data'] = Buffer.from(o.caData).toString('base64');
  else cluster['insecure-skip-tls-verify'] = true;
  return yaml.dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'llmroute-e2e', cluster }],
    users: [{ name: o.user, user: { token: o.token } }],
    contexts: [{ name: `${o.user}@llmroute-e2e`, context: { cluster: 'llmroute-e2e', user: o.user, namespace: 'default' } }],
    'current-context': `${o.user}@llmroute-e2e`,
  });
}

/** Defaults overridden by flag name: `--x=1` in extra replaces `--x=...` in defaults. */
function mergeFlags(defaults: string[], extra: string[]): string[] {
  const name = (f: string) => f.split('=')[0];
  const overridden = new Set(extra.map(name));
  return [...defaults.filter((f) => !overridden.has(name(f))), ...extra];
}
