// Package cowintest locates the real Co-WIN responses, kept outside the
// module in ../shared/data/cowin, for tests. When they are absent the test
// is skipped, or failed when the CI environment variable is set.
//
// It imports nothing of the module, so that store/cowin's own tests can use
// it.
package cowintest

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns ../shared/data/cowin beside the module root, the first folder
// holding go.mod from the working directory up.
func Dir(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := wd
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			t.Fatalf("no go.mod above %s", wd)
		}
		root = parent
	}
	dir := filepath.Join(root, "..", "shared", "data", "cowin")
	present(t, dir)
	return dir
}

// File returns the path of the named file in Dir.
func File(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(Dir(t), name)
	present(t, p)
	return p
}

// present skips the test when path is absent, or fails it under CI.
func present(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("real Co-WIN files not found (CI is set): %v", err)
		}
		t.Skipf("real Co-WIN files not found, skipping: %v", err)
	}
}
