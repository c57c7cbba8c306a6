import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { envFromSecrets } from './secret-env.ts';

describe('envFromSecrets', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'secret-env-'));
  writeFileSync(path.join(dir, 'mongo-url'), 'mongodb://u:p@mongo:27017/chat\n');

  it('fills an unset variable from its mounted secret, trimmed', () => {
    const env: Record<string, string | undefined> = { SECRETS_DIR: dir };
    expect(envFromSecrets(undefined, env)).toEqual(['MONGO_URL']);
    expect(env.MONGO_URL).toBe('mongodb://u:p@mongo:27017/chat');
    // no secret file for these: left unset, so the config defaults apply
    expect(env.REDIS_URL).toBeUndefined();
    expect(env.AMQP_URL).toBeUndefined();
  });

  it('never overrides an explicit variable', () => {
    const env: Record<string, string | undefined> = { SECRETS_DIR: dir, MONGO_URL: 'mongodb://local/chat' };
    expect(envFromSecrets(undefined, env)).toEqual([]);
    expect(env.MONGO_URL).toBe('mongodb://local/chat');
  });
});
