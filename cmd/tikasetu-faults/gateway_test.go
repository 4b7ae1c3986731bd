package main

import (
	"slices"
	"testing"
)

func TestGatewayEnv(t *testing.T) {
	base := []string{"PATH=/bin", "HOME=/home/x", "TIKASETU_OTP_RATE=5", "REDIS_URL=redis://prod", "TWILIO_AUTH_TOKEN=t", "GOFLAGS=-mod=mod"}
	got := gatewayEnv(base, map[string]string{"REDIS_URL": "redis://127.0.0.1:1", "TIKASETU_AT_ALLOW": "", "TIKASETU_SECRET": "s"})
	want := []string{"PATH=/bin", "HOME=/home/x", "GOFLAGS=-mod=mod", "REDIS_URL=redis://127.0.0.1:1", "TIKASETU_SECRET=s"}
	if !slices.Equal(got, want) {
		t.Errorf("gatewayEnv = %q, want %q", got, want)
	}
}

func TestLastLines(t *testing.T) {
	if got := lastLines("a\nb\nc\n", 2); got != "b | c" {
		t.Errorf("lastLines = %q", got)
	}
}
