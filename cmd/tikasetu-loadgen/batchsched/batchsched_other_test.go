//go:build !linux

package batchsched

import (
	"errors"
	"testing"
)

func TestNotLinux(t *testing.T) {
	tests := []struct {
		name string
		call func() error
	}{
		{"Enable", func() error { _, err := Enable(); return err }},
		{"Threads", func() error { _, _, err := Threads(); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, errNotLinux) {
				t.Fatalf("error %v, want %v", err, errNotLinux)
			}
		})
	}
}
