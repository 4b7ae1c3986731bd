package main

import "testing"

func TestClassifyOTP(t *testing.T) {
	cases := map[string]string{
		"Enter the 6-digit code sent by SMS to +91XXXXXX3210\n0 Send a new code":                     "code sent",
		"Enter the 10-digit mobile number to register:\nCodes for other numbers: limit reached.":     "refused: other numbers",
		"TikaSetu: COVID vaccine registration\nToo many codes going out now. Try again in a minute.": "refused: rate",
	}
	for text, want := range cases {
		if got := classifyOTP(Screen{Text: text}); got != want {
			t.Errorf("classifyOTP(%q) = %q, want %q", text, got, want)
		}
	}
	if got := classifyOTP(Screen{Text: "TikaSetu is very busy", End: true}); got != "busy" {
		t.Errorf("busy: %q", got)
	}
}
