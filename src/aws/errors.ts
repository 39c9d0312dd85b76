/**
 * Turns AWS SDK errors into platctl errors people can act on. An AccessDenied names the API action, the resource
 * and the calling principal, because "access denied" alone sends people hunting through CloudTrail.
 */
import type { AwsClients } from '../clients/aws.js';
import type { ClusterConfig } from '../config/schema.js';
import { describeError, isPlatctlError, PlatctlError } from '../errors.js';
import { assertAccount } from './account.js';

/** What was being attempted when an AWS call failed. */
export interface AwsAttempt {
  /** The IAM action, e.g. "iam:CreateRole". */
  action: string;
  /** The resource, e.g. "role eks-vault-demo" or an ARN. */
  resource: string;
  /** The calling principal's ARN (from STS GetCallerIdentity), when known. */
  principal?: string;
}

/** Error names AWS services use for a refused permission. */
const deniedNames = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'UnauthorizedAccess',
  'NotAuthorized',
]);

/**
 * The AWS error code of an SDK error ("NoSuchEntity", "NotFoundException", "InvalidGroup.NotFound" …), also when
 * it is the cause of a PlatctlError made by {@link explainAwsError}.
 */
export function awsErrorName(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  if (isPlatctlError(err)) return awsErrorName(err.cause);
  const e = err as { Code?: unknown; name?: unknown; code?: unknown };
  for (const v of [e.Code, e.name, e.code]) if (typeof v === 'string' && v && v !== 'Error') return v;
  return undefined;
}

/** True when the SDK error's code is one of `names` (an "Exception" suffix is ignored on both sides). */
export function isAwsError(err: unknown, ...names: string[]): boolean {
  const strip = (s: string) => s.replace(/Exception$/, '');
  const name = awsErrorName(err);
  return name !== undefined && names.some((n) => strip(n) === strip(name));
}

/** True when AWS refused the call for lack of permission. */
export function isAccessDenied(err: unknown): boolean {
  const name = awsErrorName(err);
  if (name && deniedNames.has(name)) return true;
  const status = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  return status === 403 && name !== 'ExpiredToken' && name !== 'InvalidClientTokenId';
}

const badCredentials = new Set([
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'CredentialsProviderError',
]);
const throttled = new Set(['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded']);

/** The HTTP status of an SDK error, if it got that far. */
export function awsHttpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** True when the error says the thing does not exist (NotFound, NoSuchEntity, ResourceNotFoundException…). */
export function isAwsNotFound(err: unknown): boolean {
  return /NotFound|NoSuchEntity/.test(awsErrorName(err) ?? '');
}

/** The principal AWS names in a denial message ("User: arn:aws:… is not authorized to perform …"). */
function principalFromMessage(message: string): string | undefined {
  return /User: (arn:[^\s]+) is not authorized/.exec(message)?.[1];
}

/**
 * Wraps an AWS SDK error. AccessDenied → AWS_ACCESS_DENIED naming the action, the resource and the principal, with
 * a hint to grant that action; anything else → AWS_API "<action> on <resource> failed: <cause>". A PlatctlError
 * passes through unchanged.
 */
export function explainAwsError(err: unknown, what: AwsAttempt): PlatctlError {
  if (isPlatctlError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (isAccessDenied(err)) {
    const principal = what.principal || principalFromMessage(message) || 'the current AWS credentials';
    return new PlatctlError('AWS_ACCESS_DENIED', `AWS denied ${what.action} on ${what.resource} to ${principal}`, {
      cause: err,
      hint: `grant ${what.action} to ${principal} (docs/steps/<step>.md lists every permission a step needs), or run with credentials that have it`,
    });
  }
  const name = awsErrorName(err) ?? '';
  if (badCredentials.has(name)) {
    return new PlatctlError('AWS_CREDENTIALS', `${what.action} on ${what.resource}: ${describeError(err)}`, {
      cause: err,
      hint: 'refresh your AWS credentials (aws sso login, a new session token) and run `platctl doctor`',
    });
  }
  if (throttled.has(name)) {
    return new PlatctlError(
      'AWS_API',
      `${what.action} on ${what.resource} was throttled after retries: ${describeError(err)}`,
      {
        cause: err,
        hint: 'wait a minute and run again; other automation may be using the same API heavily',
      },
    );
  }
  return new PlatctlError('AWS_API', `${what.action} on ${what.resource} failed: ${describeError(err)}`, {
    cause: err,
  });
}

/** Runs one AWS call, translating its failure with {@link explainAwsError}. */
export async function awsCall<T>(what: AwsAttempt, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw explainAwsError(err, what);
  }
}

/**
 * Runs one AWS call for a step and translates its failure, naming the caller (from the run's cached
 * GetCallerIdentity) when access is denied: `await awsCallFor(ctx, 'eks:DescribeCluster', name, () => …)`.
 */
export async function awsCallFor<T>(
  ctx: { aws: AwsClients; cluster: ClusterConfig },
  action: string,
  resource: string,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const principal = isAccessDenied(err)
      ? await assertAccount(ctx.aws, ctx.cluster).then(
          (id) => id.arn,
          () => undefined,
        )
      : undefined;
    throw explainAwsError(err, { action, resource, principal });
  }
}

/** Like {@link awsCallFor}, for reads: resolves undefined when the resource does not exist. */
export async function awsGet<T>(
  ctx: { aws: AwsClients; cluster: ClusterConfig },
  action: string,
  resource: string,
  call: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await awsCallFor(ctx, action, resource, call);
  } catch (err) {
    if (isAwsNotFound(err)) return undefined;
    throw err;
  }
}
