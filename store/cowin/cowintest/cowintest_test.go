package cowintest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB whose Fatalf and Fatal record the message and
// end the goroutine, as the real ones do, without ending the test.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) {
	r.failed = fmt.Sprint(args...)
	runtime.Goexit()
}

// call runs f with a recorder on its own goroutine, so that Goexit ends only
// that goroutine.
func call(t *testing.T, f func(testing.TB) string) (string, *recorder) {
	r := &recorder{TB: t}
	var got string
	done := make(chan struct{})
	go func() {
		defer close(done)
		got = f(r)
	}()
	<-done
	return got, r
}

// TestFinders builds a module in a temporary directory and runs the finders
// from a package folder inside it.
func TestFinders(t *testing.T) {
	cases := []struct {
		name      string
		folder    bool // store/cowin/testdata exists
		file      bool // and holds SOURCES.md
		find      func(testing.TB) string
		want      string // path below the module; "" when none
		wantFatal bool
	}{
		{"dir found", true, false, Dir, "store/cowin/testdata", false},
		{"dir absent fails", false, false, Dir, "", true},
		{"file found", true, true, fileSources, "store/cowin/testdata/SOURCES.md", false},
		{"file absent fails", true, false, fileSources, "", true},
		{"folder absent fails the file", false, false, fileSources, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tmp, err := filepath.EvalSymlinks(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			mod := filepath.Join(tmp, "mod")
			pkg := filepath.Join(mod, "providers", "dlt")
			must(t, os.MkdirAll(pkg, 0o755))
			must(t, os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module example.com/mod\n"), 0o644))
			data := filepath.Join(mod, "store", "cowin", "testdata")
			if tc.folder {
				must(t, os.MkdirAll(data, 0o755))
			}
			if tc.file {
				must(t, os.WriteFile(filepath.Join(data, "SOURCES.md"), nil, 0o644))
			}
			t.Chdir(pkg)

			got, r := call(t, tc.find)
			if (r.failed != "") != tc.wantFatal {
				t.Fatalf("failed %q; want fatal %v", r.failed, tc.wantFatal)
			}
			if r.failed != "" && !strings.Contains(r.failed, "real Co-WIN files not found") {
				t.Errorf("message %q does not say what is missing", r.failed)
			}
			if want := filepath.Join(mod, tc.want); tc.want != "" && got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func fileSources(t testing.TB) string { return File(t, "SOURCES.md") }

// TestRealFiles finds the real folder from this package, as the module's
// tests do.
func TestRealFiles(t *testing.T) {
	dir := Dir(t)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("Dir = %q, not a folder: %v", dir, err)
	}
	if got, want := File(t, "SOURCES.md"), filepath.Join(dir, "SOURCES.md"); got != want {
		t.Errorf("File = %q, want %q", got, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
