// Package cowintest locates the real Co-WIN responses kept in the module
// (store/cowin/testdata, described by its SOURCES.md) for the tests of any
// package.
//
// It imports nothing of the module, so that store/cowin's own tests can use
// it.
package cowintest

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns store/cowin/testdata below the module root, the first folder
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
	dir := filepath.Join(root, "store", "cowin", "testdata")
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

// present fails the test when path is absent.
func present(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("real Co-WIN files not found: %v", err)
	}
}
