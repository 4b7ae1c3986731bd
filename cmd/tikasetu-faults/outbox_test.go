package main

import (
	"testing"
	"time"
)

func TestSpread(t *testing.T) {
	from := time.Unix(1000, 0)
	ds := []Delivery{{At: from.Add(-time.Second)}, {At: from.Add(3 * time.Second)}, {At: from.Add(time.Second)}}
	before, first, last := spread(ds, from)
	if before != 1 || first != time.Second || last != 3*time.Second {
		t.Errorf("spread = %d, %s, %s", before, first, last)
	}
	if _, first, last := spread(nil, from); first != -1 || last != -1 {
		t.Errorf("spread(nil) = %s, %s", first, last)
	}
}
