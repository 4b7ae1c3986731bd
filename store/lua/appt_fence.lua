-- Repair: before freeing a seat that no appointment owns, fence the
-- account's field so that a booking still between its steps 1 and 3 fails
-- its compare-and-set instead of writing an appointment onto a freed seat.
-- KEYS[1] ts:appt:{m}, KEYS[2] ts:apptgen:{m}
-- ARGV[1] field, ARGV[2] the appointment JSON Repair read ('' = none)
-- Returns 1 when fenced (the field is unchanged since read), else 0.
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if (cur == false and ARGV[2] == '') or cur == ARGV[2] then
  redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
  return 1
end
return 0
