package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

func TestConfigRefusesUnsafeStarts(t *testing.T) {
	secret := strings.Repeat("s", 32)
	tests := []struct {
		name string
		args []string
		want string // in the message; "" means the start is accepted
	}{
		{"production without a secret", []string{"--redis-url", "redis://127.0.0.1:1", "--sms-sender", "outbox"}, "TIKASETU_SECRET"},
		{"a short secret", []string{"--secret", "short"}, "at least 32"},
		{"production without an SMS sender", []string{"--redis-url", "redis://127.0.0.1:1", "--secret", secret}, "TIKASETU_SMS_SENDER"},
		{"Twilio settings without the auth token", []string{"--redis-url", "redis://127.0.0.1:1", "--secret", secret,
			"--sms-sender", "outbox", "--twilio-account-sid", "AC1"}, "TWILIO_AUTH_TOKEN"},
		{"the Twilio route without the public URL", []string{"--redis-url", "redis://127.0.0.1:1", "--secret", secret,
			"--sms-sender", "outbox", "--twilio-auth-token", "tok"}, "TIKASETU_PUBLIC_URL"},
		{"the twilio sender without a sender number", []string{"--sms-sender", "twilio", "--twilio-account-sid", "AC1",
			"--twilio-auth-token", "tok"}, "TWILIO_FROM"},
		{"the http sender without its URL", []string{"--sms-sender", "http"}, "TIKASETU_SMS_HTTP_URL"},
		{"an unknown sender", []string{"--sms-sender", "pigeon"}, "outbox, http, twilio or smpp"},
		{"the smpp sender without its header", []string{"--sms-sender", "smpp", "--smpp-addr", "127.0.0.1:2775",
			"--smpp-system-id", "tks", "--smpp-password", "pw"}, "TIKASETU_SMPP_SOURCE"},
		{"the smpp sender with no bind", []string{"--sms-sender", "smpp", "--smpp-addr", "127.0.0.1:2775",
			"--smpp-system-id", "tks", "--smpp-password", "pw", "--smpp-source", "TKSETU", "--smpp-binds", "0"}, "TIKASETU_SMPP_BINDS"},
		{"a DLT file that is not there", []string{"--dlt-file", "/nonexistent/dlt.yaml"}, "TIKASETU_DLT_FILE"},
		{"negative admission limit", []string{"--max-inflight", "-1"}, "TIKASETU_MAX_INFLIGHT"},
		{"negative recent conversations", []string{"--recent-conversations", "-1"}, "TIKASETU_RECENT_CONVERSATIONS"},
		{"no room for new journeys", []string{"--target-inflight", "0"}, "TIKASETU_TARGET_INFLIGHT"},
		{"a negative journey ceiling", []string{"--max-journeys", "-2"}, "TIKASETU_MAX_JOURNEYS"},
		{"a journey ceiling with admission control off", []string{"--max-journeys", "2", "--max-inflight", "0"}, "TIKASETU_MAX_JOURNEYS needs"},
		{"a bad network in the Africa's Talking allow list", []string{"--at-allow", "196.201.214.0/24, 10.0.0.0/33"}, "TIKASETU_AT_ALLOW"},
		{"an allow list of commas", []string{"--at-allow", ", ,"}, "TIKASETU_AT_ALLOW"},
		{"a trusted proxy by name", []string{"--trusted-proxies", "proxy.example"}, "TIKASETU_TRUSTED_PROXIES"},
		{"Africa's Talking credentials without a colon", []string{"--at-basic-auth", "justapassword"}, "TIKASETU_AT_BASIC_AUTH"},
		{"a negative time for verified numbers", []string{"--verified-ttl", "-1h"}, "TIKASETU_VERIFIED_TTL"},
		{"an invitation too short to answer", []string{"--invite-ttl", "30s"}, "TIKASETU_INVITE_TTL"},
		{"a negative hand-off delay", []string{"--handoff-after", "-1s"}, "TIKASETU_HANDOFF_AFTER"},
		{"embedded mode needs nothing", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, v := range []string{"REDIS_URL", "TIKASETU_SECRET", "TIKASETU_SMS_SENDER", "TWILIO_AUTH_TOKEN",
				"TWILIO_ACCOUNT_SID", "TWILIO_FROM", "TIKASETU_PUBLIC_URL", "TIKASETU_PARTNERS_FILE",
				"TIKASETU_AT_ALLOW", "TIKASETU_TRUSTED_PROXIES", "TIKASETU_AT_BASIC_AUTH"} {
				t.Setenv(v, "")
			}
			if tt.want == "" {
				c := config{MaxPeople: 4}
				if err := c.check(); err != nil {
					t.Fatalf("check() = %v", err)
				}
				return
			}
			var out, errb bytes.Buffer
			code := run(context.Background(), append([]string{"serve", "--addr", "127.0.0.1:0"}, tt.args...), nil, &out, &errb)
			if code != exitConfig {
				t.Fatalf("exit %d, want %d; stderr: %s", code, exitConfig, errb.String())
			}
			if !strings.Contains(errb.String(), tt.want) {
				t.Fatalf("message %q lacks %q", errb.String(), tt.want)
			}
		})
	}
}

func TestBadPartnersFileStopsTheStart(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	dir := t.TempDir()
	path := dir + "/partners.yaml"
	if err := writeFile(path, "partners:\n  - id: acme\n    secret: short\n    unicode: true\n    rate: 10\n    burst: 10\n"); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--partners-file", path}, nil, &out, &errb)
	if code != exitConfig || !strings.Contains(errb.String(), "partners.yaml:") {
		t.Fatalf("exit %d, stderr %q; want 2 naming the file and line", code, errb.String())
	}
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }
