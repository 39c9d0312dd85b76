/**
 * The EKS bearer token, made in TypeScript with no aws CLI: a presigned STS GetCallerIdentity GET whose signed
 * headers include `x-k8s-aws-id: <cluster>`, turned into `k8s-aws-v1.<base64url(url), no padding>`. The API
 * server's authenticator replays the URL against STS to learn who is calling, and checks the cluster header.
 * Credentials come from the SDK's default chain (env, profiles, SSO, web identity, instance roles), optionally
 * assuming a role first.
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { PlatctlError } from '../errors.js';
import { registerSecret } from '../secrets.js';
import { dnsSuffix, partitionOf } from './partition.js';

/** Token prefix the aws-iam-authenticator expects. */
export const TOKEN_PREFIX = 'k8s-aws-v1.';
/** The header binding a token to one cluster. */
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** Presigned URL lifetime in seconds (what aws-iam-authenticator and the aws CLI use). */
export const PRESIGN_EXPIRES_SECONDS = 60;
/** How long clients may cache a token: EKS accepts it for 15 minutes; we say 14 to stay clear of the edge. */
export const TOKEN_LIFETIME_MS = 14 * 60_000;

/** Options for {@link createEksToken}. */
export interface EksTokenOptions {
  cluster: string;
  region: string;
  /** Assume this role first (fromTemporaryCredentials over the default chain). */
  roleArn?: string;
  profile?: string;
  /** Fixed credentials (tests); default: the SDK's default credential chain. */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** STS endpoint override; default AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, else the regional endpoint. */
  endpoint?: string;
  /** Signing time (tests). */
  now?: Date;
}

/** A token and when clients should stop using it. */
export interface EksToken {
  token: string;
  expiresAt: Date;
}

/** The regional STS endpoint for a region (China regions use amazonaws.com.cn). */
export function stsEndpoint(region: string, env: NodeJS.ProcessEnv = process.env): URL {
  const override = env.AWS_ENDPOINT_URL_STS ?? env.AWS_ENDPOINT_URL;
  if (override) return new URL(override);
  return new URL(`https://sts.${region}.${dnsSuffix(partitionOf(region))}/`);
}

/** RFC 3986 encoding, as SigV4's canonical query string uses. */
const rfc3986 = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** base64url without padding. */
export function base64Url(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64url').replace(/=+$/, '');
}

/** The URL inside a token (for tests and `--debug`). Throws USAGE for something that is not an EKS token. */
export function decodeEksToken(token: string): URL {
  if (!token.startsWith(TOKEN_PREFIX)) throw new PlatctlError('USAGE', `not an EKS token (no ${TOKEN_PREFIX} prefix)`);
  return new URL(Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url').toString('utf8'));
}

async function credentialProvider(o: EksTokenOptions): Promise<AwsCredentialIdentity | AwsCredentialIdentityProvider> {
  if (o.credentials) return o.credentials;
  const { fromNodeProviderChain, fromTemporaryCredentials } = await import('@aws-sdk/credential-providers');
  const base = fromNodeProviderChain(o.profile ? { profile: o.profile } : {});
  if (!o.roleArn) return base;
  return fromTemporaryCredentials({
    masterCredentials: base,
    params: { RoleArn: o.roleArn, RoleSessionName: `platctl-${Date.now()}`, DurationSeconds: 900 },
    clientConfig: { region: o.region },
  });
}

/** Presigns the GetCallerIdentity GET for a cluster; returns the full URL. */
export async function presignGetCallerIdentity(o: EksTokenOptions): Promise<string> {
  const [{ SignatureV4 }, { Sha256 }] = await Promise.all([
    import('@smithy/signature-v4'),
    import('@aws-crypto/sha256-js'),
  ]);
  const endpoint = o.endpoint ? new URL(o.endpoint) : stsEndpoint(o.region);
  const signer = new SignatureV4({
    service: 'sts',
    region: o.region,
    credentials: await credentialProvider(o),
    sha256: Sha256,
    uriEscapePath: true,
  });
  const path = endpoint.pathname || '/';
  let signed: Awaited<ReturnType<typeof signer.presign>>;
  try {
    signed = await signer.presign(
      {
        method: 'GET',
        protocol: endpoint.protocol,
        hostname: endpoint.hostname,
        port: endpoint.port ? Number(endpoint.port) : undefined,
        path,
        query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
        headers: { host: endpoint.host, [CLUSTER_ID_HEADER]: o.cluster },
      },
      { expiresIn: PRESIGN_EXPIRES_SECONDS, signingDate: o.now },
    );
  } catch (err) {
    throw new PlatctlError(
      'AWS_CREDENTIALS',
      `cannot sign an EKS token for cluster ${o.cluster}: no usable AWS credentials`,
      {
        cause: err,
        hint: 'configure credentials (AWS_PROFILE, `aws sso login`, or environment variables) and run `platctl doctor`',
      },
    );
  }
  const query = Object.entries(signed.query ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : v == null ? [] : [[k, v]]))
    .map(([k, v]) => `${rfc3986(String(k))}=${rfc3986(String(v))}`)
    .join('&');
  return `${endpoint.protocol}//${endpoint.host}${path}?${query}`;
}

/** Makes a bearer token for the cluster and registers it (and the URL's session token) as secrets. */
export async function createEksToken(o: EksTokenOptions): Promise<EksToken> {
  const now = o.now ?? new Date();
  const url = await presignGetCallerIdentity({ ...o, now });
  const token = TOKEN_PREFIX + base64Url(url);
  registerSecret(token);
  registerSecret(new URL(url).searchParams.get('X-Amz-Security-Token'));
  return { token, expiresAt: new Date(now.getTime() + TOKEN_LIFETIME_MS) };
}
