/**
 * The aws-auth ConfigMap (kube-system/aws-auth), for clusters without EKS access entries. platctl merges its
 * own mapRoles/mapUsers entries in and lists them in the annotation `platctl.io/managed-entries`, so it only
 * ever changes or removes what it added; entries anyone else wrote are left exactly as they are. Read-only
 * users get the group `platctl:read-only`, bound to the built-in `view` ClusterRole.
 */
import { parse, stringify } from 'yaml';
import { type KubeClient, type KubeObject, retryOnConflict } from '../clients/kube.js';
import type { Grant } from './eks-access.js';

/** The ConfigMap. */
export const AWS_AUTH_REF = { apiVersion: 'v1', kind: 'ConfigMap', name: 'aws-auth', namespace: 'kube-system' };
/** JSON list of the mapRoles/mapUsers ARNs platctl added. */
export const MANAGED_ANNOTATION = 'platctl.io/managed-entries';
/** Set when platctl created the ConfigMap (it then deletes it once its last entry is gone). */
export const CREATED_ANNOTATION = 'platctl.io/created';
/** Group of read-only principals. */
export const READ_ONLY_GROUP = 'platctl:read-only';
/** The ClusterRoleBinding giving {@link READ_ONLY_GROUP} the built-in `view` ClusterRole. */
export const READ_ONLY_BINDING = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  name: 'platctl-read-only',
};

/** One mapRoles/mapUsers item. */
export interface MapEntry {
  rolearn?: string;
  userarn?: string;
  username: string;
  groups: string[];
}

const arnOf = (e: MapEntry) => e.rolearn ?? e.userarn ?? '';

/** The ARN aws-auth matches: role ARNs without their path (arn:…:role/a/b/name → arn:…:role/name). */
export function awsAuthArn(principal: string): string {
  return principal.replace(/:role\/(?:.+\/)?([^/]+)$/, ':role/$1');
}

/** The mapRoles or mapUsers item for a grant. */
export function mapEntryFor(g: Grant): MapEntry {
  const isRole = /:role\//.test(g.principal);
  const prefix = g.role === 'admin' ? 'platctl-admin' : 'platctl-read-only';
  const groups = g.role === 'admin' ? ['system:masters'] : [READ_ONLY_GROUP];
  const arn = awsAuthArn(g.principal);
  return isRole
    ? { rolearn: arn, username: `${prefix}:{{SessionName}}`, groups }
    : { userarn: arn, username: `${prefix}:${arn.split('/').pop()}`, groups };
}

/** The ConfigMap as platctl sees it. */
export interface AwsAuthState {
  cm?: KubeObject & { data?: Record<string, string> };
  roles: MapEntry[];
  users: MapEntry[];
  /** ARNs platctl added (from the annotation). */
  managed: string[];
}

const parseList = (text: string | undefined): MapEntry[] => {
  const v = text ? (parse(text) as unknown) : [];
  return Array.isArray(v) ? (v as MapEntry[]) : [];
};

/** Reads the ConfigMap (one request). */
export async function readAwsAuth(kube: KubeClient): Promise<AwsAuthState> {
  const cm = await kube.get<KubeObject & { data?: Record<string, string> }>(AWS_AUTH_REF);
  let managed: string[] = [];
  try {
    managed = JSON.parse(cm?.metadata.annotations?.[MANAGED_ANNOTATION] ?? '[]') as string[];
  } catch {
    // an unreadable annotation: treat nothing as ours rather than guess
  }
  return { cm, roles: parseList(cm?.data?.mapRoles), users: parseList(cm?.data?.mapUsers), managed };
}

/** What a merge would do. */
export interface AwsAuthPlan {
  roles: MapEntry[];
  users: MapEntry[];
  managed: string[];
  changes: string[];
  /** Desired principals that already have an entry someone else wrote (left alone). */
  foreign: string[];
}

const same = (a: MapEntry, b: MapEntry) => JSON.stringify(a) === JSON.stringify(b);

