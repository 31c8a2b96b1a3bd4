/**
 * Starts one operator replica: the controller's caches, the health/metrics
 * server and leader election; the controller reconciles only while this
 * replica leads. stop() shuts down in order: readiness off, reconciles
 * finish, the Lease is released (another replica takes over at once),
 * watches stop, the port closes.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { realClock, type Clock } from '../../common/clock.ts';
import type { Logger } from '../../common/log.ts';
import { LLMRouteController } from './controller/controller.ts';
import type { ClusterWriter } from './controller/cluster-writer.ts';
import { kubeClusterWriter } from './controller/kube-cluster-writer.ts';
import type { ClusterAccess } from './kube/cluster-access.ts';
import { KubeClient } from './kube/kube-client.ts';
import { kubeListWatch, type ListWatchFactory } from './kube/kube-list-watch.ts';
import type { KeyDestinations } from './render/key-destinations.ts';
import { TokenBucket } from './kube/token-bucket.ts';
import { LeaderElector } from './leader/leader-elector.ts';
import { startHealthServer, type HealthServer } from './server/health-server.ts';
import { OperatorMetrics } from './server/metrics.ts';

export interface OperatorOptions {
  /** A ClusterAccess (what the CLI makes), or a client-node KubeConfig (tests). */
  kubeConfig: ClusterAccess | KubeConfig;
  log: Logger;
  /** Namespaces to watch; empty: all. */
  namespaces?: readonly string[];
  /** 0 picks a free port; undefined serves no port at all. */
  metricsPort?: number | undefined;
  metricsHost?: string;
  leaderElection?: boolean;
  leaseNamespace?: string;
  leaseName?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  resyncMs?: number;
  identity?: string | undefined;
  /** This replica's Pod: the leader makes it the Lease's owner, so the Lease goes with the last pod that held it (helm uninstall). */
  leaseOwnerPod?: { name: string; uid: string } | undefined;
  watchTimeoutSeconds?: number;
  /** Process metrics (CPU, memory, event loop) too. */
  defaultMetrics?: boolean;
  /** Override the writes (tests). */
  writer?: ClusterWriter;
  /** For the reflectors, the work queue and leader election; default realClock. */
  clock?: Clock;
  /** Where keys may go (--allowed-base-url-hosts); default the public endpoints. */
  keyDestinations?: KeyDestinations | undefined;
  /** Writes a second (a token bucket); 0: no limit. Default 50. */
  writeQps?: number;
  /** Writes that may go at once after a quiet spell; default 100. */
  writeBurst?: number;
}

export interface Operator {
  readonly identity: string;
  readonly metrics: OperatorMetrics;
  readonly controller: LLMRouteController;
  /** The health/metrics port, when served. */
  readonly port: number | undefined;
  isLeader(): boolean;
  ready(): boolean;
  stop(): Promise<void>;
}

export function defaultIdentity(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export async function startOperator(o: OperatorOptions): Promise<Operator> {
  const identity = o.identity ?? defaultIdentity();
  const log = o.log;
  const metrics = new OperatorMetrics({ defaultMetrics: o.defaultMetrics ?? false });
  const clock = o.clock ?? realClock;
  const client = new KubeClient(o.kubeConfig, { onRequest: (k) => metrics.kubeRequests.inc({ verb: k.verb, resource: k.resource }) });
  const listWatch: ListWatchFactory = (path, lw) => kubeListWatch(client, path, { watchTimeoutSeconds: o.watchTimeoutSeconds, ...lw });
  const controller = new LLMRouteController({
    listWatch,
    writer:
      o.writer ??
      kubeClusterWriter(
        client,
        (kind, verb) => metrics.writes.inc({ kind, verb }),
        new TokenBucket({ ratePerSecond: o.writeQps ?? 50, burst: o.writeBurst ?? 100, clock }),
      ),
    namespaces: o.namespaces ?? [],
    log,
    metrics,
    identity,
    resyncMs: o.resyncMs ?? 5 * 60_000,
    clock,
    keyDestinations: o.keyDestinations,
  });

  let stopping = false;
  let leading = false;
  const ready = () => !stopping && controller.synced;
  let health: HealthServer | undefined;
  if (o.metricsPort !== undefined) health = await startHealthServer({ port: o.metricsPort, host: o.metricsHost ?? '0.0.0.0', metrics, ready });

  controller.start();
  const lead = () => {
    leading = true;
    metrics.leader.set(1);
    controller.startWorkers();
  };
  const follow = () => {
    leading = false;
    metrics.leader.set(0);
    void controller.stopWorkers();
  };

  let elector: LeaderElector | undefined;
  if (o.leaderElection ?? true) {
    elector = new LeaderElector({
      client,
      namespace: o.leaseNamespace ?? 'llmroute-system',
      name: o.leaseName ?? 'llmroute-operator',
      identity,
      log,
      ...(o.leaseOwnerPod ? { ownerPod: o.leaseOwnerPod } : {}),
      ...(o.leaseDurationMs !== undefined ? { leaseDurationMs: o.leaseDurationMs } : {}),
      ...(o.renewDeadlineMs !== undefined ? { renewDeadlineMs: o.renewDeadlineMs } : {}),
      ...(o.retryPeriodMs !== undefined ? { retryPeriodMs: o.retryPeriodMs } : {}),
      onStartedLeading: lead,
      onStoppedLeading: follow,
      clock,
    });
    elector.start();
  } else {
    lead();
  }
  log.info('llmroute operator started', {
    identity,
    namespaces: o.namespaces?.length ? o.namespaces : 'all',
    leaderElection: elector ? `${o.leaseNamespace ?? 'llmroute-system'}/${o.leaseName ?? 'llmroute-operator'}` : 'off',
    port: health?.port,
  });

  let stopped: Promise<void> | undefined;
  return {
    identity,
    metrics,
    controller,
    port: health?.port,
    isLeader: () => leading,
    ready,
    stop: () =>
      (stopped ??= (async () => {
        stopping = true;
        await controller.stopWorkers();
        await elector?.stop();
        leading = false;
        metrics.leader.set(0);
        await controller.stop();
        client.close();
        await health?.close();
        log.info('llmroute operator stopped', { identity });
      })()),
  };
}
