/**
 * The EKS bearer token: the decoded URL (host, Action, Version, X-Amz-Expires=60, the cluster header signed
 * in), the signature checked against an independent implementation (botocore, which `aws eks get-token` uses,
 * from the lab's moto venv), moto answering the presigned GET, the ExecCredential of `platctl eks token` and
 * its expiry, and the token being masked in output.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  CLUSTER_ID_HEADER,
  createEksToken,
  decodeEksToken,
  stsEndpoint,
  TOKEN_LIFETIME_MS,
} from '../../src/aws/eks-token.js';
import eksTokenCommand, { type ExecCredential } from '../../src/commands/eks-token.js';
import { isPlatctlError } from '../../src/errors.js';
import { maskSecrets } from '../../src/secrets.js';
import { useLab } from '../helpers/cloud-context.js';
import { lab } from '../lab/env.js';

const env = lab();
let home: string;
const creds = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session/token+with=chars',
};
const now = new Date('2026-01-02T03:04:05Z');
const regional = 'https://sts.us-east-1.amazonaws.com/';

beforeAll(() => {
  home = useLab(env);
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

// botocore, as `aws eks get-token` uses it: the same presign with the cluster header added before signing.
const botocorePresign = `
import sys, json, datetime
import botocore.session, botocore.auth
a = json.loads(sys.argv[1])
fixed = datetime.datetime.fromisoformat(a["date"].replace("Z", "+00:00")).replace(tzinfo=None)
botocore.auth.get_current_datetime = lambda *x, **k: fixed
c = botocore.session.get_session().create_client("sts", region_name=a["region"], endpoint_url=a["endpoint"],
    aws_access_key_id=a["key"], aws_secret_access_key=a["secret"], aws_session_token=a["token"])
c.meta.events.register("before-sign.sts.GetCallerIdentity",
    lambda request, **k: request.headers.__setitem__("x-k8s-aws-id", a["cluster"]))
print(c.generate_presigned_url("get_caller_identity", Params={}, ExpiresIn=60, HttpMethod="GET"))
`;

describe('token format', () => {
  it('is k8s-aws-v1. + unpadded base64url of the presigned GetCallerIdentity URL', async () => {
    const { token, expiresAt } = await createEksToken({
      cluster: 'demo',
      region: 'us-east-1',
      credentials: creds,
      now,
      endpoint: regional,
    });
    expect(token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    expect(expiresAt.getTime() - now.getTime()).toBe(TOKEN_LIFETIME_MS);
    const url = decodeEksToken(token);
    expect(url.protocol).toBe('https:');
    expect(url.host).toBe('sts.us-east-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    const q = url.searchParams;
    expect(q.get('Action')).toBe('GetCallerIdentity');
    expect(q.get('Version')).toBe('2011-06-15');
    expect(q.get('X-Amz-Expires')).toBe('60');
    expect(q.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(q.get('X-Amz-Date')).toBe('20260102T030405Z');
    expect(q.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20260102/us-east-1/sts/aws4_request');
    expect(q.get('X-Amz-SignedHeaders')?.split(';')).toEqual(['host', CLUSTER_ID_HEADER]);
    expect(q.get('X-Amz-Security-Token')).toBe(creds.sessionToken);
    expect(q.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('signs exactly as botocore (aws eks get-token) does', async () => {
    const python = path.join(env.cacheDir, `moto-${env.versions.moto}`, 'venv', 'bin', 'python3');
    for (const [cluster, region] of [
      ['demo', 'us-east-1'],
      ['prod_cluster-2', 'eu-west-1'],
    ] as const) {
      const endpoint = `https://sts.${region}.amazonaws.com`;
      const ours = decodeEksToken((await createEksToken({ cluster, region, credentials: creds, now, endpoint })).token);
      const args = {
        date: now.toISOString(),
        region,
        endpoint,
        key: creds.accessKeyId,
        secret: creds.secretAccessKey,
        token: creds.sessionToken,
        cluster,
      };
      const r = await execa(python, ['-c', botocorePresign, JSON.stringify(args)]);
      const theirs = new URL(r.stdout.trim());
      expect(ours.host).toBe(theirs.host);
      expect(Object.fromEntries(ours.searchParams)).toEqual(Object.fromEntries(theirs.searchParams));
    }
  });

  it('changes signature with the cluster: a token is bound to one cluster', async () => {
    const sig = async (cluster: string) =>
      decodeEksToken(
        (await createEksToken({ cluster, region: 'us-east-1', credentials: creds, now, endpoint: regional })).token,
      ).searchParams.get('X-Amz-Signature');
    expect(await sig('a')).not.toBe(await sig('b'));
  });

  it('uses the regional STS host, the China partition, or AWS_ENDPOINT_URL', () => {
    expect(stsEndpoint('eu-west-1', {}).host).toBe('sts.eu-west-1.amazonaws.com');
    expect(stsEndpoint('cn-north-1', {}).host).toBe('sts.cn-north-1.amazonaws.com.cn');
    expect(stsEndpoint('us-east-1', { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }).host).toBe('127.0.0.1:5000');
    expect(stsEndpoint('us-east-1', { AWS_ENDPOINT_URL: 'http://a:1', AWS_ENDPOINT_URL_STS: 'http://b:2' }).host).toBe(
      'b:2',
    );
  });

  it('is registered as a secret, so it never prints', async () => {
    const { token } = await createEksToken({
      cluster: 'demo',
      region: 'us-east-1',
      credentials: creds,
      now,
      endpoint: regional,
    });
    const masked = maskSecrets(`Authorization: Bearer ${token} (session ${creds.sessionToken})`);
    expect(masked).not.toContain(token.slice(11));
    expect(masked).not.toContain(creds.sessionToken);
  });

  it('rejects something that is not a token', () => {
    expect(() => decodeEksToken('Bearer abc')).toThrow(/not an EKS token/);
  });
});

describe('against moto', () => {
  it('moto answers the presigned GET with the caller identity', async () => {
    // Default credential chain (the lab's env keys) and AWS_ENDPOINT_URL (moto).
    const { token } = await createEksToken({ cluster: 'demo', region: env.region });
    const url = decodeEksToken(token);
    expect(url.origin).toBe(new URL(env.awsEndpoint).origin);
    const credential = url.searchParams.get('X-Amz-Credential') ?? '';
    expect(credential).toMatch(/^testing\/\d{8}\/us-east-1\/sts\/aws4_request$/);
    // moto_server hosts every service on one port and picks the service from an Authorization header's
    // credential scope; a presigned URL carries that scope in X-Amz-Credential instead, so this header only
    // routes the request to moto's STS. The URL (query and signature) is the token's, untouched.
    const route = `AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=host;x-k8s-aws-id, Signature=0`;
    const res = await fetch(url, { headers: { [CLUSTER_ID_HEADER]: 'demo', authorization: route } });
    const body = await res.text();
    expect(res.status).toBe(200);
    expect(body).toContain('<GetCallerIdentityResponse');
    expect(body).toContain('<Account>123456789012</Account>');
  });

  it('platctl eks token prints an ExecCredential that expires 14 minutes ahead', async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    const before = Date.now();
    expect(await eksTokenCommand({ cluster: 'demo', region: env.region })).toBe(0);
    const cred = JSON.parse(out.join('')) as ExecCredential;
    expect(cred.kind).toBe('ExecCredential');
    expect(cred.apiVersion).toBe('client.authentication.k8s.io/v1beta1');
    expect(cred.status.expirationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const expiry = Date.parse(cred.status.expirationTimestamp);
    expect(expiry).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + TOKEN_LIFETIME_MS);
    expect(expiry).toBeLessThanOrEqual(Date.now() + TOKEN_LIFETIME_MS);
    expect(decodeEksToken(cred.status.token).searchParams.get('Action')).toBe('GetCallerIdentity');
  });

  it('--role-arn signs with the assumed role: a temporary key and its session token', async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    await eksTokenCommand({ cluster: 'demo', region: env.region, roleArn: 'arn:aws:iam::123456789012:role/eks-admin' });
    const q = decodeEksToken((JSON.parse(out.join('')) as ExecCredential).status.token).searchParams;
    expect(q.get('X-Amz-Credential')).not.toMatch(/^testing\//);
    expect(q.get('X-Amz-Security-Token')).toBeTruthy();
  });

  it('without a region it fails with a usage error naming the flag', async () => {
    const saved = { r: process.env.AWS_REGION, d: process.env.AWS_DEFAULT_REGION };
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    try {
      const err = await eksTokenCommand({ cluster: 'demo' }).catch((e: unknown) => e);
      expect(isPlatctlError(err) && err.code).toBe('USAGE');
      expect(isPlatctlError(err) && err.hint).toContain('--region');
    } finally {
      process.env.AWS_REGION = saved.r;
      process.env.AWS_DEFAULT_REGION = saved.d;
    }
  });
});
