/** Policy comparison: equal however IAM re-encodes them, and differences named precisely. */
import { describe, expect, it } from 'vitest';
import { describePolicyDiff, normalizePolicy, parsePolicy, samePolicy } from '../../src/aws/policy.js';

const trust = (sub: string) => ({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'AssumeFromServiceAccount',
      Effect: 'Allow',
      Principal: { Federated: 'arn:aws:iam::1:oidc-provider/oidc.example/id/X' },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { 'oidc.example/id/X:sub': sub, 'oidc.example/id/X:aud': 'sts.amazonaws.com' } },
    },
  ],
});

describe('policy documents', () => {
  it('parses the URL-encoded JSON IAM returns and plain JSON alike', () => {
    const doc = trust('system:serviceaccount:vault:vault');
    expect(parsePolicy(encodeURIComponent(JSON.stringify(doc)))).toEqual(doc);
    expect(parsePolicy(JSON.stringify(doc))).toEqual(doc);
    expect(() => parsePolicy('%7Bnot json')).toThrow(/not JSON/);
  });

  it('treats one-element arrays, reordering, duplicates and boolean strings as equal', () => {
    const a = {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'B', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:Encrypt'], Resource: '*' },
        {
          Sid: 'A',
          Effect: 'Allow',
          Action: 'ecr:GetAuthorizationToken',
          Resource: ['*'],
          Condition: { Bool: { x: true } },
        },
      ],
    };
    const b = {
      Statement: [
        {
          Resource: ['*'],
          Condition: { Bool: { x: ['true'] } },
          Action: ['ecr:GetAuthorizationToken'],
          Effect: 'Allow',
          Sid: 'A',
        },
        { Effect: 'Allow', Sid: 'B', Resource: '*', Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:Encrypt'] },
      ],
      Version: '2012-10-17',
    };
    expect(samePolicy(a, encodeURIComponent(JSON.stringify(b)))).toBe(true);
    expect(normalizePolicy(a)).toEqual(normalizePolicy(b));
  });

  it('a single statement object equals a one-element statement list', () => {
    const doc = trust('s');
    expect(samePolicy(doc, { ...doc, Statement: doc.Statement[0] })).toBe(true);
  });

  it('names the statement, the path and both values of a difference', () => {
    const diff = describePolicyDiff(
      trust('system:serviceaccount:vault:vault'),
      trust('system:serviceaccount:default:x'),
    );
    expect(diff).toEqual([
      'statement AssumeFromServiceAccount Condition.StringEquals.oidc.example/id/X:sub: want ["system:serviceaccount:vault:vault"], found ["system:serviceaccount:default:x"]',
    ]);
    expect(samePolicy(trust('a'), trust('b'))).toBe(false);
  });

  it('reports missing and unexpected statements', () => {
    const want = trust('a');
    const found = { Version: '2012-10-17', Statement: [{ Sid: 'Other', Effect: 'Allow', Action: '*', Resource: '*' }] };
    expect(describePolicyDiff(want, found)).toEqual([
      'statement AssumeFromServiceAccount missing',
      'unexpected statement Other',
    ]);
    expect(describePolicyDiff(want, want)).toEqual([]);
  });
});
