/**
 * Puts the sidecar together: the config (and its watcher), target health
 * and round-robin weights, metrics and the request observer that feeds
 * them, the API server and the admin server. `startSidecar` listens;
 * `drain` is the SIGTERM path: fail /readyz, stop accepting, let requests
 * in flight finish (up to the drain timeout), then close.
 */
import { realClock } from '../../common/clock.ts';
import { ResponseStores } from './surfaces/response-stores.ts';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { createAdminServer } from './admin-server.ts';
import { createApiServer, type ApiServer } from './api-server.ts';
import { ConfigWatcher } from './config-watcher.ts';
import type { LoadedConfig } from './config/load-config.ts';
import type { RuntimeConfig } from './config/runtime-config.ts';
import type { Logger } from '../../common/log.ts';
import { Metrics } from './metrics.ts';
import { RoundRobinWeights } from './balancer.ts';
import { adapterFor } from './providers/index.ts';
import { MetricsLogObserver } from './request-observer.ts';
import { HealthRegistry } from './target-health.ts';
import { RouteBudgets } from './route-budgets.ts';
import { averageMs } from './latency-policy.ts';
import { closeUpstreams } from './upstream.ts';

export interface SidecarOptions {
  configPath: string;
  initial: LoadedConfig;
  log: Logger;
  /** Overrides of the config's addresses (command line). */
  host?: string | undefined;
  port?: number | undefined;
  adminHost?: string | undefined;
  adminPort?: number | undefined;
  drainTimeoutMs?: number;
  reloadIntervalMs?: number;
  env?: NodeJS.ProcessEnv;
  /** The API server's header timeout and connection-check interval (see ApiServerDeps); tests set them small. */
  headersTimeoutMs?: number | undefined;
  connectionsCheckingIntervalMs?: number | undefined;
}

export interface Sidecar {
  apiAddress: AddressInfo;
  adminAddress: AddressInfo;
  metrics: Metrics;
  current: () => RuntimeConfig;
  /** Stops taking requests and waits for those in flight. Resolves true when all finished in time. */
  drain: () => Promise<boolean>;
  /** Closes everything at once. */
  close: () => Promise<void>;
}

export async function startSidecar(o: SidecarOptions): Promise<Sidecar> {
  const log = o.log;
  const metrics = new Metrics();
  const health = new HealthRegistry();
  const weights = new RoundRobinWeights();
  const budgets = new RouteBudgets();
  const observer = new MetricsLogObserver(metrics, log);
  const responseStores = new ResponseStores(realClock);
  let config = o.initial.config;
  let draining = false;

  health.onCircuitChange = (target, state) => observer.circuitChanged(target, state);
  const adopt = (c: RuntimeConfig): void => {
    health.adopt(c);
    weights.adopt(c);
    budgets.adopt(c);
    const live = new Set<string>();
    for (const r of c.routes) {
      for (const t of r.targets) {
        live.add(`${r.name}\0${t.name}`);
        metrics.circuitState(r.name, t.name, health.get(t).breaker.state);
      }
    }
    metrics.forgetTargets(live);
    responseStores.retain(c.routes.map((r) => r.name));
    if (c.logLevel) log.level = c.logLevel;
  };
  adopt(config);
  metrics.reloads.inc({ result: 'ok' });

  const api: ApiServer = createApiServer({
    config: () => config,
    observer,
    isDraining: () => draining,
    headersTimeoutMs: o.headersTimeoutMs,
    connectionsCheckingIntervalMs: o.connectionsCheckingIntervalMs,
    health,
    weights,
    budgets,
    adapterFor,
    responseStores,
  });
  metrics.countInflightWith(api.inflight);
  metrics.latencyWith(function* () {
    const now = Date.now();
    for (const r of config.routes) {
      if (!r.latency) continue;
      for (const t of r.targets) {
        const stats = health.get(t).latency;
        for (const kind of ['stream', 'whole'] as const) {
          const ms = averageMs(stats, kind, now, r.latency);
          if (ms !== undefined) yield [r.name, t.name, kind, ms / 1000];
        }
      }
    }
  });
  metrics.countStoreBytesWith(() => responseStores.bytes);
  const admin = createAdminServer({ metrics, isReady: () => true, isDraining: () => draining });

  const watcher = new ConfigWatcher(
    o.configPath,
    o.initial,
    {
      onReload: (loaded) => {
        const before = config;
        if (loaded.config.listen.port !== before.listen.port || loaded.config.listen.host !== before.listen.host) {
          log.warn('listen address changes take effect only after a restart', { listen: loaded.config.listen });
        }
        config = loaded.config;
        adopt(config);
        metrics.reloads.inc({ result: 'ok' });
        log.info('config reloaded', { routes: config.routes.map((r) => r.name) });
      },
      onError: (err) => {
        metrics.reloads.inc({ result: 'error' });
        log.error('config refused; the last good config stays in force', { error: err.message, problems: err.problems });
      },
    },
    o.env,
  );

  const apiAddress = await listen(api.server, o.port ?? config.listen.port, o.host ?? config.listen.host);
  let adminAddress: AddressInfo;
  try {
    adminAddress = await listen(admin, o.adminPort ?? config.admin.port, o.adminHost ?? config.admin.host);
  } catch (err) {
    api.server.close();
    throw err;
  }
  watcher.start(o.reloadIntervalMs ?? 1000);
  log.info('llmroute sidecar listening', {
    api: `${apiAddress.address}:${apiAddress.port}`,
    admin: `${adminAddress.address}:${adminAddress.port}`,
    routes: config.routes.map((r) => r.name),
  });

  const closeAll = async (): Promise<void> => {
    watcher.stop();
    api.server.closeAllConnections();
    admin.closeAllConnections();
    await Promise.all([closeServer(api.server), closeServer(admin)]);
    await closeUpstreams();
    metrics.close();
  };

  return {
    apiAddress,
    adminAddress,
    metrics,
    current: () => config,
    drain: async () => {
      draining = true;
      api.closeConnectionsAfterResponse();
      log.info('draining: no new requests; waiting for those in flight', { inflight: api.inflight() });
      api.server.close();
      api.server.closeIdleConnections();
      // Ends the moment the last request in flight ends (at once when none is), or at the drain
      // timeout: a sidecar SIGTERMed on its own (not through pod deletion, the app still running)
      // refuses new work no longer than its requests in flight take, then exits and the kubelet
      // restarts it. A keep-alive connection that goes idle meanwhile is closed as its response ends.
      const onResponseEnd = () => api.server.closeIdleConnections();
      api.server.on('request', (_req, res: ServerResponse) => res.once('close', onResponseEnd));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, o.drainTimeoutMs ?? 30_000)));
      await Promise.race([api.idle(), timedOut]);
      clearTimeout(timer);
      const clean = api.inflight() === 0;
      if (!clean) log.warn('drain timeout: closing the requests still in flight', { inflight: api.inflight() });
      await closeAll();
      return clean;
    },
    close: closeAll,
  };
}

async function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  server.listen(port, host);
  await once(server, 'listening');
  return server.address() as AddressInfo;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}
