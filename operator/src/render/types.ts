/**
 * The values rendering works on. Everything here is plain data: no clients,
 * no clocks. Secret values stay base64, exactly as in a Secret's `data`, so
 * bytes are copied without re-encoding.
 */
import type { Condition, LLMRouteStatus } from '../../../api/v1alpha1/types.ts';

/** One Secret's `data`: key → base64 value. */
export type SecretData = Readonly<Record<string, string>>;

/** The Secrets of one namespace, by name. */
export type NamespaceSecrets = ReadonlyMap<string, SecretData>;

/** What the operator writes to an LLMRoute's status (the CRD also has `primary`). */
export interface RouteStatus extends LLMRouteStatus {
  observedGeneration?: number;
  targets: number;
  /** `provider/model` of the first target in spec order. */
  primary?: string;
  conditions: Condition[];
}

export interface NamespaceRender {
  /** config.yaml for the sidecar; byte-identical for an unchanged input. */
  configYaml: string;
  /** The credentials Secret's `data`: file key → base64 value, only keys the config references. */
  credentials: Record<string, string>;
  /** Per LLMRoute name. */
  statuses: Map<string, RouteStatus>;
  /** Names of the routes that made it into config.yaml, sorted. */
  rendered: string[];
}
