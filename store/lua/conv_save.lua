-- Compare-and-set a caller's conversation (all keys on the caller's slot).
-- KEYS[1] ts:conv:{m}   hash: v (version), j (conversation JSON)
-- KEYS[2] ts:reply:{m}:<h>  cached reply JSON
-- KEYS[3] ts:lang:{m}   remembered language (no TTL)
-- KEYS[4] ts:smsbox:{m} hash: ref → SMS the turn produced (JSON), which
--                       the outbound queue delivers
-- ARGV[1] expected version ("0": none), ARGV[2] JSON ("" deletes),
-- ARGV[3] ttl ms, ARGV[4] reply JSON ("" = none), ARGV[5] language
-- ("" = keep), ARGV[6] new version (random, never "0"), ARGV[7] TTL ms
-- of KEYS[4], ARGV[8…] ref, JSON, ref, JSON… of the SMS to keep.
-- Versions are compared as strings: Lua numbers lose digits past 2^53.
-- Returns 0, or -1 on conflict: the stored version differs, or a reply is
-- already cached under KEYS[2] (this delivery was answered by another turn).
if (redis.call('HGET', KEYS[1], 'v') or '0') ~= ARGV[1] then
  return -1
end
if ARGV[4] ~= '' and redis.call('EXISTS', KEYS[2]) == 1 then
  return -1
end
local ttl = tonumber(ARGV[3])
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('HSET', KEYS[1], 'v', ARGV[6], 'j', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ttl)
end
if ARGV[4] ~= '' then
  redis.call('SET', KEYS[2], ARGV[4], 'PX', ttl)
end
if ARGV[5] ~= '' then
  redis.call('SET', KEYS[3], ARGV[5])
end
if #ARGV > 7 then
  for i = 8, #ARGV, 2 do
    redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1])
  end
  redis.call('PEXPIRE', KEYS[4], tonumber(ARGV[7]))
end
return 0
