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

/** KEYS[1] due zset, KEYS[2] payload hash; ARGV[1] id, ARGV[2] due ms, ARGV[3] json. */
export const scheduleTimerScript = defineScript(
  'schedule-timer',
  `redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return 1`,
);

/** KEYS[1] due zset, KEYS[2] payload hash; ARGV[1] id → 1 when a timer was cancelled, else 0. */
export const cancelTimerScript = defineScript(
  'cancel-timer',
  `local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return removed`,
);

/**
 * KEYS[1] due zset, KEYS[2] payload hash; ARGV[1] now ms, ARGV[2] limit → flat [id, json, id, json…]
 * in due order (json false → nil when the payload is missing). One script, so each due timer is
 * removed by, and handed to, exactly one caller.
 */
export const takeDueScript = defineScript(
  'take-due',
  `local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', KEYS[2], id)
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
end
return out`,
);
