-- Free a seat hold in one vaccination session (idempotent).
-- KEYS[1] ts:seats:{sid}, KEYS[2] ts:hold:{sid}
-- ARGV[1] field <ref>:<dose>, ARGV[2] mode:
--   'appt'  ARGV[3] appointment id, ARGV[4] hold token: release only the
--           hold that this appointment made (cancel, reschedule);
--   'exact' ARGV[3] the whole holder value as read by Repair.
-- Keeps d = max(0, i - h). Returns 1 when a seat was freed, else 0.
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if not cur then
  return 0
end
local id, m, dose, tok = string.match(cur, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)')
if ARGV[2] == 'exact' then
  if cur ~= ARGV[3] then
    return 0
  end
elseif id ~= ARGV[3] or tok ~= ARGV[4] then
  return 0
end
redis.call('HDEL', KEYS[2], ARGV[1])
local h = redis.call('HINCRBY', KEYS[1], 'h' .. dose, -1)
if h < 0 then
  h = 0
  redis.call('HSET', KEYS[1], 'h' .. dose, 0)
end
local i = tonumber(redis.call('HGET', KEYS[1], 'i' .. dose) or '0')
local d = i - h
if d < 0 then
  d = 0
end
redis.call('HSET', KEYS[1], 'd' .. dose, d)
return 1
