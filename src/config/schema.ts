/**
 * The platform.yaml schema: the single source of truth for configuration. The JSON Schema that editors use
 * (`platctl config schema`, docs/platform.schema.json) is generated from it. Unknown keys are errors.
 */
import { z } from 'zod';
import { isIsolatedRegion } from '../aws/partition.js';
import { isValidCidr, isValidRegion } from './validators.js';

/** EKS cluster-name rules: 1–100 characters, starting alphanumeric. */
export const clusterNamePattern = /^[0-9A-Za-z][A-Za-z0-9\-_]*$/;
/** DNS-1123 label: tenant and namespace names. */
export const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const dnsLabel = z.string().max(63).regex(dns1123Label, 'must be a DNS-1123 label (lowercase letters, digits, "-")');
const duration = z.string().regex(/^\d+(ms|s|m|h)$/, 'must be a duration such as 90s, 10m or 1h');
const filePath = z.string().min(1, 'must not be empty');

const awsSchema = z.strictObject({
  accountId: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
  region: z
    .string()
    .refine(isValidRegion, { message: 'must be an AWS region such as us-east-1' })
    .refine((r) => !isIsolatedRegion(r), {
      message:
        'is in an isolated AWS partition (us-iso-*, us-isob-*, …), which platctl does not support: use a region of aws, aws-cn or aws-us-gov',
    }),
  profile: z.string().optional(),
  /** Tags added to every AWS object besides platctl.io/cluster and platctl.io/step. */
  tags: z.record(z.string(), z.string()).default({}),
});

const kubernetesSchema = z.strictObject({
  version: z.string().regex(/^1\.\d{2}$/, 'must be a Kubernetes minor version such as 1.34'),
  access: z.enum(['eks', 'kubeconfig']).default('eks'),
  kubeconfig: filePath.optional(),
  context: z.string().optional(),
});

const terraformSchema = z.strictObject({
  binary: z.enum(['auto', 'terraform', 'tofu']).default('auto'),
  module: filePath.default('templates/terraform/eks'),
  variables: z.record(z.string(), z.unknown()).default({}),
  vpcCidr: z
    .string()
    .refine(isValidCidr, { message: 'must be an IPv4 CIDR such as 10.0.0.0/16' })
    .default('10.0.0.0/16'),
  backend: z
    .strictObject({
      type: z.enum(['s3', 'local']),
      config: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
    })
    .default({ type: 'local', config: {} }),
});

const fleetSchema = z.strictObject({
  url: z
    .string()
    .regex(/^(ssh:\/\/|[\w.-]+@[\w.-]+:)/, 'must be an ssh URL such as ssh://git@github.com/org/fleet.git'),
  branch: z.string().default('main'),
  path: z.string().optional(),
  knownHosts: z.string().optional(),
  keyType: z.enum(['ed25519', 'ecdsa-p384']).default('ed25519'),
  /** Who adds the deploy key: `ssh` (a person, today's behaviour), or platctl through the host's API. */
  provider: z.enum(['ssh', 'gitea', 'github']).default('ssh'),
  /** The host's HTTPS API: required for gitea (the server's URL), https://api.github.com by default for github. */
  apiUrl: z
    .string()
    .regex(/^https?:\/\/[^/\s]+/, 'must be an http(s) URL such as https://gitea.example.com')
    .optional(),
  /** Register the deploy key with write access (off: Flux only reads the fleet repo). */
  readWriteKey: z.boolean().default(false),
});

/** An ECR registry host: `<account>.dkr.ecr.<region>.amazonaws.com` (`.com.cn` in China). */
export const ecrHostPattern = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/;

