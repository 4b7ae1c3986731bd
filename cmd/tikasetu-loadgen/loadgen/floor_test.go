package loadgen

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tikasetu/tikasetu/store"
	"github.com/tikasetu/tikasetu/store/redistest"
)

func TestFloorHandler(t *testing.T) {
	rdb, err := store.NewClient(redistest.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	h := FloorHandler(rdb, 30*time.Second)
	tests := []struct {
		name   string
		form   url.Values
		status int
		body   string
		key    string
	}{
		{"first request", url.Values{"sessionId": {"s"}, "phoneNumber": {"+919812345678"}, "text": {""}}, 200, "CON ok", "floor:{+919812345678}"},
		{"later request stores the text", url.Values{"sessionId": {"s"}, "phoneNumber": {"+919812345678"}, "text": {"1*1"}}, 200, "CON ok", "floor:{+919812345678}"},
		{"no phoneNumber", url.Values{"text": {"1"}}, 400, "phoneNumber required\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, USSDPath, strings.NewReader(tt.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status || rec.Body.String() != tt.body {
				t.Fatalf("%d %q, want %d %q", rec.Code, rec.Body, tt.status, tt.body)
			}
			if tt.key == "" {
				return
			}
			v, err := rdb.Get(t.Context(), tt.key).Result()
			if err != nil || v != tt.form.Get("text") {
				t.Fatalf("redis %s = %q, %v; want %q", tt.key, v, err, tt.form.Get("text"))
			}
			if ttl := rdb.TTL(t.Context(), tt.key).Val(); ttl <= 0 || ttl > 30*time.Second {
				t.Fatalf("TTL %v, want up to 30s", ttl)
			}
		})
	}
}

func TestFloorHandlerRedisDown(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	defer rdb.Close()
	form := url.Values{"phoneNumber": {"+919812345678"}, "text": {""}}
	req := httptest.NewRequest(http.MethodPost, USSDPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	FloorHandler(rdb, time.Minute).ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), "END ") || !strings.Contains(rec.Body.String(), "busy") {
		t.Fatalf("%d %q, want the busy screen", rec.Code, rec.Body)
	}
}
