/**
 * The EKS token with a profile and a role, without the lab. A loopback server plays STS's AssumeRole at the
 * profile's `endpoint_url`. The SDK reads that setting from AWS_PROFILE only (a client's `profile` option does not
 * reach it), which is why platctl makes its own plugin's token in-process only when AWS_PROFILE is the stanza's
 * profile (src/clients/own-exec.ts), and runs the child, which gets AWS_PROFILE, otherwise.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEksToken, decodeEksToken } from '../../src/aws/eks-token.js';
import { saveEnv } from '../helpers/saved-env.js';

const VARS = [
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_PROFILE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_STS',
] as const;
const restoreEnv = saveEnv(...VARS);
const actions: string[] = [];
let server: Server;

const assumed = `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
<Credentials><AccessKeyId>ASIAPROFILEROLE00001</AccessKeyId><SecretAccessKey>role-secret</SecretAccessKey>
<SessionToken>role-session-token-from-the-profile-endpoint</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>
<AssumedRoleUser><Arn>arn:aws:sts::111122223333:assumed-role/eks-admin/s</Arn><AssumedRoleId>AROAEXAMPLE:s</AssumedRoleId></AssumedRoleUser>
</AssumeRoleResult></AssumeRoleResponse>`;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      actions.push(new URLSearchParams(body).get('Action') ?? '');
      res.writeHead(200, { 'content-type': 'text/xml' }).end(assumed);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'eks-token-'));
  const port = (server.address() as AddressInfo).port;
  writeFileSync(
    path.join(dir, 'config'),
    `[profile team]\nregion = eu-west-1\nendpoint_url = http://127.0.0.1:${port}\n` +
      'aws_access_key_id = AKIAPROFILEKEY000001\naws_secret_access_key = profile-secret\n',
  );
  for (const k of VARS) delete process.env[k];
  process.env.AWS_CONFIG_FILE = path.join(dir, 'config');
  process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'no-credentials');
});

afterAll(async () => {
  restoreEnv();
  await new Promise((r) => server.close(r));
});

describe('createEksToken with a profile and a role', () => {
  it("with AWS_PROFILE the profile's, assumes the role at the profile's STS endpoint and signs with its session", async () => {
    process.env.AWS_PROFILE = 'team';
    const { token } = await createEksToken({
      cluster: 'demo',
      region: 'eu-west-1',
      profile: 'team',
      roleArn: 'arn:aws:iam::111122223333:role/eks-admin',
    });
    expect(actions).toEqual(['AssumeRole']);
    const q = decodeEksToken(token).searchParams;
    expect(q.get('X-Amz-Credential')).toMatch(/^ASIAPROFILEROLE00001\//);
    expect(q.get('X-Amz-Security-Token')).toBe('role-session-token-from-the-profile-endpoint');
  }, 15_000);
});
