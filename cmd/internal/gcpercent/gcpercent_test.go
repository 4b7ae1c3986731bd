package gcpercent

import (
	"runtime/debug"
	"testing"
)

func TestApply(t *testing.T) {
	was := debug.SetGCPercent(100)
	defer debug.SetGCPercent(was)
	tests := []struct {
		name string
		gogc string // "" unset
		set  int    // the target the runtime had from GOGC
		want int
	}{
		{"unset", "", 100, Default},
		{"set by the operator", "150", 150, 150},
		{"off", "off", -1, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			debug.SetGCPercent(tt.set)
			got := Apply(func(k string) string {
				if k == "GOGC" {
					return tt.gogc
				}
				return ""
			})
			now := debug.SetGCPercent(100)
			if got != tt.want || now != tt.want {
				t.Errorf("Apply = %d, the runtime's target %d; want %d", got, now, tt.want)
			}
		})
	}
}