/** The account's own ECR registry host in a region. */
export function accountEcrHost(accountId: string, region: string): string {
  return `${accountId}.dkr.ecr.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/** Where Flux pulls one adopted chart from: a Helm repository (http/https) or an OCI registry path. */
const chartRepoSchema = z.strictObject({
  url: z
    .string()
    .regex(
      /^(https?|oci):\/\/[^\s/]+(\/\S*)?$/,
      'must be a chart repository URL: https://… (a Helm repository, e.g. Artifactory) or oci://… (e.g. an ECR /helm path)',
    ),
  /** A Secret in flux-system with the repository's credentials (basic auth, or a docker config for OCI). */
  secretRef: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be the name of a Secret in flux-system')
    .optional(),
});

const fluxSchema = z.strictObject({
  version: z
    .string()
    .regex(/^v\d+\.\d+\.\d+$/, 'must be a release such as v2.9.4')
    .default('v2.9.4'),
  manifests: z.string().optional(),
  timeout: duration.default('10m'),
  /** Parallel reconciles of source-, kustomize- and helm-controller (`--concurrent`), Flux's at-scale advice. */
  concurrent: z.number().int('must be a whole number').min(1, 'must be ≥ 1').max(100, 'must be ≤ 100').default(10),
  /** A push webhook from the git host to a Flux Receiver, at this public URL (through the Istio gateway). */
  webhook: z
    .strictObject({
      url: z
        .string()
        .regex(/^https?:\/\/[^/\s]+(\/[^\s]*)?$/, 'must be an http(s) URL such as https://flux-webhook.example.com'),
    })
    .optional(),
  /**
   * The chart repositories of the releases Flux adopts (istio: base, istiod, gateway; vault: vault). Default:
   * `istio.charts` / `vault.chart` when that is a repository URL, else the upstream repository.
   */
  charts: z.strictObject({ istio: chartRepoSchema.optional(), vault: chartRepoSchema.optional() }).default({}),
});

const istioSchema = z.strictObject({
  version: z
    .string()
    .regex(/^\d+\.\d+\.\d+$/, 'must be a release such as 1.30.3')
    .default('1.30.3'),
  revision: dnsLabel.optional(),
  tags: z.array(dnsLabel).default(['prod-stable']),
  charts: z.string().default('https://istio-release.storage.googleapis.com/charts'),
  namespaces: z.array(dnsLabel).default([]),
  /** The ops-owned Gateway in istio-ingress that tenant hosts bind to. */
  gateway: dnsLabel.default('platform-gateway'),
  /** The cert-manager ClusterIssuer for tenant host certificates. */
  issuer: z.string().default('letsencrypt'),
});

const storageSchema = z.strictObject({
  /** The aws-ebs-csi-driver chart: a repository URL, an `oci://` prefix, or a directory. */
  chart: z.string().default('https://kubernetes-sigs.github.io/aws-ebs-csi-driver'),
  chartVersion: z.string().default('2.64.0'),
  /** The default StorageClass platctl creates: gp3, encrypted with the kms step's EBS key. */
  storageClass: dnsLabel.default('gp3'),
  /** How long the step waits for the driver to roll out, and teardown for released volumes to be deleted. */
  timeout: duration.default('5m'),
});

