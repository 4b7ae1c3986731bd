package store_test

import (
	"testing"

	"github.com/tikasetu/tikasetu/dialog/dialogtest"
	"github.com/tikasetu/tikasetu/store/redistest"
)

// TestTranscripts replays the engine's journey transcripts on a real
// redis-server: the files dialog's tests replay on dialogtest's in-memory
// ports, so a difference between the backends fails one of them. They are
// updated from package dialog (go test ./dialog -run Transcript -update).
func TestTranscripts(t *testing.T) {
	dialogtest.RunTranscripts(t, "../dialog/testdata/transcripts", redisBackend(redistest.Start, true), false)
}
