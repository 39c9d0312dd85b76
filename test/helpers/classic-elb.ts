/**
 * Classic ELB calls for the tests. platctl has no Classic ELB SDK client (it finds Classic ELBs through the
 * Resource Groups Tagging API), so the tests speak the Query protocol (Version 2012-06-01) to moto directly,
 * SigV4-signed like any SDK request.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { LabEnv } from '../lab/env.js';

async function call(env: LabEnv, params: Record<string, string>): Promise<string> {
  const url = new URL(env.awsEndpoint);
  const body = new URLSearchParams({ Version: '2012-06-01', ...params }).toString();
  const signer = new SignatureV4({
    service: 'elasticloadbalancing',
    region: env.region,
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
  });
  const res = await fetch(env.awsEndpoint, { method: 'POST', headers: signed.headers, body });
  const text = await res.text();
  if (!res.ok) throw new Error(`classic ELB ${params.Action}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return text;
}

/** Creates a Classic ELB with one HTTP listener in the given subnets, tagged. */
export async function createClassicElb(
  env: LabEnv,
  name: string,
  subnetIds: string[],
  tags: Record<string, string>,
): Promise<void> {
  const params: Record<string, string> = {
    Action: 'CreateLoadBalancer',
    LoadBalancerName: name,
    'Listeners.member.1.Protocol': 'HTTP',
    'Listeners.member.1.LoadBalancerPort': '80',
    'Listeners.member.1.InstancePort': '30080',
  };
  subnetIds.forEach((s, i) => {
    params[`Subnets.member.${i + 1}`] = s;
  });
  Object.entries(tags).forEach(([k, v], i) => {
    params[`Tags.member.${i + 1}.Key`] = k;
    params[`Tags.member.${i + 1}.Value`] = v;
  });
  await call(env, params);
}

/** Deletes a Classic ELB (idempotent in the API). */
export async function deleteClassicElb(env: LabEnv, name: string): Promise<void> {
  await call(env, { Action: 'DeleteLoadBalancer', LoadBalancerName: name });
}
