package main

import "testing"

func TestLogLine(t *testing.T) {
	log := `{"time":"t","level":"INFO","msg":"starting"}
{"time":"t","level":"WARN","msg":"POST /ussd/africastalking not mounted: set TIKASETU_AT_ALLOW"}
{"time":"t","level":"ERROR","msg":"POST /ussd/africastalking not mounted","err":"bad CIDR"}
plain text line with needle
`
	if got := logLine(log, "not mounted"); got != "POST /ussd/africastalking not mounted: set TIKASETU_AT_ALLOW" {
		t.Errorf("logLine = %q", got)
	}
	if got := logLine(log, "bad CIDR"); got != "POST /ussd/africastalking not mounted: bad CIDR" {
		t.Errorf("logLine with err = %q", got)
	}
	if got := logLine(log, "needle"); got != "plain text line with needle" {
		t.Errorf("plain line = %q", got)
	}
	if got := logLine(log, "absent"); got != "" {
		t.Errorf("absent = %q", got)
	}
}
