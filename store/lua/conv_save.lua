-- Compare-and-set a caller's conversation (all keys on the caller's slot,
-- but for the SMS listings).
-- KEYS[1] ts:conv:{m}   hash: v (version), j (the conversation with the
--                       replies to its last deliveries; once it ended, the
--                       replies alone), t (once it ended: the hashes of
--                       those deliveries, 32 characters each), x (when the
--                       key expires, ms: its expiry is set only when too soon)
-- KEYS[2] ts:lang:{m}   remembered language (no TTL)
-- KEYS[3] ts:smsbox:{m} hash: ref → SMS the turn produced (sealed JSON),
--                       which the outbound queue delivers
-- KEYS[4…] per SMS, when ARGV[8] is not "": the queue and age sorted sets
--          of its shard (one Redis only: on a cluster they are other slots)
-- ARGV[1] expected version ("0": none), ARGV[2] j, ARGV[3] expiry to set, ms,
-- ARGV[4] hash of this delivery ("" = none), ARGV[5] language ("" = keep),
-- ARGV[6] new version (random; "0" = the conversation ends),
-- ARGV[7] TTL ms of KEYS[3], ARGV[8] due ms of the listings ("" = listed
-- already), ARGV[9] t when it ends, ARGV[10] the time the key must live
-- until (ms), ARGV[11] the time it lives until when its expiry is set (ms),
-- ARGV[12…] per SMS: ref, sealed JSON, listing member, queued ms.
-- The caller checks its own copy's replies; t covers a conversation that
-- ended since that copy was read, which a new one's version cannot.
-- Versions are compared as strings: Lua numbers lose digits past 2^53.
-- Returns 0, or -1 on conflict: the stored version differs, or the
-- conversation that ended answered this delivery.
local cur = redis.call('HMGET', KEYS[1], 'v', 'x', 't')
if (cur[1] or '0') ~= ARGV[1] then
  return -1
end
if cur[3] and ARGV[4] ~= '' and string.find(cur[3], ARGV[4], 1, true) then
  return -1
end
local set = {'j', ARGV[2]}
local gone = nil
if ARGV[6] == '0' then
  gone = 'v'
  set[#set + 1] = 't'
  set[#set + 1] = ARGV[9]
else
  set[#set + 1] = 'v'
  set[#set + 1] = ARGV[6]
  if cur[3] then gone = 't' end
end
local refresh = not cur[2] or tonumber(cur[2]) < tonumber(ARGV[10])
if refresh then
  set[#set + 1] = 'x'
  set[#set + 1] = ARGV[11]
end
redis.call('HSET', KEYS[1], unpack(set))
if gone then
  redis.call('HDEL', KEYS[1], gone)
end
if refresh then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
end
if ARGV[5] ~= '' then
  redis.call('SET', KEYS[2], ARGV[5])
end
if #ARGV > 11 then
  local box = {}
  for i = 12, #ARGV, 4 do
    box[#box + 1] = ARGV[i]
    box[#box + 1] = ARGV[i + 1]
    if ARGV[8] ~= '' then
      local k = 4 + (i - 12) / 2
      redis.call('ZADD', KEYS[k], 'NX', ARGV[8], ARGV[i + 2])
      redis.call('ZADD', KEYS[k + 1], 'NX', ARGV[i + 3], ARGV[i + 2])
    end
  end
  redis.call('HSET', KEYS[3], unpack(box))
  redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[7]))
end
return 0
