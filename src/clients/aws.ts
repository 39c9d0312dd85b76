/**
 * AWS SDK v3 clients, created lazily (each costs ~0.1 s to import) with the config's region, the SDK's default
 * credential chain, adaptive retry, and AWS_ENDPOINT_URL honoured (the lab's moto). Every call is counted, so
 * tests can prove a re-run makes zero writes.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { EKSClient } from '@aws-sdk/client-eks';
import type { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import type { STSClient } from '@aws-sdk/client-sts';
import { traceRequest } from '../trace.js';
import { boundMiddleware, requestHandlerOptions } from './aws-bounds.js';
import { DEFAULT_TIMEOUTS, type Timeouts } from './timeouts.js';

/** Counts of AWS calls made through a factory: reads (Describe/Get/List) and writes (everything else). */
export interface AwsCallCounts {
  reads: number;
  writes: number;
  calls: string[];
}

/** The AWS clients a step may use. */
export interface AwsClients {
  readonly region: string;
  readonly counts: AwsCallCounts;
  sts(): Promise<STSClient>;
  iam(): Promise<IAMClient>;
  kms(): Promise<KMSClient>;
  eks(): Promise<EKSClient>;
  ec2(): Promise<EC2Client>;
  elbv2(): Promise<ElasticLoadBalancingV2Client>;
  /** Classic ELB: only to confirm that a load balancer the tagging API lists still exists. */
  elb(): Promise<ElasticLoadBalancingClient>;
  tagging(): Promise<ResourceGroupsTaggingAPIClient>;
}

const isRead = (op: string) => /^(Describe|Get|List|Head)/.test(op);

interface SdkClient {
  middlewareStack: {
    add(mw: unknown, opts: { step: string; name: string }): void;
  };
}

/**
 * Creates the lazy client factory for one region (and optional profile). Every call is bounded
 * (src/clients/aws-bounds.ts): per-attempt connection and request timeouts, the SDK's retries, a progress line
 * while it waits, and a TIMEOUT error naming the endpoint.
 */
export function createAwsClients(opts: { region: string; profile?: string; timeouts?: Timeouts }): AwsClients {
  const timeouts = opts.timeouts ?? DEFAULT_TIMEOUTS;
  const counts: AwsCallCounts = { reads: 0, writes: 0, calls: [] };
  const cache = new Map<string, Promise<unknown>>();
  const config = {
    region: opts.region,
    ...(opts.profile ? { profile: opts.profile } : {}),
    ...(process.env.AWS_ENDPOINT_URL ? { endpoint: process.env.AWS_ENDPOINT_URL } : {}),
    retryMode: 'adaptive',
    maxAttempts: timeouts.awsAttempts,
    requestHandler: requestHandlerOptions(timeouts),
  };
  const count = (client: SdkClient, service: string) => {
    client.middlewareStack.add(
      (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        const op = (context.commandName ?? 'Unknown').replace(/Command$/, '');
        counts.calls.push(`${service}:${op}`);
        if (isRead(op)) counts.reads++;
        else counts.writes++;
        traceRequest('aws', isRead(op) ? 'GET' : 'POST', `${service}:${op}`);
        return next(args);
      },
      { step: 'initialize', name: 'platctlCallCounter' },
    );
    client.middlewareStack.add(boundMiddleware(service, opts.region, timeouts), {
      step: 'initialize',
      name: 'platctlBounds',
    });
    return client;
  };
  const lazy =
    <T>(service: string, load: () => Promise<new (c: typeof config) => T>) =>
    () => {
      let p = cache.get(service) as Promise<T> | undefined;
      if (!p) {
        p = load().then((Ctor) => count(new Ctor(config) as unknown as SdkClient, service) as unknown as T);
        cache.set(service, p);
      }
      return p;
    };
  return {
    region: opts.region,
    counts,
    sts: lazy('sts', async () => (await import('../aws/sts.js')).STSClient),
    iam: lazy('iam', async () => (await import('../aws/iam.js')).IAMClient),
    kms: lazy('kms', async () => (await import('../aws/kms.js')).KMSClient),
    eks: lazy('eks', async () => (await import('../aws/eks.js')).EKSClient),
    ec2: lazy('ec2', async () => (await import('../aws/ec2.js')).EC2Client),
    elbv2: lazy('elbv2', async () => (await import('../aws/elbv2.js')).ElasticLoadBalancingV2Client),
    elb: lazy('elb', async () => (await import('../aws/elb.js')).ElasticLoadBalancingClient),
    tagging: lazy('tagging', async () => (await import('../aws/tagging.js')).ResourceGroupsTaggingAPIClient),
  };
}
