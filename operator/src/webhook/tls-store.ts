/**
 * Where the webhook's TLS material lives in the cluster: one Secret in the
 * operator's namespace (shared by every replica) and the caBundle of the
 * operator's own MutatingWebhookConfiguration. Only get and update of those
 * two named objects (RBAC restricted by resourceNames), plus create of the
 * Secret when it does not exist yet (the chart creates it empty, so that
 * `helm uninstall` deletes it; an install without the chart has the
 * operator create it).
 */
import { WebhookTlsError } from './errors.ts';
import type { TlsMaterial } from './tls-rotation.ts';

/** What the store needs of a Kubernetes client: the operator's KubeClient fits. */
export interface KubeRequester {
  request<T>(method: string, path: string, o?: { body?: unknown; contentType?: string; query?: Record<string, string | number | boolean | undefined> }): Promise<T>;
}

export interface SecretObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>; [k: string]: unknown };
  type?: string;
  data?: Record<string, string>;
  [k: string]: unknown;
}

export interface WebhookConfigurationObject {
  metadata: { name: string; resourceVersion?: string; [k: string]: unknown };
  webhooks?: Array<{ name: string; clientConfig?: { caBundle?: string; [k: string]: unknown }; [k: string]: unknown }>;
  [k: string]: unknown;
}

export interface TlsStoreNames {
  namespace: string;
  secretName: string;
  webhookConfigName: string;
}

export const SECRET_KEYS = { caCert: 'ca.crt', caKey: 'ca.key', cert: 'tls.crt', key: 'tls.key' } as const;

const statusOf = (err: unknown): number | undefined =>
  err && typeof err === 'object' && typeof (err as { status?: unknown }).status === 'number' ? (err as { status: number }).status : undefined;

export function materialFromSecret(secret: SecretObject | undefined): Partial<TlsMaterial> | undefined {
  const d = secret?.data;
  if (!d) return undefined;
  const text = (k: string) => (d[k] ? Buffer.from(d[k], 'base64').toString('utf8') : '');
  return { caCertPem: text(SECRET_KEYS.caCert), caKeyPem: text(SECRET_KEYS.caKey), certPem: text(SECRET_KEYS.cert), keyPem: text(SECRET_KEYS.key) };
}

export function secretData(m: TlsMaterial): Record<string, string> {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  return { [SECRET_KEYS.caCert]: b64(m.caCertPem), [SECRET_KEYS.caKey]: b64(m.caKeyPem), [SECRET_KEYS.cert]: b64(m.certPem), [SECRET_KEYS.key]: b64(m.keyPem) };
}

/**
 * The message of a failed call, naming the request once: the KubeClient's
 * errors (KubeApiError, KubeTransportError) already begin with
 * "METHOD path: ", other errors get it here.
 */
export function failureMessage(method: string, path: string, err: unknown): string {
  const message = (err as Error)?.message ?? String(err);
  return message.startsWith(`${method} ${path}: `) ? message : `${method} ${path}: ${message}`;
}

export class WebhookTlsStore {
  readonly names: TlsStoreNames;
  readonly #kube: KubeRequester;

  constructor(kube: KubeRequester, names: TlsStoreNames) {
    this.#kube = kube;
    this.names = names;
  }

  get #secretPath(): string {
    return `/api/v1/namespaces/${encodeURIComponent(this.names.namespace)}/secrets/${encodeURIComponent(this.names.secretName)}`;
  }

  get #configPath(): string {
    return `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${encodeURIComponent(this.names.webhookConfigName)}`;
  }

  async readSecret(): Promise<SecretObject | undefined> {
    return this.#call('GET', this.#secretPath, undefined, true);
  }

  /**
   * Creates (when `existing` is undefined) or updates the Secret; a
   * concurrent write is a webhook_tls_conflict. The create is a server-side
   * apply (a PATCH): RBAC then checks `create` with the Secret's name, so the
   * rule can be limited by resourceNames, which a POST cannot be.
   */
  async writeSecret(existing: SecretObject | undefined, material: TlsMaterial): Promise<void> {
    const data = secretData(material);
    if (!existing) {
      const body: SecretObject = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: this.names.secretName, namespace: this.names.namespace, labels: { 'app.kubernetes.io/managed-by': 'llmroute-operator' } },
        type: 'Opaque',
        data,
      };
      await this.#call('PATCH', this.#secretPath, body, false, {
        contentType: 'application/apply-patch+yaml',
        query: { fieldManager: 'llmroute-webhook', force: true },
      });
      return;
    }
    await this.#call('PUT', this.#secretPath, { ...existing, data });
  }

  async readWebhookConfiguration(): Promise<WebhookConfigurationObject | undefined> {
    return this.#call('GET', this.#configPath, undefined, true);
  }

  async writeWebhookConfiguration(config: WebhookConfigurationObject): Promise<void> {
    await this.#call('PUT', this.#configPath, config);
  }

  async #call<T>(
    method: string,
    path: string,
    body?: unknown,
    notFoundIsUndefined = false,
    extra: { contentType?: string; query?: Record<string, string | boolean> } = {},
  ): Promise<T | undefined> {
    try {
      return await this.#kube.request<T>(method, path, { ...(body === undefined ? {} : { body }), ...extra });
    } catch (err) {
      const status = statusOf(err);
      if (notFoundIsUndefined && status === 404) return undefined;
      if (status === 409) throw new WebhookTlsError('webhook_tls_conflict', `${method} ${path}: changed concurrently`, { cause: err });
      throw new WebhookTlsError('webhook_tls_api', failureMessage(method, path, err), { cause: err });
    }
  }
}
