package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/tikasetu/tikasetu/cmd/tikasetu-loadgen/loadgen"
	"github.com/tikasetu/tikasetu/dialog"
)

// seed loads loadgen's synthetic calendar at seedPin through gw's admin
// route: 5 centres, 5 days from tomorrow, seats enough for any scenario.
func (e *env) seed(ctx context.Context, gw *gatewayProc) error {
	cal, err := loadgen.SeedPlan{Pin: seedPin, Centres: 5, Days: 5, Capacity: 100_000, From: time.Now()}.Calendar()
	if err != nil {
		return fmt.Errorf("seed calendar: %w", err)
	}
	if _, err := loadgen.Seed(ctx, e.client, gw.URL, adminToken, cal); err != nil {
		return fmt.Errorf("seed gateway %s: %w", gw.Name, err)
	}
	return nil
}

// stats reads GET /admin/v1/stats.
func (e *env) stats(ctx context.Context, gw *gatewayProc) (dialog.Stats, error) {
	var st dialog.Stats
	status, body, err := e.admin(ctx, gw, http.MethodGet, "/admin/v1/stats", nil)
	if err != nil {
		return st, err
	}
	if status != http.StatusOK {
		return st, fmt.Errorf("stats: status %d: %s", status, clip(string(body), 200))
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	return st, nil
}

// admin makes an admin request with the bearer token and returns the
// status and body.
func (e *env) admin(ctx context.Context, gw *gatewayProc, method, path string, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, gw.URL+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("admin %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("admin %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("admin %s %s: read answer: %w", method, path, err)
	}
	return resp.StatusCode, b, nil
}
