/**
 * For e2e tests: small, typed steps against a real API server (as admin)
 * and an in-process operator whose log lines are kept for inspection.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { CREDENTIALS_LABEL, CREDENTIALS_LABEL_VALUE } from '../../../api/v1alpha1/enums.ts';
import type { ConfigFile, LLMRoute } from '../../../api/v1alpha1/types.ts';
import { createLogger, type Logger } from '../../../common/log.ts';
import { CONFIGMAP_NAME, CONFIG_KEY, CREDENTIALS_SECRET_NAME } from '../controller/manifests.ts';
import { KubeApiError } from '../errors.ts';
import { KubeClient } from '../kube/kube-client.ts';
import { configMapPath, llmRoutesPath, secretPath, secretsPath } from '../kube/paths.ts';
import { startOperator, type Operator, type OperatorOptions } from '../operator.ts';

export interface TestOperator extends Operator {
  logs: string[];
}

export async function startTestOperator(kc: KubeConfig, o: Omit<OperatorOptions, 'kubeConfig' | 'log'> & { log?: Logger }): Promise<TestOperator> {
  const logs: string[] = [];
  const log = o.log ?? createLogger('debug', (line) => logs.push(line), 'operator');
  const op = await startOperator({ metricsPort: 0, metricsHost: '127.0.0.1', resyncMs: 10 * 60_000, ...o, kubeConfig: kc, log });
  return Object.assign(op, { logs });
}

/** Admin-side steps on LLMRoutes, Secrets and the rendered objects. */
export class ClusterSteps {
  readonly api: KubeClient;
  constructor(kc: KubeConfig) {
    this.api = new KubeClient(kc);
  }

  close(): void {
    this.api.close();
  }

  /** Creates or replaces an LLMRoute's spec (server-side apply as "e2e-user"). */
  applyRoute(ns: string, name: string, spec: unknown): Promise<LLMRoute> {
    return this.api.request<LLMRoute>('PATCH', `${llmRoutesPath(ns)}/${name}`, {
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: 'e2e-user', force: true },
      body: { apiVersion: 'llmroute.dev/v1alpha1', kind: 'LLMRoute', metadata: { name, namespace: ns }, spec },
    });
  }

  getRoute(ns: string, name: string): Promise<LLMRoute & { status?: { primary?: string } }> {
    return this.api.request('GET', `${llmRoutesPath(ns)}/${name}`);
  }

  async deleteRoute(ns: string, name: string): Promise<void> {
    await this.api.request('DELETE', `${llmRoutesPath(ns)}/${name}`);
  }

  /** Creates or replaces a Secret from plain string values, labelled llmroute.dev/credentials=true unless `labelled: false`. */
  async putSecret(ns: string, name: string, values: Record<string, string>, o: { labelled?: boolean } = {}): Promise<void> {
    const labels = o.labelled === false ? {} : { [CREDENTIALS_LABEL]: CREDENTIALS_LABEL_VALUE };
    const body = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns, labels }, stringData: values, type: 'Opaque' };
    try {
      await this.api.request('POST', secretsPath(ns), { body });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.conflict)) throw err;
      // Replace the data whole (stringData merges into data on update; data: {} first drops old keys).
      await this.api.request('PUT', secretPath(ns, name), { body: { ...body, data: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString('base64')])), stringData: undefined } });
    }
  }

  /** Sets (true) or removes (false) a Secret's llmroute.dev/credentials label, as `kubectl label` does. */
  async labelSecret(ns: string, name: string, on: boolean): Promise<void> {
    await this.api.request('PATCH', secretPath(ns, name), {
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { [CREDENTIALS_LABEL]: on ? CREDENTIALS_LABEL_VALUE : null } } },
    });
  }

  async deleteSecret(ns: string, name: string): Promise<void> {
    await this.api.request('DELETE', secretPath(ns, name));
  }

  /** The rendered ConfigMap, or undefined when absent. */
  async renderedConfigMap(ns: string): Promise<{ text: string; config: ConfigFile; labels: Record<string, string>; owners: Array<{ name: string }> } | undefined> {
    try {
      const cm = await this.api.request<any>('GET', configMapPath(ns, CONFIGMAP_NAME));
      const text = cm.data?.[CONFIG_KEY] as string;
      return { text, config: yaml.load(text, { schema: yaml.CORE_SCHEMA }) as ConfigFile, labels: cm.metadata.labels ?? {}, owners: cm.metadata.ownerReferences ?? [] };
    } catch (err) {
      if (err instanceof KubeApiError && err.notFound) return undefined;
      throw err;
    }
  }

  /** The rendered credentials as plain strings, or undefined when the Secret is absent. */
  async renderedCredentials(ns: string): Promise<{ values: Record<string, string>; labels: Record<string, string> } | undefined> {
    try {
      const s = await this.api.request<any>('GET', secretPath(ns, CREDENTIALS_SECRET_NAME));
      const values = Object.fromEntries(Object.entries((s.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
      return { values, labels: s.metadata.labels ?? {} };
    } catch (err) {
      if (err instanceof KubeApiError && err.notFound) return undefined;
      throw err;
    }
  }

  /** Events recorded on an LLMRoute. */
  async routeEvents(ns: string, name: string): Promise<Array<{ type: string; reason: string; message: string; reportingInstance?: string }>> {
    const list = await this.api.request<any>('GET', `/api/v1/namespaces/${ns}/events`, {
      query: { fieldSelector: `involvedObject.kind=LLMRoute,involvedObject.name=${name}` },
    });
    return list.items;
  }
}

export function conditionOf(route: { status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> } }, type: string) {
  return route.status?.conditions?.find((c) => c.type === type);
}
