#!/usr/bin/env node
/**
 * llmroute-operator: the process edge. Parses the command line, loads the
 * kubeconfig, starts the operator, logs JSON lines to stdout, and shuts down
 * gracefully on SIGTERM/SIGINT (reconciles finish, the Lease is released).
 * Exit codes: 0 after a clean shutdown, 2 for a usage error, 1 otherwise.
 */
import { packageVersion } from '../../common/version.ts';
import { existsSync, readFileSync } from 'node:fs';
import { inClusterAccess, kubeconfigAccess, kubeConfigAccess, type ClusterAccess } from './kube/cluster-access.ts';
import { kubeconfigSource } from './kube/kubeconfig-source.ts';
import { createLogger } from '../../common/log.ts';
import { parseArgs, USAGE } from './args.ts';
import { commandLine } from '../../common/cli-flags.ts';
import { runCommand, untilStopSignal } from '../../common/process-main.ts';
import { startOperator } from './operator.ts';
import { keyDestinations } from './render/key-destinations.ts';
import { KubeClient } from './kube/kube-client.ts';
import { startWebhook, type WebhookHandle } from './webhook/start.ts';

async function main(): Promise<number> {
  const cmd = commandLine('llmroute-operator', USAGE, () => parseArgs(process.argv.slice(2), process.env), packageVersion);
  if ('exit' in cmd) return cmd.exit;
  const { args } = cmd;

  const log = createLogger(args.logLevel, undefined, 'operator');
  const source = kubeconfigSource(args.kubeconfig, process.env, existsSync);
  let problem = source.kind === 'none' ? source.problem : undefined;
  let kc: ClusterAccess | undefined;
  const where = source.kind === 'file' ? source.path : 'the in-cluster config';
  try {
    if (source.kind === 'in-cluster') kc = inClusterAccess();
    else if (source.kind === 'file') {
      const read = kubeconfigAccess(readFileSync(source.path, 'utf8'), source.path);
      if ('access' in read) kc = read.access;
      else if ('problem' in read) problem = `${where}: ${read.problem}`;
      else {
        // Exec plugins, auth providers, proxies: client-node knows them (and costs its load).
        log.info('the kubeconfig needs @kubernetes/client-node', { uses: read.unsupported });
        const { KubeConfig } = await import('@kubernetes/client-node');
        const full = new KubeConfig();
        full.loadFromFile(source.path);
        if (!full.getCurrentCluster()) problem = `${where}: no current cluster`;
        else kc = kubeConfigAccess(full);
      }
    }
  } catch (err) {
    problem = `${where}: ${(err as Error).message}`;
  }
  if (problem || !kc) {
    log.error('cannot load a kubeconfig', { error: problem });
    process.stderr.write(`llmroute-operator: cannot load a kubeconfig: ${problem}\n`);
    return 1;
  }

  let operator;
  try {
    operator = await startOperator({
      kubeConfig: kc,
      log,
      namespaces: args.namespaces,
      metricsPort: args.metricsPort,
      metricsHost: args.metricsHost,
      leaderElection: args.leaderElect,
      leaseNamespace: args.leaderElectionNamespace,
      leaseName: args.leaseName,
      resyncMs: args.resyncMs,
      writeQps: args.writeQps,
      writeBurst: args.writeBurst,
      identity: args.identity,
      leaseOwnerPod: args.pod,
      defaultMetrics: true,
      keyDestinations: args.allowedBaseUrlHosts ? keyDestinations(args.allowedBaseUrlHosts) : undefined,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    log.error('cannot start', { error: e.message, code: e.code });
    process.stderr.write(`llmroute-operator: cannot start: ${e.message}\n`);
    return 1;
  }

  // The webhook runs on every replica (not only the leader): the API server may call any of them.
  let webhook: WebhookHandle | undefined;
  if (args.sidecarImage) {
    try {
      webhook = await startWebhook({
        port: args.webhookPort,
        sidecarImage: args.sidecarImage,
        sidecarImagePullPolicy: args.sidecarImagePullPolicy,
        log,
        tls: args.webhookCertDir
          ? { mode: 'files', certDir: args.webhookCertDir }
          : {
              mode: 'managed',
              kube: new KubeClient(kc),
              namespace: process.env.POD_NAMESPACE || args.leaderElectionNamespace,
              serviceName: args.webhookService,
              secretName: args.webhookSecret,
              webhookConfigName: args.webhookConfigName,
            },
      });
      log.info('sidecar-injection webhook listening', { port: webhook.port, image: args.sidecarImage });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      log.error('cannot start the webhook', { error: e.message, code: e.code });
      process.stderr.write(`llmroute-operator: cannot start the webhook: ${e.message}\n`);
      await operator.stop().catch(() => undefined);
      return 1;
    }
  } else {
    log.info('no --sidecar-image: the sidecar-injection webhook is off');
  }

  return untilStopSignal(
    log,
    () =>
      new Promise<number>((resolve, reject) => {
        const force = setTimeout(() => {
          log.error('shutdown took too long; exiting');
          resolve(1);
        }, 25_000);
        force.unref();
        Promise.all([operator.stop(), webhook?.stop()]).then(() => resolve(0), reject);
      }),
    1,
  );
}

const crashLog = createLogger('error', undefined, 'operator');
process.on('unhandledRejection', (err) => {
  crashLog.error('unhandled rejection', { error: (err as Error)?.message ?? String(err) });
});

runCommand('llmroute-operator', main);