/** Merges the grants into the state: add or fix platctl's entries, drop platctl's entries no longer wanted. */
export function planAwsAuth(state: AwsAuthState, grants: Grant[]): AwsAuthPlan {
  const want = new Map(grants.map((g) => [awsAuthArn(g.principal), mapEntryFor(g)]));
  const managed = new Set(state.managed);
  const changes: string[] = [];
  const foreign: string[] = [];
  const merge = (list: MapEntry[], key: 'rolearn' | 'userarn', label: string): MapEntry[] => {
    const out: MapEntry[] = [];
    for (const e of list) {
      const arn = arnOf(e);
      const desired = want.get(arn);
      if (!managed.has(arn)) {
        if (desired && (desired[key] ?? '') === arn) foreign.push(arn);
        out.push(e);
      } else if (!desired) {
        changes.push(`- aws-auth ${label} ${arn}`);
        managed.delete(arn);
      } else {
        if (!same(e, desired)) changes.push(`~ aws-auth ${label} ${arn}`);
        out.push(desired);
      }
    }
    for (const [arn, desired] of want) {
      if (desired[key] === undefined || list.some((e) => arnOf(e) === arn)) continue;
      changes.push(`+ aws-auth ${label} ${arn} (${desired.groups.join(',')})`);
      out.push(desired);
      managed.add(arn);
    }
    return out;
  };
  const roles = merge(state.roles, 'rolearn', 'mapRoles');
  const users = merge(state.users, 'userarn', 'mapUsers');
  // Entries listed as managed but gone from the ConfigMap (someone removed them): forget them.
  for (const arn of managed) if (![...roles, ...users].some((e) => arnOf(e) === arn)) managed.delete(arn);
  return { roles, users, managed: [...managed].sort(), changes, foreign };
}

/** Writes a plan: creates the ConfigMap, replaces it (optimistic concurrency), or deletes it when platctl made it and nothing is left. */
export async function writeAwsAuth(kube: KubeClient, state: AwsAuthState, plan: AwsAuthPlan): Promise<void> {
  const data: Record<string, string> = { ...(state.cm?.data ?? {}) };
  const put = (key: string, list: MapEntry[], had: boolean) => {
    if (list.length > 0 || had) data[key] = list.length > 0 ? stringify(list) : '[]\n';
    else delete data[key];
  };
  put('mapRoles', plan.roles, state.cm?.data?.mapRoles !== undefined);
  put('mapUsers', plan.users, state.cm?.data?.mapUsers !== undefined);
  const annotations = { ...(state.cm?.metadata.annotations ?? {}), [MANAGED_ANNOTATION]: JSON.stringify(plan.managed) };
  if (!state.cm) {
    await kube.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'aws-auth',
        namespace: 'kube-system',
        annotations: { ...annotations, [CREATED_ANNOTATION]: 'true' },
      },
      data,
    });
    return;
  }
  const createdByUs = state.cm.metadata.annotations?.[CREATED_ANNOTATION] === 'true';
  if (createdByUs && plan.roles.length === 0 && plan.users.length === 0) {
    await kube.delete(AWS_AUTH_REF);
    return;
  }
  await kube.replace({ ...state.cm, metadata: { ...state.cm.metadata, annotations }, data });
}

/** Reads, merges and writes, retrying once when someone else wrote the ConfigMap in between. */
export async function applyAwsAuth(kube: KubeClient, grants: Grant[]): Promise<AwsAuthPlan> {
  return retryOnConflict(
    async () => {
      const state = await readAwsAuth(kube);
      const plan = planAwsAuth(state, grants);
      if (plan.changes.length === 0 && JSON.stringify(plan.managed) === JSON.stringify(state.managed)) return plan;
      await writeAwsAuth(kube, state, plan);
      return plan;
    },
    { attempts: 2 },
  );
}

/** The ClusterRoleBinding giving the read-only group `view`. */
export function readOnlyBinding(): KubeObject {
  return {
    apiVersion: READ_ONLY_BINDING.apiVersion,
    kind: READ_ONLY_BINDING.kind,
    metadata: { name: READ_ONLY_BINDING.name, labels: { 'app.kubernetes.io/managed-by': 'platctl' } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: READ_ONLY_GROUP }],
  };
}
