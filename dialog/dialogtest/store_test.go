package dialogtest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

// TestGatewayShares: a gateway sees the data every other one writes, and
// peeks only at its own saves.
func TestGatewayShares(t *testing.T) {
	ctx := context.Background()
	a := New(Config{Clock: NewClock(Start)})
	b := a.Gateway()
	if _, err := a.AddBeneficiary(ctx, caller, person(1)); err != nil {
		t.Fatal(err)
	}
	c := &dialog.Conversation{Msisdn: caller, State: "home"}
	if err := a.Save(ctx, c, time.Minute, "", dialog.Reply{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		got  func() bool
		want bool
	}{
		{"b reads a's account", func() bool { acc, _ := b.Account(ctx, caller); return len(acc.Beneficiaries) == 1 }, true},
		{"b loads a's conversation", func() bool { l, _ := b.Load(ctx, caller, ""); return l.Conversation != nil }, true},
		{"a peeks at its save", func() bool { _, ok := a.Peek(caller, ""); return ok }, true},
		{"b does not peek at a's save", func() bool { _, ok := b.Peek(caller, ""); return ok }, false},
	}
	for _, tc := range tests {
		if got := tc.got(); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSealer(t *testing.T) {
	s := New(Config{})
	for _, plain := range []string{"234123412346", "ABCPE1234F", ""} {
		sealed, err := s.Seal(plain)
		if err != nil {
			t.Fatal(err)
		}
		if plain != "" && strings.Contains(sealed, plain) {
			t.Errorf("sealed %q holds it in clear: %q", plain, sealed)
		}
		if got, err := s.Gateway().Open(sealed); err != nil || got != plain {
			t.Errorf("another gateway opens %q as %q, %v", plain, got, err)
		}
	}
	if _, err := s.Open("sealed-0000"); !errors.Is(err, ErrUnseal) {
		t.Errorf("unknown token: %v, want ErrUnseal", err)
	}
}

func TestCheckMsisdn(t *testing.T) {
	for _, tc := range []struct {
		m  string
		ok bool
	}{{"+919830000001", true}, {"919830000001", false}, {"", false}, {"+", false}, {"+91{9830}", false}} {
		if err := checkMsisdn(tc.m); (err == nil) != tc.ok {
			t.Errorf("checkMsisdn(%q) = %v, want ok %v", tc.m, err, tc.ok)
		}
		if err := checkMsisdn(tc.m); err != nil && len(tc.m) > 4 && strings.Contains(err.Error(), tc.m) {
			t.Errorf("the error holds the whole number: %v", err)
		}
	}
}
