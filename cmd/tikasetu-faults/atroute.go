package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tikasetu/tikasetu/cmd/tikasetu-loadgen/loadgen"
)

// atRoute: (a) a gateway with REDIS_URL and neither TIKASETU_AT_ALLOW nor
// TIKASETU_AT_BASIC_AUTH must not mount POST /ussd/africastalking (404) and
// must say why in its log; (b) with TIKASETU_AT_ALLOW=192.0.2.0/24 a request
// from loopback gets 403 and leaves no conversation in Redis.
func atRoute(ctx context.Context, e *env, r *rig, res *result) error {
	closed, err := r.gateway(ctx, "unset", map[string]string{"TIKASETU_AT_ALLOW": "", "TIKASETU_AT_BASIC_AUTH": ""})
	if err != nil {
		return err
	}
	c := newCaller(e.client, closed.URL, e.ids.Msisdn(), "faults-at-a")
	_, errA := c.Send(ctx, "")
	statusA := statusOf(errA)
	why := logLine(closed.Log(), "not mounted")
	closed.Stop()

	other, err := r.gateway(ctx, "elsewhere", map[string]string{"TIKASETU_AT_ALLOW": "192.0.2.0/24"})
	if err != nil {
		return err
	}
	c = newCaller(e.client, other.URL, e.ids.Msisdn(), "faults-at-b")
	_, errB := c.Send(ctx, "")
	statusB := statusOf(errB)
	// A session under way: its second turn, as if the dial had passed.
	form := c.form("")
	form.Set("text", "1")
	status2, _, _, err := post(ctx, e.client, other.URL+loadgen.USSDPath, form)
	if err != nil {
		return fmt.Errorf("second request: %w", err)
	}
	convs, err := r.redis.Keys(ctx, "ts:conv:*", 100)
	if err != nil {
		return err
	}
	dbsize, err := r.redis.client.DBSize(ctx).Result()
	if err != nil {
		return fmt.Errorf("dbsize: %w", err)
	}

	res.Figures = map[string]any{
		"unset_status": statusA, "unset_log": why, "outside_status": statusB, "outside_second_status": status2,
		"conversation_keys": len(convs), "redis_keys": dbsize,
	}
	res.line("(a) no TIKASETU_AT_ALLOW nor TIKASETU_AT_BASIC_AUTH: POST %s answered %d", loadgen.USSDPath, statusA)
	res.line("    log: %s", clip(why, 300))
	res.line("(b) TIKASETU_AT_ALLOW=192.0.2.0/24, request from 127.0.0.1: %d, %d; ts:conv:* keys: %d (all keys: %d)",
		statusB, status2, len(convs), dbsize)
	res.check("(a) 404", statusA == http.StatusNotFound, "%d", statusA)
	res.check("(a) the log says why", why != "", "%q", clip(why, 120))
	res.check("(b) 403", statusB == http.StatusForbidden && status2 == http.StatusForbidden, "%d, %d", statusB, status2)
	res.check("(b) no conversation key", len(convs) == 0, "%d", len(convs))
	return nil
}

// statusOf is the HTTP status behind a Send error (200 for none, 0 for a
// failure without an answer).
func statusOf(err error) int {
	if err == nil {
		return http.StatusOK
	}
	var s *errStatus
	if errors.As(err, &s) {
		return s.Code
	}
	return 0
}

// logLine finds the first log line containing substr and returns its
// message ("msg" of a JSON line, with "err" when present), or "".
func logLine(log, substr string) string {
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, substr) {
			continue
		}
		var rec struct {
			Msg string `json:"msg"`
			Err string `json:"err"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg != "" {
			if rec.Err != "" {
				return rec.Msg + ": " + rec.Err
			}
			return rec.Msg
		}
		return line
	}
	return ""
}
