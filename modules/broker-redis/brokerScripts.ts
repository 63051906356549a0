import { LuaScript } from '../shared/redis/luaScript.js';

/**
 * Publishes a batch of events, in order. KEYS: the stream of each topic in the batch. ARGV: MAXLEN (0: no cap), the
 * number of topics T, the channel of each topic (T of them), then three per event: its topic's index (1-based, into
 * KEYS and the channels), headers JSON, body.
 * One atomic step feeds both paths, so a broadcast subscription and a queue group on one topic see the same
 * events: XADD to the stream, but only once the stream exists, i.e. once some queue group has been created for the
 * topic (topics nobody queues on do not accumulate streams), then PUBLISH to the channel (frame built here: `TSM1`,
 * u32 headers length, headers, body). Whether a stream exists is asked once per topic per batch (nothing else runs
 * while a script does). Each event's commands run under pcall, so one that fails (a key of the wrong type, say)
 * does not stop the others; an event whose XADD failed is not PUBLISHed either.
 * Returns the failures as a flat list: the event's 0-based index, then the error, for each event that failed.
 */
export const PUBLISH_BATCH = new LuaScript(`
local maxLen = tonumber(ARGV[1])
local topics = tonumber(ARGV[2])
local live = {}
for t = 1, topics do
  live[t] = redis.call('EXISTS', KEYS[t]) == 1
end
local failed = {}
local index = 0
for i = 3 + topics, #ARGV, 3 do
  local t = tonumber(ARGV[i])
  local headers = ARGV[i + 1]
  local body = ARGV[i + 2]
  local reply = true
  if live[t] then
    if maxLen > 0 then
      reply = redis.pcall('XADD', KEYS[t], 'MAXLEN', '~', maxLen, '*', 'headers', headers, 'body', body)
    else
      reply = redis.pcall('XADD', KEYS[t], '*', 'headers', headers, 'body', body)
    end
  end
  if type(reply) ~= 'table' or not reply.err then
    reply = redis.pcall('PUBLISH', ARGV[2 + t], 'TSM1' .. struct.pack('>I4', string.len(headers)) .. headers .. body)
  end
  if type(reply) == 'table' and reply.err then
    failed[#failed + 1] = index
    failed[#failed + 1] = reply.err
  end
  index = index + 1
end
return failed
`);
