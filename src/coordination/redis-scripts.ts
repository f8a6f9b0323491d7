import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A Lua script run by EVALSHA, loaded with EVAL the first time a server does not know it. */
export interface LuaScript {
  readonly name: string;
  run(client: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
}

function defineScript(name: string, lua: string): LuaScript {
  const sha = createHash('sha1').update(lua).digest('hex');
  return {
    name,
    async run(client, keys, args) {
      try {
        return await client.evalsha(sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return await client.eval(lua, keys.length, ...keys, ...args);
      }
    },
  };
}

/** KEYS[1] lock; ARGV[1] token, ARGV[2] ttl ms → 1 when extended, 0 when the lock is not ours. */
export const extendLockScript = defineScript(
  'extend-lock',
  `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`,
);

/** KEYS[1] lock; ARGV[1] token → 1 when released, 0 when the lock is not ours. */
export const releaseLockScript = defineScript(
  'release-lock',
  `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`,
);
