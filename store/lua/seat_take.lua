-- Booking step 2: take (or keep) a seat in one vaccination session.
-- KEYS[1] ts:seats:{sid}  hash: i1 i2 (imported) h1 h2 (held) d1 d2 (free), s
-- KEYS[2] ts:hold:{sid}   hash: <ref>:<dose> -> apptID|msisdn|dose|token|heldMs
-- ARGV[1] field <ref>:<dose>, ARGV[2] dose, ARGV[3] new appointment id,
-- ARGV[4] msisdn, ARGV[5] hold token, ARGV[6] now ms
-- Returns {0, id} for a new seat, {1, id} when the beneficiary already held
-- one here (capacity unchanged, the hold gets the new token), {-1, ''} when
-- no seat is free for the dose, {-2, ''} for an unknown session, {-3, ''}
-- when the hold belongs to another account.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {-2, ''}
end
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if cur then
  local id, m = string.match(cur, '^([^|]*)|([^|]*)|')
  if m ~= ARGV[4] then
    return {-3, ''}
  end
  redis.call('HSET', KEYS[2], ARGV[1], id .. '|' .. ARGV[4] .. '|' .. ARGV[2] .. '|' .. ARGV[5] .. '|' .. ARGV[6])
  return {1, id}
end
local free = tonumber(redis.call('HGET', KEYS[1], 'd' .. ARGV[2]) or '0')
if free <= 0 then
  return {-1, ''}
end
redis.call('HINCRBY', KEYS[1], 'd' .. ARGV[2], -1)
redis.call('HINCRBY', KEYS[1], 'h' .. ARGV[2], 1)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3] .. '|' .. ARGV[4] .. '|' .. ARGV[2] .. '|' .. ARGV[5] .. '|' .. ARGV[6])
return {0, ARGV[3]}
