package providertest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tikasetu/tikasetu/dialog"
)

// seen is what the echo route saw of a request.
type seen struct {
	Method, URI, Header, Body, User string
	Length                          int64
	Chunked                         bool
}

// echo mounts a route that answers what it saw, and one that redirects.
func echo(r gin.IRoutes, _ Setup) {
	r.Any("/echo", func(c *gin.Context) {
		body, _ := io.ReadAll(c.Request.Body)
		user, _, _ := c.Request.BasicAuth()
		c.Header("X-Echo", "1")
		c.JSON(http.StatusTeapot, seen{
			Method: c.Request.Method, URI: c.Request.RequestURI, Header: c.GetHeader("X-Test"), Body: string(body), User: user,
			Length: c.Request.ContentLength, Chunked: len(c.Request.TransferEncoding) > 0,
		})
	})
	r.POST("/moved", func(c *gin.Context) { c.Redirect(http.StatusTemporaryRedirect, "/echo") })
}

func TestRigDo(t *testing.T) {
	withHeader := httptest.NewRequest(http.MethodPost, "/echo?a=1&b=%2F", strings.NewReader("x=1"))
	withHeader.Header.Set("X-Test", "kept")
	chunked := httptest.NewRequest(http.MethodPost, "/echo", strings.NewReader("abc"))
	chunked.ContentLength = -1
	authed := httptest.NewRequest(http.MethodPut, "/echo", nil)
	authed.URL.User = url.UserPassword("aggregator", "s3cret")
	tests := []struct {
		name string
		req  *http.Request
		want seen
	}{
		{"method, path, query, header and body", withHeader, seen{Method: "POST", URI: "/echo?a=1&b=%2F", Header: "kept", Body: "x=1", Length: 3}},
		{"unknown length sent chunked", chunked, seen{Method: "POST", URI: "/echo", Body: "abc", Length: -1, Chunked: true}},
		{"user information as basic auth", authed, seen{Method: "PUT", URI: "/echo", User: "aggregator"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rig := NewRig(t, &Handler{}, 0, echo)
			rec := rig.Do(t, tc.req)
			if rec.Code != http.StatusTeapot || rec.Header().Get("X-Echo") != "1" {
				t.Errorf("status %d, headers %v", rec.Code, rec.Header())
			}
			var got seen
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("answer %q: %v", rec.Body, err)
			}
			if got != tc.want {
				t.Errorf("the route saw %+v, want %+v", got, tc.want)
			}
		})
	}
	t.Run("redirect not followed", func(t *testing.T) {
		rig := NewRig(t, &Handler{}, 0, echo)
		rec := rig.Do(t, httptest.NewRequest(http.MethodPost, "/moved", nil))
		if rec.Code != http.StatusTemporaryRedirect || rec.Header().Get("Location") != "/echo" {
			t.Errorf("status %d, location %q", rec.Code, rec.Header().Get("Location"))
		}
	})
}

// The rig mounts the channel with the handler and deadline it was given,
// a debug logger writing to Logs and an OnTurn it records.
func TestRigSetup(t *testing.T) {
	h := &Handler{Reply: dialog.Reply{Text: "from the engine"}}
	var got Setup
	rig := NewRig(t, h, 700*time.Millisecond, func(r gin.IRoutes, s Setup) {
		got = s
		r.POST("/turn", func(c *gin.Context) {
			reply, _ := s.Handler.Handle(c.Request.Context(), dialog.Turn{})
			s.Logger.Debug("turn", "n", 1)
			s.OnTurn("p1", true)
			s.OnTurn("p2", false)
			c.String(http.StatusOK, reply.Text)
		})
	})
	if got.Handler != h || got.Deadline != 700*time.Millisecond || got.Logger == nil || got.OnTurn == nil {
		t.Fatalf("mounted with %+v", got)
	}
	if o := rig.Outcomes(); len(o) != 0 {
		t.Errorf("outcomes before any request: %v", o)
	}
	rec := rig.Do(t, httptest.NewRequest(http.MethodPost, "/turn", nil))
	if rec.Body.String() != "from the engine" || len(h.Calls()) != 1 {
		t.Errorf("answer %q after %d engine calls", rec.Body, len(h.Calls()))
	}
	if o := rig.Outcomes(); len(o) != 2 || o[0] != (Outcome{"p1", true}) || o[1] != (Outcome{"p2", false}) {
		t.Errorf("outcomes %v", o)
	}
	if logs := rig.Logs.String(); !strings.Contains(logs, `level=DEBUG msg=turn n=1`) {
		t.Errorf("logs %q lack the debug line", logs)
	}
	if !strings.HasPrefix(rig.URL(), "http://127.0.0.1:") {
		t.Errorf("URL %q", rig.URL())
	}
}

// A request nobody answers fails the test instead of hanging it; here the
// server closes the connection.
func TestRigDoFailsWithoutAnswer(t *testing.T) {
	rig := NewRig(t, &Handler{}, 0, func(r gin.IRoutes, _ Setup) {
		r.POST("/drop", func(c *gin.Context) {
			conn, _, err := http.NewResponseController(c.Writer).Hijack()
			if err == nil {
				conn.Close()
			}
		})
	})
	tb := &fatalsTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		rig.Do(tb, httptest.NewRequest(http.MethodPost, "/drop", nil))
	}()
	<-done
	if !tb.failed {
		t.Error("Do returned an answer to a dropped connection")
	}
}
