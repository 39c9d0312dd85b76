/**
 * The ecr-credentials-sync manifests: a CronJob that every 6 h (ECR passwords last 12 h) exchanges its IRSA
 * role for an ECR token and server-side-applies a docker-registry Secret, plus its ServiceAccount and RBAC.
 * The init container (aws-cli) writes the Secret manifest into a memory-backed volume; the main container
 * (kubectl, no shell needed) applies it. The token never leaves the pod.
 */
import { createHash } from 'node:crypto';
import { dnsSuffix, partitionOf } from '../aws/partition.js';
import type { KubeObject } from '../clients/kube.js';
import { mirrorImage } from '../images.js';

/** Names and schedule of the sync job. */
export const ECR_SYNC = {
  name: 'ecr-credentials-sync',
  namespace: 'flux-system',
  secretName: 'ecr-credentials',
  schedule: '0 */6 * * *',
} as const;

/** The images the job runs (before `images.mirror` rewriting). */
export const ECR_SYNC_IMAGES = {
  awsCli: 'public.ecr.aws/aws-cli/aws-cli:2.27.0',
  kubectl: 'registry.k8s.io/kubectl:v1.34.4',
} as const;

/** Where the init container leaves the Secret manifest for the kubectl container (a memory volume). */
const SECRET_FILE = '/work/secret.json';

/** Annotation on the CronJob holding a hash of every manifest: the step's one-read check compares it. */
export const MANIFEST_HASH_ANNOTATION = 'platctl.io/manifest-hash';

/** What the manifests depend on. */
export interface RegistryParams {
  roleArn: string;
  region: string;
  /** The registry host the Secret is for, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com. */
  registry: string;
  mirror?: string;
}

/** The ECR registry host of an account and region. */
export function ecrRegistryHost(accountId: string, region: string): string {
  return `${accountId}.dkr.ecr.${region}.${dnsSuffix(partitionOf(region))}`;
}

/** The account and region of an ECR registry host (`<account>.dkr.ecr.<region>.amazonaws.com[.cn]`). */
export function ecrRegistryOf(host: string): { accountId: string; region: string } {
  const m = /^(\d+)\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(host);
  if (!m?.[1] || !m[2]) throw new Error(`not an ECR registry host: ${host}`);
  return { accountId: m[1], region: m[2] };
}

/** The registry the Secret is for: the mirror's host when the mirror is an ECR registry, else the account's. */
export function syncRegistry(accountId: string, region: string, mirror: string | undefined): string {
  const host = mirror?.split('/')[0];
  return host && /\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(host)
    ? host
    : ecrRegistryHost(accountId, region);
}

const labels = { 'app.kubernetes.io/name': ECR_SYNC.name, 'app.kubernetes.io/managed-by': 'platctl' };
const meta = (name: string) => ({ name, namespace: ECR_SYNC.namespace, labels });

/**
 * The init container's script (aws-cli image: sh, base64, tr). Reads AWS_REGION, REGISTRY, SECRET_NAME,
 * SECRET_NAMESPACE and SECRET_FILE; writes the Secret manifest to SECRET_FILE. The ECR token goes to a memory
 * volume, never a log or an argv.
 */
export const TOKEN_SCRIPT = [
  'set -eu',
  'umask 077',
  'token=$(aws ecr get-login-password --region "$AWS_REGION")',
  `auth=$(printf 'AWS:%s' "$token" | base64 | tr -d '\\n')`,
  `config=$(printf '{"auths":{"%s":{"auth":"%s"}}}' "$REGISTRY" "$auth" | base64 | tr -d '\\n')`,
  `printf '{"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/dockerconfigjson","metadata":{"name":"%s","namespace":"%s","labels":{"app.kubernetes.io/managed-by":"platctl"}},"data":{".dockerconfigjson":"%s"}}' "$SECRET_NAME" "$SECRET_NAMESPACE" "$config" > "$SECRET_FILE"`,
  'echo "wrote the docker-registry secret for $REGISTRY"',
].join('\n');

/** The ServiceAccount, Role, RoleBinding and CronJob, in apply order (the CronJob carries the hash annotation). */
export function registryManifests(p: RegistryParams): KubeObject[] {
  const sa: KubeObject = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { ...meta(ECR_SYNC.name), annotations: { 'eks.amazonaws.com/role-arn': p.roleArn } },
  };
  const role: KubeObject = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: meta(ECR_SYNC.name),
    rules: [
      { apiGroups: [''], resources: ['secrets'], resourceNames: [ECR_SYNC.secretName], verbs: ['get', 'patch'] },
      // create cannot be limited by name; server-side apply of a missing Secret needs it.
      { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
    ],
  };
  const binding: KubeObject = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: meta(ECR_SYNC.name),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: ECR_SYNC.name },
    subjects: [{ kind: 'ServiceAccount', name: ECR_SYNC.name, namespace: ECR_SYNC.namespace }],
  };
  const hardened = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
  const cronJob: KubeObject = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: meta(ECR_SYNC.name),
    spec: {
      schedule: ECR_SYNC.schedule,
      concurrencyPolicy: 'Forbid',
      successfulJobsHistoryLimit: 1,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        spec: {
          backoffLimit: 3,
          template: {
            metadata: { labels },
            spec: {
              serviceAccountName: ECR_SYNC.name,
              restartPolicy: 'OnFailure',
              volumes: [{ name: 'work', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } }],
              initContainers: [
                {
                  name: 'token',
                  image: mirrorImage(ECR_SYNC_IMAGES.awsCli, p.mirror),
                  command: ['/bin/sh', '-c', TOKEN_SCRIPT],
                  env: [
                    { name: 'AWS_REGION', value: p.region },
                    { name: 'REGISTRY', value: p.registry },
                    { name: 'SECRET_NAME', value: ECR_SYNC.secretName },
                    { name: 'SECRET_NAMESPACE', value: ECR_SYNC.namespace },
                    { name: 'SECRET_FILE', value: SECRET_FILE },
                  ],
                  volumeMounts: [{ name: 'work', mountPath: '/work' }],
                  securityContext: hardened,
                },
              ],
              containers: [
                {
                  name: 'apply',
                  image: mirrorImage(ECR_SYNC_IMAGES.kubectl, p.mirror),
                  // The image's entrypoint is kubectl.
                  args: [
                    'apply',
                    '--server-side',
                    '--force-conflicts',
                    '--field-manager=ecr-credentials-sync',
                    '-f',
                    SECRET_FILE,
                  ],
                  volumeMounts: [{ name: 'work', mountPath: '/work', readOnly: true }],
                  securityContext: hardened,
                },
              ],
            },
          },
        },
      },
    },
  };
  const objects = [sa, role, binding, cronJob];
  cronJob.metadata.annotations = { [MANIFEST_HASH_ANNOTATION]: manifestHash(objects) };
  return objects;
}

/** A short, stable hash of manifests (computed before the hash annotation is added). */
export function manifestHash(objects: KubeObject[]): string {
  return createHash('sha256').update(JSON.stringify(objects)).digest('hex').slice(0, 16);
}
