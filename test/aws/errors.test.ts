/** AWS error translation: an AccessDenied names the action, the resource and the calling principal. */
import { IAMServiceException } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { awsCall, explainAwsError, isAccessDenied, isAwsError } from '../../src/aws/errors.js';
import { PlatctlError } from '../../src/errors.js';

/** A real SDK exception object, shaped as the IAM client throws it for a refused call. */
const denied = (message: string) =>
  new IAMServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message });

describe('explainAwsError', () => {
  it('names the action, the resource and the principal of an AccessDenied', () => {
    const err = explainAwsError(denied('not authorized'), {
      action: 'iam:CreateRole',
      resource: 'role eks-vault-demo',
      principal: 'arn:aws:sts::123456789012:assumed-role/dev/alice',
    });
    expect(err.code).toBe('AWS_ACCESS_DENIED');
    expect(err.message).toBe(
      'AWS denied iam:CreateRole on role eks-vault-demo to arn:aws:sts::123456789012:assumed-role/dev/alice',
    );
    expect(err.hint).toContain('grant iam:CreateRole to arn:aws:sts::123456789012:assumed-role/dev/alice');
    expect(err.cause).toBeInstanceOf(IAMServiceException);
  });

  it("takes the principal from AWS's own message when the caller is not known", () => {
    const err = explainAwsError(
      denied(
        'User: arn:aws:iam::123456789012:user/bob is not authorized to perform: kms:CreateKey on resource: * because no identity-based policy allows it',
      ),
      { action: 'kms:CreateKey', resource: 'alias/platctl/demo/vault' },
    );
    expect(err.message).toBe(
      'AWS denied kms:CreateKey on alias/platctl/demo/vault to arn:aws:iam::123456789012:user/bob',
    );
  });

  it('recognises the denial names of KMS and EC2 and a bare 403', () => {
    expect(isAccessDenied(Object.assign(new Error('x'), { name: 'AccessDeniedException' }))).toBe(true);
    expect(isAccessDenied(Object.assign(new Error('x'), { Code: 'UnauthorizedOperation' }))).toBe(true);
    expect(isAccessDenied({ name: 'Weird', $metadata: { httpStatusCode: 403 } })).toBe(true);
    expect(isAccessDenied({ name: 'ExpiredToken', $metadata: { httpStatusCode: 403 } })).toBe(false);
    expect(isAccessDenied(Object.assign(new Error('x'), { name: 'NoSuchEntityException' }))).toBe(false);
    const fallback = explainAwsError(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }), {
      action: 'kms:Decrypt',
      resource: 'key k',
    });
    expect(fallback.message).toBe('AWS denied kms:Decrypt on key k to the current AWS credentials');
  });

  it('wraps any other error as AWS_API (throttling named as such) naming the action and resource, and passes PlatctlErrors through', () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    const err = explainAwsError(throttled, { action: 'iam:GetRole', resource: 'role r' });
    expect(err.code).toBe('AWS_API');
    expect(err.message).toBe('iam:GetRole on role r was throttled after retries: Throttling: Rate exceeded');
    const mine = new PlatctlError('CONFIG_INVALID', 'bad');
    expect(explainAwsError(mine, { action: 'a', resource: 'r' })).toBe(mine);
  });

  it('awsCall translates failures, and isAwsError still sees the SDK code through the wrapper', async () => {
    const gone = Object.assign(new Error('no such role'), { name: 'NoSuchEntityException' });
    const err = await awsCall({ action: 'iam:GetRole', resource: 'role r' }, () => Promise.reject(gone)).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PlatctlError);
    expect(isAwsError(err, 'NoSuchEntity')).toBe(true);
    expect(isAwsError(err, 'EntityAlreadyExists')).toBe(false);
    expect(await awsCall({ action: 'x', resource: 'y' }, async () => 42)).toBe(42);
  });
});
