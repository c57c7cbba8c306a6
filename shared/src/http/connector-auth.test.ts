import { describe, expect, it } from 'vitest';
import { connectorSecretMatches } from './connector-auth.ts';

describe('connectorSecretMatches', () => {
  it('accepts only the exact secret', () => {
    expect(connectorSecretMatches('s3cret-value', 's3cret-value')).toBe(true);
    expect(connectorSecretMatches('s3cret-value', 's3cret-valuE')).toBe(false);
    expect(connectorSecretMatches('s3cret-value', 's3cret')).toBe(false);
    expect(connectorSecretMatches('s3cret-value', '')).toBe(false);
    expect(connectorSecretMatches('s3cret-value', undefined)).toBe(false);
    expect(connectorSecretMatches('', '')).toBe(false);
  });
});
