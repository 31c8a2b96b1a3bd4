/**
 * The operator's typed errors. Each is a LlmrouteError (common/errors.ts)
 * whose `code`, one of OperatorErrorCode, is what logs, metrics and tests
 * key on; messages are built from names (namespaces, routes, Secrets,
 * keys), never from Secret values.
 */
import { LlmrouteError } from '../../common/errors.ts';

/** Every code an operator error can carry, grouped by where it is thrown. */
export type OperatorErrorCode =
  // render/: renderNamespace was handed routes it cannot work on
  | 'render_input'
  // kube/: a Kubernetes API call failed with an HTTP status, or below HTTP
  | 'kube_api'
  | 'kube_transport'
  // kube/reflector.ts: a watch ended sooner than minWatchMs after it opened
  | 'watch_closed'
  // the command line: no usable cluster credentials
  | 'kubeconfig'
  // render/key-destinations.ts: an --allowed-base-url-hosts entry that is not a host rule
  | 'host_rule'
  // inject/json-patch.ts: an operation does not apply
  | 'json_patch'
  // inject/errors.ts (InjectionErrorCode)
  | 'inject_invalid_annotation'
  | 'inject_conflict'
  | 'inject_invalid_pod'
  // webhook/: starting, the certificate folder, the TLS Secret
  | 'webhook_start'
  | 'webhook_cert_dir'
  | 'webhook_tls_conflict'
  | 'webhook_tls_api';

export class OperatorError<Code extends OperatorErrorCode = OperatorErrorCode> extends LlmrouteError<Code> {}

/** The command line cannot be understood (exit code 2). */
export { UsageError } from '../../common/cli-flags.ts';

/** renderNamespace was handed LLMRoutes of more than one namespace, or of none. */
export class RenderInputError extends OperatorError<'render_input'> {
  constructor(message: string) {
    super('render_input', message);
  }
}

/** A Kubernetes API call failed with an HTTP status (or a watch ERROR event). */
export class KubeApiError extends OperatorError<'kube_api'> {
  readonly status: number;
  /** The Status object's reason: NotFound, Conflict, Forbidden, Expired, Gone... */
  readonly reason: string;
  /** details.causes[].reason of the Status, e.g. NamespaceTerminating. */
  readonly causes: readonly string[];
  readonly method: string;
  readonly path: string;
  constructor(o: { status: number; reason?: string | undefined; message: string; method: string; path: string; causes?: string[] | undefined }) {
    super('kube_api', `${o.method} ${o.path}: HTTP ${o.status}${o.reason ? ` ${o.reason}` : ''}: ${o.message}`);
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

/**
 * A request to the API server failed below HTTP (refused, reset, TLS,
 * timeout). `cause`: the underlying error, or a sentence saying what went
 * wrong when there is none.
 */
export class KubeTransportError extends OperatorError<'kube_transport'> {
  constructor(method: string, path: string, cause: unknown) {
    super('kube_transport', `${method} ${path}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

/** A watch that the server ended at once (counted as a failure, so the reflector backs off). */
export class WatchClosedError extends OperatorError<'watch_closed'> {
  constructor() {
    super('watch_closed', 'the watch closed at once');
  }
}