const vaultSchema = z
  .strictObject({
    chart: z.string().default('https://helm.releases.hashicorp.com'),
    chartVersion: z.string().default('0.34.1'),
    namespace: dnsLabel.default('vault'),
    replicas: z.number().int().min(1).max(7).default(3),
    kmsAlias: z
      .string()
      .regex(/^alias\//, 'must start with alias/')
      .optional(),
    /**
     * The number of shares Vault splits its root (or recovery) key into, sent to sys/init. Each share is
     * encrypted to one of pgpKeys, so it must equal their number; left out, it is their number (5 without keys).
     */
    keyShares: z.number().int().min(1, 'must be ≥ 1').max(10, 'must be ≤ 10').optional(),
    /** Shares needed to unseal (or to use the recovery key); left out: 3, or keyShares when that is smaller. */
    keyThreshold: z.number().int().min(1, 'must be ≥ 1').optional(),
    pgpKeys: z.array(filePath).default([]),
    rootTokenPgpKey: filePath.optional(),
    /** How long the vault and vault-init steps wait for the server pods to run (scheduling, volumes, images). */
    timeout: duration.default('5m'),
  })
  .superRefine(
    (v, ctx) => {
      const keys = Array.isArray(v.pgpKeys) ? v.pgpKeys.length : 0;
      const shares = v.keyShares ?? (keys || 5);
      if (typeof shares !== 'number') return;
      const threshold = v.keyThreshold ?? Math.min(3, shares);
      if (typeof threshold === 'number' && threshold > shares) {
        ctx.addIssue({ code: 'custom', path: ['keyThreshold'], message: `must be ≤ keyShares (${shares})` });
      }
      if (keys > 0 && keys !== shares) {
        ctx.addIssue({
          code: 'custom',
          path: ['pgpKeys'],
          message: `has ${keys} keys but keyShares is ${shares}: one PGP key per share`,
        });
      }
    },
    // Run even when another vault field has the wrong type, so every problem is reported at once.
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  )
  .transform((v) => {
    const keyShares = v.keyShares ?? (v.pgpKeys.length || 5);
    return { ...v, keyShares, keyThreshold: v.keyThreshold ?? Math.min(3, keyShares) };
  });

/**
 * Bounds on every call to the outside (src/clients/timeouts.ts). The defaults suit a real account; a stalled
 * proxy, a black-holed VPC endpoint or a git host under load then fails with an error naming the endpoint
 * instead of hanging.
 */
const timeoutsSchema = z.strictObject({
  /** AWS: TCP/TLS connection, per attempt. */
  awsConnect: duration.default('5s'),
  /** AWS: waiting for the answer, per attempt. */
  awsRequest: duration.default('20s'),
  /** AWS: attempts per call (the SDK's retries, with backoff). */
  awsAttempts: z.number().int().min(1).max(10).default(5),
  /** ssh's ConnectTimeout (TCP connect and the SSH handshake) for git over ssh and ssh-keyscan. */
  sshConnect: duration.default('15s'),
  /** One git command (clone, fetch, push, ls-remote), overall. */
  git: duration.default('5m'),
  /** One HTTP API call (Gitea, GitHub), overall. */
  http: duration.default('30s'),
  /** One helm command, overall. */
  helm: duration.default('10m'),
  /** One terraform/tofu command (an EKS apply takes 20–40 min), overall. */
  terraform: duration.default('90m'),
  /** After this long, a waiting call prints a progress line, and again at each further interval. */
  notice: duration.default('10s'),
});

const tenantSchema = z.strictObject({
  name: dnsLabel,
  namespaces: z.array(dnsLabel).optional(),
  repo: z.string().optional(),
  /** A Secret in the tenant's first namespace with its repository credentials (default: a platctl deploy key for ssh). */
  secretRef: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be the name of a Secret in the tenant namespace')
    .optional(),
  branch: z.string().default('main'),
  path: z.string().default('./'),
  role: z
    .string()
    .refine((r) => r !== 'cluster-admin', { message: 'must not be cluster-admin' })
    .default('admin'),
  quota: z.strictObject({ cpu: z.string(), memory: z.string(), pods: z.number().int().min(1) }).optional(),
  hosts: z.array(z.string()).default([]),
});

/** One cluster in platform.yaml. */
export const clusterSchema = z
  .strictObject({
    name: z
      .string()
      .min(1, 'must not be empty')
      .max(100, 'must be at most 100 characters (EKS limit)')
      .regex(clusterNamePattern, 'must start with a letter or digit and use only letters, digits, "-" and "_"'),
    aws: awsSchema,
    kubernetes: kubernetesSchema,
    terraform: terraformSchema.default(terraformSchema.parse({})),
    fleet: fleetSchema,
    flux: fluxSchema.default(fluxSchema.parse({})),
    istio: istioSchema.default(istioSchema.parse({})),
    storage: storageSchema.default(storageSchema.parse({})),
    vault: vaultSchema.default(vaultSchema.parse({})),
    images: z.strictObject({ mirror: z.string().optional() }).default({}),
    timeouts: timeoutsSchema.default(timeoutsSchema.parse({})),
    kms: z
      .strictObject({
        deletionWindowDays: z.number().int().min(7, 'must be ≥ 7 (AWS minimum)').max(30, 'must be ≤ 30'),
      })
      .default({ deletionWindowDays: 30 }),
    access: z
      .strictObject({ admins: z.array(z.string()).default([]), readOnly: z.array(z.string()).default([]) })
      .default({ admins: [], readOnly: [] }),
    tenants: z.array(tenantSchema).default([]),
  })
  .superRefine(
    (c, ctx) => {
      const provider = c.fleet?.provider;
      if (provider === 'gitea' && !c.fleet.apiUrl) {
        ctx.addIssue({ code: 'custom', path: ['fleet', 'apiUrl'], message: 'is required with fleet.provider gitea' });
      }
      if (c.flux?.webhook && (provider === undefined || provider === 'ssh')) {
        ctx.addIssue({
          code: 'custom',
          path: ['flux', 'webhook'],
          message: 'needs fleet.provider gitea or github: platctl registers the webhook through the host’s API',
        });
      }
      if (provider && provider !== 'ssh' && typeof c.fleet.url === 'string' && !repoPathOk(c.fleet.url)) {
        ctx.addIssue({
          code: 'custom',
          path: ['fleet', 'url'],
          message: `must name the repository as <owner>/<name> with fleet.provider ${provider}`,
        });
      }
      for (const name of ['istio', 'vault'] as const) {
        const repo = c.flux?.charts?.[name];
        if (!repo || typeof repo.url !== 'string') continue;
        const issue = chartRepoIssue(repo, {
          accountId: c.aws?.accountId,
          region: c.aws?.region,
          mirror: c.images?.mirror,
        });
        if (issue)
          ctx.addIssue({ code: 'custom', path: ['flux', 'charts', name, ...issue.path], message: issue.message });
      }
    },
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  );

/** True when an ssh URL's path is exactly `owner/name[.git]`. */
function repoPathOk(url: string): boolean {
  const path = /^ssh:\/\/[^/]+\/(.+)$/.exec(url)?.[1] ?? /^[^@/]+@[^:/]+:(.+)$/.exec(url)?.[1] ?? '';
  return /^\/?[^/\s]+\/[^/\s]+$/.test(path);
}

/**
 * What Flux would certainly reject about a chart repository: ECR serves charts over OCI only, and a private ECR
 * registry needs credentials. The registry step's Secret `ecr-credentials` holds them for the account's own
 * registry (and for an ECR `images.mirror`); another account's registry needs its own `secretRef`.
 */
export function chartRepoIssue(
  repo: { url: string; secretRef?: string },
  aws: { accountId?: string; region?: string; mirror?: string },
): { path: string[]; message: string } | undefined {
  const m = /^(https?|oci):\/\/([^/]+)/.exec(repo.url);
  const host = m?.[2] ?? '';
  if (!ecrHostPattern.test(host)) return undefined;
  if (m?.[1] !== 'oci') {
    return { path: ['url'], message: `ECR serves Helm charts over OCI only: use oci://${host}/…` };
  }
  const covered = [accountEcrHost(aws.accountId ?? '', aws.region ?? ''), aws.mirror?.split('/')[0]];
  if (!repo.secretRef && !covered.includes(host)) {
    return {
      path: ['secretRef'],
      message: `is required for ${host}: the registry step's ecr-credentials Secret only holds credentials for ${covered[0]}`,
    };
  }
  return undefined;
}

/** The whole platform.yaml. */
export const platformSchema = z
  .strictObject({
    $schema: z.string().optional(),
    clusters: z.array(clusterSchema).min(1, 'must list at least one cluster'),
  })
  .superRefine((p, ctx) => {
    const seen = new Map<string, number>();
    p.clusters.forEach((c, i) => {
      const first = seen.get(c.name);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['clusters', i, 'name'], message: `duplicates clusters[${first}].name` });
      }
      seen.set(c.name, i);
    });
  });

/** A validated platform.yaml. */
export type PlatformConfig = z.infer<typeof platformSchema>;
/** One validated cluster entry. */
export type ClusterConfig = z.infer<typeof clusterSchema>;

/** The JSON Schema for platform.yaml, generated from the zod schema. */
export function platformJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(platformSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
