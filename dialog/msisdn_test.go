package dialog

import "testing"

func TestNormaliseMsisdn(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+919876543210", "+919876543210"},
		{"919876543210", "+919876543210"},
		{"09876543210", "+919876543210"},
		{"9876543210", "+919876543210"},
		{"98765 43210", "+919876543210"},
		{"+91-98765-43210", "+919876543210"},
		{"९८७६५४३२१०", "+919876543210"},
		{"৯৮৭৬৫৪৩২১০", "+919876543210"},
		{"5876543210", ""},    // mobile numbers start 6–9
		{"987654321", ""},     // 9 digits
		{"+449876543210", ""}, // not India
		{"98765x3210", ""},
		{"", ""},
		{"9+876543210", ""},
	}
	for _, tt := range tests {
		got, err := NormaliseMsisdn(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("NormaliseMsisdn(%q) = %q, want error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormaliseMsisdn(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestMaskMsisdn(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+919876543210", "+91XXXXXX3210"},
		{"9876543210", "XXXXXX3210"},
		{"123", "XXX"},
	}
	for _, tt := range tests {
		if got := MaskMsisdn(tt.in); got != tt.want {
			t.Errorf("MaskMsisdn(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
