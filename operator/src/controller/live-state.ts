/**
 * The rendered objects as they are in the cluster (the caches of the
 * rendered ConfigMap and Secret), and whether a manifest the reconciler
 * would apply would change them. Server-side apply of identical content
 * is still a write the API server must process (and an etcd round trip
 * when anything like managedFields' time moves), so a resync or a new
 * leader's first pass compares first and writes only what differs. Pure.
 */
import { createHash } from 'node:crypto';

/** A rendered ConfigMap or Secret as the cache keeps it. */
export interface LiveRendered {
  metadata: { name: string; namespace?: string | undefined; resourceVersion?: string | undefined; uid?: string | undefined };
  /** A Secret's data as it is (the reconciler reads the current keys); absent for a ConfigMap. */
  data?: Record<string, string> | undefined;
  /** The data's fingerprint: of a ConfigMap only this is kept (its config.yaml can be large). */
  dataHash: string;
  /** uids of its ownerReferences. */
  ownerUids: string[];
  labels: Record<string, string>;
}

export function dataHash(data: Readonly<Record<string, string>> | undefined): string {
  const sorted = Object.keys(data ?? {})
    .sort()
    .map((k) => [k, data![k]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

type RenderedObject = {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; uid?: string; labels?: Record<string, string>; ownerReferences?: Array<{ uid?: string }> };
  data?: Record<string, string>;
};

/**
 * A ConfigMap or Secret trimmed for the cache: name, uid, resourceVersion,
 * labels, owner uids, the data's hash, and with keepData the data itself
 * (a Secret's: the reconciler reads its current keys).
 */
export function slimRendered(o: RenderedObject, keepData: boolean): LiveRendered {
  const m = o.metadata ?? {};
  const out: LiveRendered = {
    metadata: { name: m.name ?? '', namespace: m.namespace, resourceVersion: m.resourceVersion, uid: m.uid },
    dataHash: dataHash(o.data),
    ownerUids: (m.ownerReferences ?? []).map((r) => r.uid ?? '').filter(Boolean),
    labels: { ...(m.labels ?? {}) },
  };
  if (keepData) out.data = { ...(o.data ?? {}) };
  return out;
}

/** The rendered Secret for its cache (list items carry no kind: the transform says which it is). */
export const slimRenderedSecret = (o: RenderedObject): LiveRendered => slimRendered(o, true);
export const slimRenderedConfigMap = (o: RenderedObject): LiveRendered => slimRendered(o, false);

/**
 * Whether applying `desired` (a manifest, through slimRendered) would leave
 * `live` as it is: the same data, every label the manifest sets with its
 * value (others' labels are theirs: apply leaves them), and the same owners
 * (an owner the operator set before and no longer names is one apply
 * removes).
 */
export function isUpToDate(live: LiveRendered | undefined, desired: LiveRendered): boolean {
  if (!live || live.dataHash !== desired.dataHash) return false;
  for (const [k, v] of Object.entries(desired.labels)) if (live.labels[k] !== v) return false;
  const owners = new Set(live.ownerUids);
  return owners.size === desired.ownerUids.length && desired.ownerUids.every((u) => owners.has(u));
}
