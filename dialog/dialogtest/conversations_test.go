package dialogtest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

// TestConversationExpiry: a conversation and its reply expire with the
// Clock at their ttl (30 minutes when none is given); the language stays.
func TestConversationExpiry(t *testing.T) {
	for _, tc := range []struct {
		ttl, after time.Duration
		kept       bool
	}{
		{13 * time.Minute, 13*time.Minute - time.Millisecond, true},
		{13 * time.Minute, 13 * time.Minute, false},
		{0, 30*time.Minute - time.Millisecond, true},
		{0, 30 * time.Minute, false},
	} {
		ctx := context.Background()
		clock := NewClock(Start)
		s := New(Config{Clock: clock})
		c := &dialog.Conversation{Msisdn: caller, State: "home", Lang: "hi"}
		if err := s.Save(ctx, c, tc.ttl, "k", dialog.Reply{Text: "x"}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(tc.after)
		l, err := s.Load(ctx, caller, "k")
		if err != nil {
			t.Fatal(err)
		}
		if (l.Conversation != nil) != tc.kept || (l.Cached != nil) != tc.kept || l.Lang != "hi" {
			t.Errorf("ttl %v, after %v: %+v, want kept %v and the language", tc.ttl, tc.after, l, tc.kept)
		}
		// An expired conversation is saved anew from version 0.
		if !tc.kept {
			if err := s.Save(ctx, &dialog.Conversation{Msisdn: caller, State: "lang"}, 0, "", dialog.Reply{}); err != nil {
				t.Errorf("save after expiry: %v", err)
			}
		}
	}
}

// TestConversationStoredAsJSON: what JSON does not carry is not kept, and
// a loaded conversation shares nothing with the one saved.
func TestConversationStoredAsJSON(t *testing.T) {
	ctx := context.Background()
	s := New(Config{Clock: NewClock(Start)})
	c := &dialog.Conversation{Msisdn: caller, State: "pin", Booking: dialog.Booking{Who: []string{"1"}}}
	if err := s.Save(ctx, c, time.Minute, "", dialog.Reply{}); err != nil {
		t.Fatal(err)
	}
	c.Booking.Who[0] = "changed after the save"
	l, _ := s.Load(ctx, caller, "")
	if l.Conversation.Booking.Who[0] != "1" || l.Conversation.Version != c.Version {
		t.Errorf("loaded %+v", l.Conversation)
	}
}

// TestConcurrentTurns: many goroutines run read-modify-write turns on one
// caller with compare-and-set; every turn that landed counts once.
func TestConcurrentTurns(t *testing.T) {
	ctx := context.Background()
	s := New(Config{Clock: NewClock(Start)})
	if err := s.Save(ctx, &dialog.Conversation{Msisdn: caller, State: "s", Page: 0}, time.Hour, "", dialog.Reply{}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	landed := 0
	for range 8 {
		wg.Go(func() {
			for range 50 {
				l, err := s.Load(ctx, caller, "")
				if err != nil {
					t.Error(err)
					return
				}
				l.Conversation.Page++
				err = s.Save(ctx, l.Conversation, time.Hour, "", dialog.Reply{})
				switch {
				case err == nil:
					mu.Lock()
					landed++
					mu.Unlock()
				case !errors.Is(err, dialog.ErrConflict):
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	l, _ := s.Load(ctx, caller, "")
	if l.Conversation.Page != landed || landed == 0 {
		t.Errorf("page %d after %d saves landed", l.Conversation.Page, landed)
	}
}
