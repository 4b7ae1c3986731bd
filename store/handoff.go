package store

import (
	"context"
	"fmt"
	"time"
)

// handoffKey is there while msisdn may not get another hand-off SMS.
func handoffKey(m string) string { return "ts:handoff:{" + m + "}" }

// HandoffOnce reports whether msisdn may be sent the hand-off SMS (a USSD
// session dropped mid-journey) now, and if so holds every later call off
// for per, on whichever gateway it comes: at most one such SMS a number
// each per. The hold is a key set if absent, expiring after per.
func (s *Store) HandoffOnce(ctx context.Context, msisdn string, per time.Duration) (bool, error) {
	if err := checkMsisdn(msisdn); err != nil {
		return false, err
	}
	if per <= 0 {
		return false, fmt.Errorf("store: hand-off period %v: want more than 0", per)
	}
	first, err := s.rdb.SetNX(ctx, handoffKey(msisdn), 1, per).Result()
	if err != nil {
		return false, wrap("hand-off", err)
	}
	return first, nil
}

// KeepConversation keeps msisdn's conversation, if there is one, for ttl
// from now instead of its idle time: the hand-off SMS tells the caller
// their progress is saved, and they may answer it hours later. The next
// turn's save sets the idle time again.
func (s *Store) KeepConversation(ctx context.Context, msisdn string, ttl time.Duration) error {
	if err := checkMsisdn(msisdn); err != nil {
		return err
	}
	if err := s.rdb.PExpire(ctx, convKey(msisdn), ttl).Err(); err != nil {
		return wrap("keep conversation", err)
	}
	return nil
}
