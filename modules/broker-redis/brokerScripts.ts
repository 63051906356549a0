import { LuaScript } from '../shared/redis/luaScript.js';

/**
 * KEYS: the topic's stream. ARGV: channel, headers JSON, body, MAXLEN (0: no cap).
 * One atomic step feeds both paths, so a broadcast subscription and a queue group on one topic see the same
 * events: PUBLISH to the channel (frame built here: `TSM1`, u32 headers length, headers, body), and XADD to the
 * stream, but only once the stream exists, i.e. once some queue group has been created for the topic; topics
 * nobody queues on do not accumulate streams. Returns the stream entry id, or nil when there is no stream.
 */
export const PUBLISH = new LuaScript(`
local id = false
if redis.call('EXISTS', KEYS[1]) == 1 then
  if tonumber(ARGV[4]) > 0 then
    id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], '*', 'headers', ARGV[2], 'body', ARGV[3])
  else
    id = redis.call('XADD', KEYS[1], '*', 'headers', ARGV[2], 'body', ARGV[3])
  end
end
redis.call('PUBLISH', ARGV[1], 'TSM1' .. struct.pack('>I4', string.len(ARGV[2])) .. ARGV[2] .. ARGV[3])
return id
`);
