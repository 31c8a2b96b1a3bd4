/**
 * AdmissionReview v1 in, AdmissionReview v1 out, for pod creation. Pure:
 * the server does the HTTP, this decides.
 *
 *   - not an AdmissionReview v1 with a request uid: HTTP 400 (the API
 *     server counts that as a failed call and applies the failurePolicy);
 *   - not a pod CREATE, not opted in, already injected: allowed, no patch;
 *   - injectable: allowed with a base64 JSONPatch (and warnings, if any);
 *   - bad annotations or conflicts: denied (HTTP 200, allowed false, code
 *     400) with every problem in the message;
 *   - anything unexpected: HTTP 500, so the failurePolicy decides.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { InjectionError } from '../inject/errors.ts';
import type { InjectOptions } from '../inject/options.ts';
import { buildPodPatch } from '../inject/pod-patch.ts';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  patch?: string;
  warnings?: string[];
  status?: { code: number; reason: string; message: string };
}

export interface AdmissionOutcome {
  httpStatus: number;
  body: { apiVersion: string; kind: 'AdmissionReview'; response: AdmissionResponse } | { error: string };
  /** For the log line: what was decided and about what. Never holds pod specs or env values. */
  log: { decision: 'injected' | 'skipped' | 'denied' | 'bad-request' | 'error'; reason?: string; namespace?: string; pod?: string; uid?: string };
}

interface AdmissionRequest {
  uid?: unknown;
  kind?: { group?: string; version?: string; kind?: string };
  resource?: { group?: string; version?: string; resource?: string };
  subResource?: string;
  operation?: string;
  namespace?: string;
  name?: string;
  object?: unknown;
}

/** Kubernetes truncates longer warnings; keep each readable on a terminal. */
const MAX_WARNING = 256;

export function admitPod(review: unknown, options: InjectOptions): AdmissionOutcome {
  const r = review as { apiVersion?: unknown; kind?: unknown; request?: AdmissionRequest } | null;
  if (!r || typeof r !== 'object' || r.apiVersion !== ADMISSION_API_VERSION || r.kind !== 'AdmissionReview') {
    return badRequest(`expected an AdmissionReview of ${ADMISSION_API_VERSION}`);
  }
  const req = r.request;
  if (!req || typeof req !== 'object' || typeof req.uid !== 'string' || !req.uid) {
    return badRequest('the AdmissionReview has no request.uid');
  }
  const uid = req.uid;
  const obj = (req.object && typeof req.object === 'object' ? req.object : {}) as V1Pod;
  const where = {
    uid,
    ...(req.namespace ? { namespace: req.namespace } : {}),
    pod: obj.metadata?.name || (obj.metadata?.generateName ? `${obj.metadata.generateName}*` : req.name || ''),
  };
  const respond = (response: Omit<AdmissionResponse, 'uid'>, log: AdmissionOutcome['log']): AdmissionOutcome => ({
    httpStatus: 200,
    body: { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response: { uid, ...response } },
    log: { ...where, ...log },
  });

  const isPod = req.kind?.kind === 'Pod' && (req.kind.group ?? '') === '' && req.resource?.resource === 'pods' && !req.subResource;
  if (!isPod || req.operation !== 'CREATE') {
    return respond({ allowed: true }, { decision: 'skipped', reason: 'not a pod creation' });
  }
  try {
    const result = buildPodPatch(obj, options);
    if (result.action === 'skip') return respond({ allowed: true }, { decision: 'skipped', reason: result.reason });
    return respond(
      {
        allowed: true,
        patchType: 'JSONPatch',
        patch: Buffer.from(JSON.stringify(result.patch)).toString('base64'),
        ...(result.warnings.length ? { warnings: result.warnings.map((w) => `llmroute: ${w}`.slice(0, MAX_WARNING)) } : {}),
      },
      result.identityOnly ? { decision: 'injected', reason: 'identity-added' } : { decision: 'injected' },
    );
  } catch (err) {
    if (err instanceof InjectionError) {
      return respond(
        { allowed: false, status: { code: 400, reason: 'BadRequest', message: err.message } },
        { decision: 'denied', reason: err.code },
      );
    }
    return {
      httpStatus: 500,
      body: { error: 'internal error while injecting the pod' },
      log: { ...where, decision: 'error', reason: (err as Error)?.message ?? String(err) },
    };
  }
}

function badRequest(message: string): AdmissionOutcome {
  return { httpStatus: 400, body: { error: message }, log: { decision: 'bad-request', reason: message } };
}
