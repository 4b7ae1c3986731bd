package loadgen

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/tikasetu/tikasetu/dialog"
)

func TestIdentitiesAreValidAndDistinct(t *testing.T) {
	ids := newIdentities(rand.New(rand.NewPCG(1, 2)))
	const n = 20000
	var mu sync.Mutex
	msisdns, aadhaars := map[string]bool{}, map[string]bool{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n / 4 {
				m, a := ids.Msisdn(), ids.Aadhaar()
				mu.Lock()
				msisdns[m], aadhaars[a] = true, true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(msisdns) != n || len(aadhaars) != n {
		t.Fatalf("%d distinct numbers and %d distinct Aadhaars of %d", len(msisdns), len(aadhaars), n)
	}
	for m := range msisdns {
		if len(m) != 10 || m[0] < '6' || m[0] > '9' {
			t.Fatalf("bad mobile number %q", m)
		}
		if _, err := dialog.NormaliseMsisdn(m); err != nil {
			t.Fatalf("%q: %v", m, err)
		}
	}
	for a := range aadhaars {
		if _, err := dialog.NormaliseID(dialog.IDAadhaar, a); err != nil {
			t.Fatalf("Aadhaar %q refused: %v", a, err)
		}
	}
}

// A sequence visits every value of a small space once before repeating.
func TestSequenceIsAPermutation(t *testing.T) {
	for seed := range uint64(10) {
		s := newSequence(100, 1000, rand.New(rand.NewPCG(seed, seed)))
		seen := map[uint64]bool{}
		for range 1000 {
			v := s.take()
			if v < 100 || v >= 1100 || seen[v] {
				t.Fatalf("seed %d: %d repeated or out of range", seed, v)
			}
			seen[v] = true
		}
	}
}
