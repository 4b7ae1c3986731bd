package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestRunUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"no-such-scenario"}, {"-callers", "0", "big-name"}} {
		var out, errw bytes.Buffer
		if code := run(context.Background(), args, &out, &errw); code != exitConfig {
			t.Errorf("run %q = %d, want %d", args, code, exitConfig)
		}
	}
	var errw bytes.Buffer
	run(context.Background(), nil, &bytes.Buffer{}, &errw)
	for _, s := range scenarios {
		if !strings.Contains(errw.String(), s.name) {
			t.Errorf("usage does not list %s", s.name)
		}
	}
}
