/**
 * The operator's typed errors. Each has a stable `code` that logs, metrics
 * and tests key on; messages are built from names (namespaces, routes,
 * Secrets, keys), never from Secret values.
 */
export class OperatorError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OperatorError';
    this.code = code;
  }
}

/** The command line cannot be understood (exit code 2). */
export { UsageError } from '../../common/cli-flags.ts';

/** renderNamespace was handed LLMRoutes of more than one namespace, or of none. */
export class RenderInputError extends OperatorError {
  constructor(message: string) {
    super('render_input', message);
    this.name = 'RenderInputError';
  }
}

/** A Kubernetes API call failed with an HTTP status (or a watch ERROR event). */
export class KubeApiError extends OperatorError {
  readonly status: number;
  /** The Status object's reason: NotFound, Conflict, Forbidden, Expired, Gone... */
  readonly reason: string;
  /** details.causes[].reason of the Status, e.g. NamespaceTerminating. */
  readonly causes: readonly string[];
  readonly method: string;
  readonly path: string;
  constructor(o: { status: number; reason?: string | undefined; message: string; method: string; path: string; causes?: string[] | undefined }) {
    super('kube_api', `${o.method} ${o.path}: HTTP ${o.status}${o.reason ? ` ${o.reason}` : ''}: ${o.message}`);
    this.name = 'KubeApiError';
    this.status = o.status;
    this.reason = o.reason ?? '';
    this.causes = o.causes ?? [];
    this.method = o.method;
    this.path = o.path;
  }

  /** 410 Gone / reason Expired: a resourceVersion or continue token is too old; relist. */
  get expired(): boolean {
    return this.status === 410 || this.reason === 'Expired' || this.reason === 'Gone';
  }

  get notFound(): boolean {
    return this.status === 404;
  }

  get conflict(): boolean {
    return this.status === 409;
  }

  /** Writes into a namespace that is being deleted are refused for good. */
  get namespaceTerminating(): boolean {
    return this.causes.includes('NamespaceTerminating') || /because it is being terminated/.test(this.message);
  }
}

/** A request to the API server failed below HTTP (refused, reset, TLS, timeout). */
export class KubeTransportError extends OperatorError {
  constructor(method: string, path: string, cause: unknown) {
    super('kube_transport', `${method} ${path}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'KubeTransportError';
  }
}
