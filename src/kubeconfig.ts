/**
 * Writing platctl's entry into a user's kubeconfig without disturbing anything else: one cluster (server + CA),
 * one user whose exec plugin is `platctl eks token`, and one context named after the cluster. Every other
 * entry, key and comment is kept; the file is written atomically with mode 0600.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Document, parseDocument, YAMLSeq } from 'yaml';
import { PlatctlError } from './errors.js';
import { writeFileAtomic } from './fs-atomic.js';

/** The exec plugin API version platctl writes. */
export const EXEC_API_VERSION = 'client.authentication.k8s.io/v1beta1';

/** What platctl writes for one EKS cluster. */
export interface KubeconfigEntry {
  /** Context name: the cluster's name in platform.yaml. */
  context: string;
  /** Cluster and user entry name: the EKS cluster ARN (unique across accounts and regions). */
  name: string;
  server: string;
  /** base64 PEM, as DescribeCluster returns it. */
  caData: string;
  /** The EKS cluster name and region passed to `platctl eks token`. */
  cluster: string;
  region: string;
  roleArn?: string;
  /** AWS_PROFILE for the exec plugin. */
  profile?: string;
  /** The command kubectl runs; default "platctl". */
  command?: string;
}

/** The kubeconfig file to use: the explicit path, else KUBECONFIG's first file, else ~/.kube/config. */
export function kubeconfigPath(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return explicit;
  const first = env.KUBECONFIG?.split(path.delimiter).find(Boolean);
  return first ?? path.join(os.homedir(), '.kube', 'config');
}

/** The exec args for an entry: `eks token --cluster <c> --region <r> [--role-arn <arn>]`. */
export function execArgs(e: Pick<KubeconfigEntry, 'cluster' | 'region' | 'roleArn'>): string[] {
  return [
    'eks',
    'token',
    '--cluster',
    e.cluster,
    '--region',
    e.region,
    ...(e.roleArn ? ['--role-arn', e.roleArn] : []),
  ];
}

interface Named {
  name: string;
  [k: string]: unknown;
}

/** The three objects platctl writes, as plain JS. */
function entryObjects(e: KubeconfigEntry) {
  return {
    cluster: { name: e.name, cluster: { server: e.server, 'certificate-authority-data': e.caData } },
    user: {
      name: e.name,
      user: {
        exec: {
          apiVersion: EXEC_API_VERSION,
          command: e.command ?? 'platctl',
          args: execArgs(e),
          ...(e.profile ? { env: [{ name: 'AWS_PROFILE', value: e.profile }] } : {}),
          interactiveMode: 'Never',
          provideClusterInfo: false,
        },
      },
    },
    context: { name: e.context, context: { cluster: e.name, user: e.name } },
  };
}

async function load(file: string): Promise<Document> {
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const doc = parseDocument(text || 'apiVersion: v1\nkind: Config\npreferences: {}\n');
  if (doc.errors.length > 0) {
    throw new PlatctlError('KUBE_UNREACHABLE', `kubeconfig ${file} is not valid YAML: ${doc.errors[0]?.message}`, {
      hint: 'fix the file, or pass another one with --kubeconfig',
    });
  }
  if (doc.contents === null) doc.contents = doc.createNode({ apiVersion: 'v1', kind: 'Config' }) as never;
  return doc;
}

/** Sets `list[name == obj.name] = obj` in one of the named lists, appending when absent. */
function upsert(doc: Document, key: string, obj: { name: string }): void {
  const list = doc.get(key);
  if (!(list instanceof YAMLSeq)) {
    doc.set(key, doc.createNode([obj]));
    return;
  }
  const items = (list.toJSON() ?? []) as Named[];
  const i = items.findIndex((x) => x?.name === obj.name);
  if (i >= 0) list.set(i, doc.createNode(obj));
  else list.add(doc.createNode(obj));
}

function removeNamed(doc: Document, key: string, name: string): boolean {
  const list = doc.get(key);
  if (!(list instanceof YAMLSeq)) return false;
  const i = ((list.toJSON() ?? []) as Named[]).findIndex((x) => x?.name === name);
  if (i < 0) return false;
  list.delete(i);
  return true;
}

/** What is in a kubeconfig for one context, as plain values. */
export interface ExistingEntry {
  server?: string;
  caData?: string;
  command?: string;
  args?: string[];
  clusterName?: string;
  userName?: string;
}

/** Reads the cluster and user a context points to; undefined when the file or the context is absent. */
export async function readKubeconfigEntry(file: string, context: string): Promise<ExistingEntry | undefined> {
  const js = (await load(file)).toJS() as Record<string, Named[] | undefined>;
  const find = (key: string, name?: string) =>
    js[key]?.find((x) => x?.name === name) as Record<string, never> | undefined;
  const ctx = find('contexts', context)?.context as { cluster?: string; user?: string } | undefined;
  if (!ctx) return undefined;
  const cluster = find('clusters', ctx.cluster)?.cluster as Record<string, string> | undefined;
  const exec = (find('users', ctx.user)?.user as { exec?: { command?: string; args?: string[] } } | undefined)?.exec;
  return {
    server: cluster?.server,
    caData: cluster?.['certificate-authority-data'],
    command: exec?.command,
    args: exec?.args,
    clusterName: ctx.cluster,
    userName: ctx.user,
  };
}

/** True when the file already holds exactly this entry. */
export async function hasKubeconfigEntry(file: string, e: KubeconfigEntry): Promise<boolean> {
  const got = await readKubeconfigEntry(file, e.context);
  return (
    got !== undefined &&
    got.server === e.server &&
    got.caData === e.caData &&
    got.command === (e.command ?? 'platctl') &&
    JSON.stringify(got.args) === JSON.stringify(execArgs(e))
  );
}

/** Writes or replaces platctl's cluster, user and context; sets current-context only when none is set. */
export async function mergeKubeconfigEntry(file: string, e: KubeconfigEntry): Promise<void> {
  const doc = await load(file);
  const o = entryObjects(e);
  upsert(doc, 'clusters', o.cluster);
  upsert(doc, 'users', o.user);
  upsert(doc, 'contexts', o.context);
  if (!doc.get('current-context')) doc.set('current-context', e.context);
  await writeFileAtomic(file, doc.toString(), 0o600);
}

/** True when a context's user is platctl's exec plugin for this cluster (so platctl wrote it). */
export function isPlatctlEntry(got: ExistingEntry | undefined, cluster: string): boolean {
  const args = got?.args ?? [];
  return args[0] === 'eks' && args[1] === 'token' && args[args.indexOf('--cluster') + 1] === cluster;
}

/**
 * Removes the context and, when platctl wrote them, its cluster and user; anything the user wrote is left.
 * Returns false when there was nothing of platctl's to remove.
 */
export async function removeKubeconfigEntry(file: string, context: string, cluster: string): Promise<boolean> {
  const got = await readKubeconfigEntry(file, context);
  if (!isPlatctlEntry(got, cluster)) return false;
  const doc = await load(file);
  removeNamed(doc, 'contexts', context);
  if (got?.clusterName) removeNamed(doc, 'clusters', got.clusterName);
  if (got?.userName) removeNamed(doc, 'users', got.userName);
  if (doc.get('current-context') === context) doc.delete('current-context');
  await writeFileAtomic(file, doc.toString(), 0o600);
  return true;
}
