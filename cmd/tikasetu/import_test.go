package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tikasetu/tikasetu/store"
	"github.com/tikasetu/tikasetu/store/cowin/cowintest"
	"github.com/tikasetu/tikasetu/store/redistest"
)

const importSecret = "import-test-secret-import-test-secret"

func TestImportEverySharedFileTwice(t *testing.T) {
	dir := filepath.Dir(cowintest.File(t, "SOURCES.md"))
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no shared Co-WIN files: %v", err)
	}
	url := redistest.Start(t)
	st, err := store.Open(context.Background(), store.Config{URL: url, Secret: []byte(importSecret)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	var counts []string
	for round := range 2 {
		var out, errb bytes.Buffer
		args := append([]string{"import", "--redis-url", url, "--secret", importSecret, "--quiet"}, files...)
		if code := run(context.Background(), args, nil, &out, &errb); code != exitOK {
			t.Fatalf("round %d: exit %d: %s", round+1, code, errb.String())
		}
		s, err := st.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if s.Centres == 0 || s.Sessions == 0 {
			t.Fatalf("round %d imported nothing: %+v", round+1, s)
		}
		counts = append(counts, out.String()+strings.TrimSpace(strings.Join([]string{
			"centres", itoa(s.Centres), "sessions", itoa(s.Sessions), "seats", itoa(s.SeatsFree)}, " ")))
	}
	if counts[0] != counts[1] {
		t.Fatalf("the second import changed the counts:\n%s\n---\n%s", counts[0], counts[1])
	}
	t.Log(counts[0])
}

func TestImportRejectsAMalformedFileWhole(t *testing.T) {
	url := redistest.Start(t)
	good := cowintest.File(t, "01-west-bengal-743337.json")
	bad := filepath.Join(t.TempDir(), "broken.json")
	// Valid JSON whose second centre lacks its id: nothing of the file may land.
	if err := os.WriteFile(bad, []byte(`{"centers":[{"center_id":1,"name":"A","pincode":700001,"fee_type":"Free","sessions":[]},{"name":"B","pincode":700001,"sessions":[]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"import", "--redis-url", url, "--secret", importSecret, "--quiet", bad, good}, nil, &out, &errb)
	if code != exitFail || !strings.Contains(errb.String(), "broken.json") || !strings.Contains(errb.String(), "center_id") {
		t.Fatalf("exit %d, stderr %q: want 1 naming the file and the reason", code, errb.String())
	}
	st, err := store.Open(context.Background(), store.Config{URL: url, Secret: []byte(importSecret)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := st.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Centres != 3 { // the good file's three centres, none of the broken one's
		t.Fatalf("centres = %d, want 3 (only the good file)", s.Centres)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
