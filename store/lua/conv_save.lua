-- Compare-and-set a caller's conversation (all keys on the caller's slot,
-- but for the SMS listings).
-- KEYS[1] ts:conv:{m}   hash: v (version), j (conversation JSON), r:<h>
--                       (the reply cached for delivery h), rs (those h,
--                       oldest first, space-separated), x (when the key
--                       expires, ms: its expiry is set only when too soon)
-- KEYS[2] ts:lang:{m}   remembered language (no TTL)
-- KEYS[3] ts:smsbox:{m} hash: ref → SMS the turn produced (sealed JSON),
--                       which the outbound queue delivers
-- KEYS[4…] per SMS, when ARGV[9] is not "": the queue and age sorted sets
--          of its shard (one Redis only: on a cluster they are other slots)
-- ARGV[1] expected version ("0": none), ARGV[2] JSON ("" deletes),
-- ARGV[3] expiry to set, ms, ARGV[4] reply h (32 characters; "" = none), ARGV[5] reply JSON,
-- ARGV[6] language ("" = keep), ARGV[7] new version (random, never "0"),
-- ARGV[8] TTL ms of KEYS[3], ARGV[9] due ms of the listings ("" = listed
-- already), ARGV[10] replies kept at least (past twice as many, the
-- oldest half goes), ARGV[11] the time the key must live until (ms), ARGV[12]
-- the time it lives until when its expiry is set (ms), ARGV[13…] per SMS:
-- ref, sealed JSON, listing member, queued ms.
-- Versions are compared as strings: Lua numbers lose digits past 2^53.
-- Returns 0, or -1 on conflict: the stored version differs, or a reply is
-- already cached for h (this delivery was answered by another turn).
local cur = redis.call('HMGET', KEYS[1], 'v', 'rs', 'r:' .. ARGV[4], 'x')
if (cur[1] or '0') ~= ARGV[1] then
  return -1
end
if ARGV[4] ~= '' and cur[3] then
  return -1
end
local set = {}
if ARGV[2] == '' then
  -- the replies stay: a retried delivery still gets the last words
  redis.call('HDEL', KEYS[1], 'v', 'j')
else
  set = {'v', ARGV[7], 'j', ARGV[2]}
end
if ARGV[4] ~= '' then
  -- every h is 32 characters: rs holds (#rs + 1) / 33 of them
  local rs = cur[2] or ''
  local keep = tonumber(ARGV[10])
  local n = (#rs + 1) / 33
  if n >= 2 * keep then
    local old = {}
    for i = 0, n - keep - 1 do
      old[#old + 1] = 'r:' .. string.sub(rs, 33 * i + 1, 33 * i + 32)
    end
    redis.call('HDEL', KEYS[1], unpack(old))
    rs = string.sub(rs, 33 * (n - keep) + 1)
  end
  if rs == '' then rs = ARGV[4] else rs = rs .. ' ' .. ARGV[4] end
  set[#set + 1] = 'rs'
  set[#set + 1] = rs
  set[#set + 1] = 'r:' .. ARGV[4]
  set[#set + 1] = ARGV[5]
end
if #set > 0 then
  local refresh = not cur[4] or tonumber(cur[4]) < tonumber(ARGV[11])
  if refresh then
    set[#set + 1] = 'x'
    set[#set + 1] = ARGV[12]
  end
  redis.call('HSET', KEYS[1], unpack(set))
  if refresh then
    redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
  end
end
if ARGV[6] ~= '' then
  redis.call('SET', KEYS[2], ARGV[6])
end
if #ARGV > 12 then
  local box = {}
  for i = 13, #ARGV, 4 do
    box[#box + 1] = ARGV[i]
    box[#box + 1] = ARGV[i + 1]
    if ARGV[9] ~= '' then
      local k = 4 + (i - 13) / 2
      redis.call('ZADD', KEYS[k], 'NX', ARGV[9], ARGV[i + 2])
      redis.call('ZADD', KEYS[k + 1], 'NX', ARGV[i + 3], ARGV[i + 2])
    end
  end
  redis.call('HSET', KEYS[3], unpack(box))
  redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[8]))
end
return 0
