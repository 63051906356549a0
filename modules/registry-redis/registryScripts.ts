import { LuaScript } from '../shared/redis/luaScript.js';

/**
 * The registry's writes and its per-service read, each one atomic script, so that the entry, the indexes and the
 * change announcement can never disagree, whatever other processes do at the same moment.
 */

/**
 * KEYS: node key, service index, services set. ARGV: entry JSON, TTL ms (0: none), changes channel, service name.
 * Compares the new entry with the stored one: an identical entry is a renewal and announces nothing.
 * Returns the action: create, update or renew.
 */
export const REGISTER = new LuaScript(`
local previous = redis.call('GET', KEYS[1])
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
redis.call('SADD', KEYS[2], KEYS[1])
redis.call('SADD', KEYS[3], ARGV[4])
local action = 'renew'
if not previous then action = 'create' elseif previous ~= ARGV[1] then action = 'update' end
if action ~= 'renew' then
  redis.call('PUBLISH', ARGV[3], cjson.encode({ action = action, service = ARGV[4], key = KEYS[1] }))
end
return action
`);

/** KEYS: node key, service index, services set. ARGV: changes channel, service name. Returns 1 when a live node was removed. */
export const DEREGISTER = new LuaScript(`
local removed = redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], KEYS[1])
if redis.call('SCARD', KEYS[2]) == 0 then redis.call('SREM', KEYS[3], ARGV[2]) end
if removed == 1 then
  redis.call('PUBLISH', ARGV[1], cjson.encode({ action = 'delete', service = ARGV[2], key = KEYS[1] }))
end
return removed
`);

/**
 * KEYS: service index, services set. ARGV: service name. Returns [key, entry, key, entry, ...] for the live nodes,
 * and removes index members whose node key has expired (and the service name once none is left). Atomic, so a
 * node registered concurrently is never mistaken for an expired one.
 */
export const READ_SERVICE = new LuaScript(`
local found = {}
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local entry = redis.call('GET', key)
  if entry then
    table.insert(found, key)
    table.insert(found, entry)
  else
    redis.call('SREM', KEYS[1], key)
  end
end
if #found == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end
return found
`);
