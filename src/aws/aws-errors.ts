/**
 * AWS SDK errors as PlatctlErrors a human can act on: AccessDenied names the action, the resource and the
 * calling principal; bad or expired credentials say so; everything else names what was being done.
 * Throttling never gets here in the normal case: the clients retry it (adaptive retry).
 */
import type { AwsClients } from '../clients/aws.js';
import type { ClusterConfig } from '../config/schema.js';
import { describeError, isPlatctlError, PlatctlError } from '../errors.js';
import { assertAccount } from './account.js';

interface SdkError {
  name?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const accessDenied = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'UnauthorizedException',
  'AuthorizationError',
]);
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

/** The SDK error's name ("AccessDeniedException"), or undefined for anything that is not an SDK error. */
export function awsErrorName(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as SdkError;
  return e.Code ?? e.name;
}

/** The HTTP status of an SDK error, if it got that far. */
export function awsHttpStatus(err: unknown): number | undefined {
  return (err as SdkError | undefined)?.$metadata?.httpStatusCode;
}

/** True when the error says the thing does not exist (NotFound, NoSuchEntity, ResourceNotFoundException…). */
export function isAwsNotFound(err: unknown): boolean {
  const name = awsErrorName(err) ?? '';
  return /NotFound|NoSuchEntity|\.NotFound$/.test(name);
}

/** True for an AccessDenied-like error. */
export function isAwsAccessDenied(err: unknown): boolean {
  return accessDenied.has(awsErrorName(err) ?? '');
}

/**
 * Translates an AWS SDK error from calling `action` on `resource`. AccessDenied names the principal when given;
 * a PlatctlError passes through unchanged.
 */
export function awsError(action: string, resource: string, err: unknown, principal?: string): PlatctlError {
  if (isPlatctlError(err)) return err;
  const name = awsErrorName(err) ?? '';
  const who = principal ?? 'the calling principal';
  if (accessDenied.has(name) || awsHttpStatus(err) === 403) {
    return new PlatctlError('AWS_ACCESS_DENIED', `AccessDenied: ${who} is not allowed to call ${action} on ${resource}`, {
      cause: err,
      hint: `grant ${action} on ${resource} to ${who} (the permissions each step needs are in docs/steps/<step>.md)`,
    });
  }
  if (badCredentials.has(name)) {
    return new PlatctlError('AWS_CREDENTIALS', `${action} on ${resource}: ${describeError(err)}`, {
      cause: err,
      hint: 'refresh your AWS credentials (aws sso login, a new session token) and run `platctl doctor`',
    });
  }
  if (throttled.has(name)) {
    return new PlatctlError('AWS_API', `${action} on ${resource} was throttled after retries: ${describeError(err)}`, {
      cause: err,
      hint: 'wait a minute and run again; other automation may be using the same API heavily',
    });
  }
  return new PlatctlError('AWS_API', `${action} on ${resource} failed: ${describeError(err)}`, { cause: err });
}

/**
 * Runs one AWS call and translates its failure with {@link awsError}, naming the caller from the (cached)
 * GetCallerIdentity answer. Use in steps: `await awsCall(ctx, 'eks:DescribeCluster', name, () => eks.send(…))`.
 */
export async function awsCall<T>(
  ctx: { aws: AwsClients; cluster: ClusterConfig },
  action: string,
  resource: string,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (err) {
    let principal: string | undefined;
    if (isAwsAccessDenied(err) || awsHttpStatus(err) === 403) {
      principal = await assertAccount(ctx.aws, ctx.cluster).then(
        (id) => id.arn,
        () => undefined,
      );
    }
    throw awsError(action, resource, err, principal);
  }
}

/** Like {@link awsCall}, for reads: resolves undefined when the resource does not exist. */
export async function awsGet<T>(
  ctx: { aws: AwsClients; cluster: ClusterConfig },
  action: string,
  resource: string,
  call: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await awsCall(ctx, action, resource, call);
  } catch (err) {
    if (isAwsNotFound((err as { cause?: unknown }).cause)) return undefined;
    throw err;
  }
}
