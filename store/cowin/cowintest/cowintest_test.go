package cowintest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB whose Skipf and Fatalf record the message and end
// the goroutine, as the real ones do, without ending the test.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
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

// TestFinders builds a module and, beside it, a shared folder in a temporary
// directory, and runs the finders from a package folder inside the module.
func TestFinders(t *testing.T) {
	cases := []struct {
		name      string
		folder    bool // ../shared/data/cowin exists
		file      bool // and holds SOURCES.md
		ci        string
		find      func(testing.TB) string
		want      string // path below the temporary directory; "" when none
		wantSkip  bool
		wantFatal bool
	}{
		{"dir found", true, false, "", Dir, "shared/data/cowin", false, false},
		{"dir absent skips", false, false, "", Dir, "", true, false},
		{"dir absent fails under CI", false, false, "true", Dir, "", false, true},
		{"file found", true, true, "", fileSources, "shared/data/cowin/SOURCES.md", false, false},
		{"file found under CI", true, true, "1", fileSources, "shared/data/cowin/SOURCES.md", false, false},
		{"file absent skips", true, false, "", fileSources, "", true, false},
		{"file absent fails under CI", true, false, "1", fileSources, "", false, true},
		{"folder absent skips the file", false, false, "", fileSources, "", true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tmp, err := filepath.EvalSymlinks(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			pkg := filepath.Join(tmp, "mod", "store", "cowin")
			must(t, os.MkdirAll(pkg, 0o755))
			must(t, os.WriteFile(filepath.Join(tmp, "mod", "go.mod"), []byte("module example.com/mod\n"), 0o644))
			shared := filepath.Join(tmp, "shared", "data", "cowin")
			if tc.folder {
				must(t, os.MkdirAll(shared, 0o755))
			}
			if tc.file {
				must(t, os.WriteFile(filepath.Join(shared, "SOURCES.md"), nil, 0o644))
			}
			t.Chdir(pkg)
			t.Setenv("CI", tc.ci)

			got, r := call(t, tc.find)
			if (r.skipped != "") != tc.wantSkip || (r.failed != "") != tc.wantFatal {
				t.Fatalf("skipped %q, failed %q; want skip %v, fatal %v", r.skipped, r.failed, tc.wantSkip, tc.wantFatal)
			}
			for _, msg := range []string{r.skipped, r.failed} {
				if msg != "" && !strings.Contains(msg, "real Co-WIN files not found") {
					t.Errorf("message %q does not say what is missing", msg)
				}
			}
			if want := filepath.Join(tmp, tc.want); tc.want != "" && got != want {
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
