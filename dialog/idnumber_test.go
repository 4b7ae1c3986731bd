package dialog

import (
	"errors"
	"testing"
)

func TestNormaliseID(t *testing.T) {
	aadhaar := "23412341234" + string(VerhoeffDigit("23412341234"))
	bad := aadhaar[:11] + string('0'+(aadhaar[11]-'0'+1)%10)
	tests := []struct {
		name string
		typ  IDType
		in   string
		want string // "" means rejected
	}{
		{"aadhaar valid", IDAadhaar, aadhaar, aadhaar},
		{"aadhaar spaced", IDAadhaar, aadhaar[:4] + " " + aadhaar[4:8] + " " + aadhaar[8:], aadhaar},
		{"aadhaar devanagari digits", IDAadhaar, "२३४१२३४१२३४" + string(rune('०'+rune(aadhaar[11]-'0'))), aadhaar},
		{"aadhaar bad check digit", IDAadhaar, bad, ""},
		{"aadhaar starts with 1", IDAadhaar, "1" + aadhaar[1:], ""},
		{"aadhaar 11 digits", IDAadhaar, aadhaar[:11], ""},
		{"aadhaar letters", IDAadhaar, "23412341234A", ""},
		{"pan person", IDPAN, "abcpe1234f", "ABCPE1234F"},
		{"pan company", IDPAN, "ABCCE1234F", ""},
		{"pan short", IDPAN, "ABCPE1234", ""},
		{"dl plain", IDDriving, "WB0220110012345", "WB0220110012345"},
		{"dl space", IDDriving, "WB02 20110012345", "WB0220110012345"},
		{"dl hyphen", IDDriving, "wb-0220110012345", "WB0220110012345"},
		{"dl unknown state", IDDriving, "ZZ0220110012345", ""},
		{"dl bad year", IDDriving, "WB0218110012345", ""},
		{"dl short serial", IDDriving, "WB022011001234", ""},
		{"voter", IDVoter, "abc1234567", "ABC1234567"},
		{"voter digits first", IDVoter, "1234567ABC", ""},
		{"passport", IDPassport, "j8369854", "J8369854"},
		{"passport long", IDPassport, "J83698541", ""},
		{"unknown type", IDType("ration"), "123", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormaliseID(tt.typ, tt.in)
			if tt.want == "" {
				if !errors.Is(err, ErrBadID) {
					t.Fatalf("NormaliseID(%q) = %q, %v; want ErrBadID", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormaliseID(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestVerhoeffKnownValues(t *testing.T) {
	// Published Verhoeff examples: 236 → 3, 12345 → 1, 142857 → 0.
	for in, want := range map[string]byte{"236": '3', "12345": '1', "142857": '0'} {
		if got := VerhoeffDigit(in); got != want {
			t.Errorf("VerhoeffDigit(%s) = %c, want %c", in, got, want)
		}
		if !verhoeffValid(in + string(want)) {
			t.Errorf("verhoeffValid(%s%c) = false", in, want)
		}
	}
	if verhoeffValid("2364") {
		t.Error("verhoeffValid(2364) = true")
	}
}

func TestMaskID(t *testing.T) {
	tests := []struct {
		typ  IDType
		in   string
		want string
	}{
		{IDAadhaar, "234123412346", "XXXX XXXX 2346"},
		{IDPAN, "ABCPE1234F", "XXXXXX234F"},
		{IDPassport, "J8369854", "XXXX9854"},
		{IDVoter, "ABC", "XXX"},
	}
	for _, tt := range tests {
		if got := MaskID(tt.typ, tt.in); got != tt.want {
			t.Errorf("MaskID(%s, %s) = %q, want %q", tt.typ, tt.in, got, tt.want)
		}
	}
}
