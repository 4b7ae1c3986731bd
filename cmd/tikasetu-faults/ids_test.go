package main

import (
	"math/rand/v2"
	"testing"

	"github.com/tikasetu/tikasetu/dialog"
)

func TestIDsAreValidAndFresh(t *testing.T) {
	x := newIDs(rand.New(rand.NewPCG(1, 2)))
	seen := map[string]bool{}
	for range 1000 {
		m := x.Msisdn()
		if _, err := dialog.NormaliseMsisdn(m); err != nil || len(m) != 13 {
			t.Fatalf("msisdn %s: %v", dialog.MaskMsisdn(m), err)
		}
		a := x.Aadhaar()
		if _, err := dialog.NormaliseID(dialog.IDAadhaar, a); err != nil {
			t.Fatalf("aadhaar %s: %v", dialog.MaskID(dialog.IDAadhaar, a), err)
		}
		if seen[m] || seen[a] {
			t.Fatal("a number repeated")
		}
		seen[m], seen[a] = true, true
	}
}
