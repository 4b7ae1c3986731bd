package providertest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tikasetu/tikasetu/dialog"
)

// Setup is what an inbound channel is mounted with.
type Setup struct {
	// Handler is the engine the channel answers with.
	Handler dialog.Handler
	// Deadline bounds each turn; 0 leaves the channel's default.
	Deadline time.Duration
	// Logger and OnTurn go to the channel's options of the same names.
	Logger *slog.Logger
	OnTurn func(provider string, ok bool)
}

// Mount registers a channel's routes on r as s says.
type Mount func(r gin.IRoutes, s Setup)

// Outcome is one call of a channel's OnTurn.
type Outcome struct {
	Provider string
	OK       bool
}

// requestTimeout bounds one request of Rig.Do, so that a channel that
// never answers fails its test instead of hanging it.
const requestTimeout = 30 * time.Second

// Rig serves one channel over real HTTP, its routes on a gin engine behind
// an httptest.Server, and records what the channel reports: its log lines
// (at debug level and above, in Logs) and its OnTurn outcomes. It is safe
// for concurrent use.
type Rig struct {
	// Logs holds the channel's log output, slog's text format.
	Logs LogBuffer

	srv      *httptest.Server
	client   *http.Client
	mu       sync.Mutex
	outcomes []Outcome
}

// NewRig mounts a channel answered by h, with turn deadline d (0: the
// channel's default), and serves it until the test ends.
func NewRig(t testing.TB, h dialog.Handler, d time.Duration, mount Mount) *Rig {
	t.Helper()
	rig := &Rig{}
	e := gin.New()
	mount(e, Setup{
		Handler:  h,
		Deadline: d,
		Logger:   slog.New(slog.NewTextHandler(&rig.Logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnTurn:   rig.onTurn,
	})
	rig.srv = httptest.NewServer(e)
	t.Cleanup(rig.srv.Close)
	rig.client = &http.Client{
		Transport:     rig.srv.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return rig
}

func (r *Rig) onTurn(provider string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.outcomes = append(r.outcomes, Outcome{provider, ok})
}

// Outcomes returns a copy of the OnTurn calls so far, in order.
func (r *Rig) Outcomes() []Outcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Outcome(nil), r.outcomes...)
}

// URL is the server's base URL, http://127.0.0.1:port.
func (r *Rig) URL() string { return r.srv.URL }

// Do sends req to the channel over HTTP and returns the answer, recorded.
// Of req it keeps the method, path and query, user information, headers,
// body and ContentLength (-1 sends the body chunked), so that a request
// built with httptest.NewRequest will do. A request that gets no answer
// fails the test.
func (r *Rig) Do(t testing.TB, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	body := req.Body
	if body == nil {
		body = http.NoBody
	}
	out, err := http.NewRequestWithContext(ctx, req.Method, r.srv.URL+req.URL.RequestURI(), body)
	if err != nil {
		t.Fatalf("request %s %s: %v", req.Method, req.URL, err)
	}
	out.URL.User = req.URL.User
	out.Header = req.Header.Clone()
	out.ContentLength = req.ContentLength
	resp, err := r.client.Do(out)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	rec := httptest.NewRecorder()
	for k, v := range resp.Header {
		rec.Header()[k] = v
	}
	rec.WriteHeader(resp.StatusCode)
	if _, err := io.Copy(rec, resp.Body); err != nil {
		t.Fatalf("%s %s: reading the answer: %v", req.Method, req.URL.Path, err)
	}
	return rec
}
