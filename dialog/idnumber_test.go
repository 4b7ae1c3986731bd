package dialog

import (
	"errors"
	"strings"
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
		{IDAadhaar, "2341 2341-2346", "XXXX XXXX 2346"},
		{IDAadhaar, "२३४१२३४१२३४६", "XXXX XXXX २३४६"},
		{IDPAN, "ABCPE1234F", "XXXXXX234F"},
		{IDDriving, "WB-0220110012345", "XXXXXXXXXXX2345"},
		{IDVoter, "XYZ9876543", "XXXXXX6543"},
		{IDPassport, "J8369854", "XXXX9854"},
		{IDVoter, "ABC", "XXX"},
		{IDVoter, "ABC1", "XXXX"},
	}
	for _, tt := range tests {
		if got := MaskID(tt.typ, tt.in); got != tt.want {
			t.Errorf("MaskID(%s, %s) = %q, want %q", tt.typ, tt.in, got, tt.want)
		}
	}
}

// idShapes gives each type's canonical form, position by position: 'A' an
// upper-case Latin letter, '9' a Latin digit, anything else itself.
var idShapes = map[IDType]string{
	IDAadhaar:  "999999999999",
	IDPAN:      "AAAPA9999A",
	IDDriving:  "AA9999999999999",
	IDVoter:    "AAA9999999",
	IDPassport: "A9999999",
}

func fitsShape(n, shape string) bool {
	if len(n) != len(shape) {
		return false
	}
	for i := 0; i < len(n); i++ {
		switch c := n[i]; shape[i] {
		case 'A':
			if c < 'A' || c > 'Z' {
				return false
			}
		case '9':
			if c < '0' || c > '9' {
				return false
			}
		default:
			if c != shape[i] {
				return false
			}
		}
	}
	return true
}

func FuzzNormaliseID(f *testing.F) {
	aadhaar := "23412341234" + string(VerhoeffDigit("23412341234"))
	for _, s := range []string{
		aadhaar, aadhaar[:4] + " " + aadhaar[4:8] + " " + aadhaar[8:], "२३४१२३४१२३४६",
		"1" + aadhaar[1:], aadhaar[:11], "23412341234A",
		"abcpe1234f", "ABCCE1234F", "ABCPE1234",
		"WB0220110012345", "wb-02 20110012345", "ZZ0220110012345", "WB0018110012345", "WB002011001234",
		"abc1234567", "1234567ABC", "j8369854", "J83698541", "J836985\n4",
		"ıbcpe1234f", // dotless i upper-cases to I
		"", " ", "-", "\xff\xfe",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		accepted := 0
		for _, typ := range append([]IDType{"ration"}, IDTypes...) {
			n, err := NormaliseID(typ, s)
			if err != nil {
				if n != "" || !errors.Is(err, ErrBadID) {
					t.Fatalf("NormaliseID(%s, %q) = %q, %v; want \"\", ErrBadID", typ, s, n, err)
				}
				continue
			}
			accepted++
			shape, known := idShapes[typ]
			if !known || !fitsShape(n, shape) {
				t.Fatalf("NormaliseID(%s, %q) = %q, not of the type's form", typ, s, n)
			}
			switch typ {
			case IDAadhaar:
				if n[0] < '2' || !verhoeffValid(n) {
					t.Fatalf("NormaliseID(%s, %q) = %q: bad first or check digit", typ, s, n)
				}
			case IDDriving:
				if !stateCodes[n[:2]] || n[2:4] == "00" || (n[4:6] != "19" && n[4:6] != "20") {
					t.Fatalf("NormaliseID(%s, %q) = %q: bad state, RTO or year", typ, s, n)
				}
			}
			// The canonical form comes back as itself, and so does it
			// spaced, hyphenated and in lower case.
			spaced := strings.ToLower(n[:len(n)/2] + " -" + n[len(n)/2:])
			for _, in := range []string{n, spaced} {
				if again, err := NormaliseID(typ, in); again != n {
					t.Fatalf("NormaliseID(%s, %q) = %q, %v; want %q (from %q)", typ, in, again, err, n, s)
				}
			}
			m := MaskID(typ, n)
			if !strings.HasSuffix(m, n[len(n)-4:]) || strings.Trim(m[:len(m)-4], "X ") != "" {
				t.Fatalf("MaskID(%s, %q) = %q", typ, n, m)
			}
		}
		// The forms are disjoint: no entry is valid for two types.
		if accepted > 1 {
			t.Fatalf("%q is valid for %d ID types", s, accepted)
		}

		// An Aadhaar number built from the input with its check digit is
		// valid, and Verhoeff catches any one wrong digit and any swap of
		// two neighbouring digits.
		d := []byte("23412341234")
		sum := 0
		for i := 0; i < len(s); i++ {
			d[i%len(d)] = '0' + s[i]%10
			sum += int(s[i])
		}
		d[0] = '2' + (d[0]-'0')%8
		n := string(d) + string(VerhoeffDigit(string(d)))
		if got, err := NormaliseID(IDAadhaar, n); got != n {
			t.Fatalf("NormaliseID(aadhaar, %q) = %q, %v", n, got, err)
		}
		typo := []byte(n)
		k := sum % len(typo)
		typo[k] = '0' + (typo[k]-'0'+1+byte(sum/len(typo)%9))%10
		if _, err := NormaliseID(IDAadhaar, string(typo)); err == nil {
			t.Fatalf("NormaliseID(aadhaar, %q) accepted a typo of %q", typo, n)
		}
		swap := []byte(n)
		if k = sum % (len(swap) - 1); swap[k] != swap[k+1] {
			swap[k], swap[k+1] = swap[k+1], swap[k]
			if _, err := NormaliseID(IDAadhaar, string(swap)); err == nil {
				t.Fatalf("NormaliseID(aadhaar, %q) accepted a swap in %q", swap, n)
			}
		}
	})
}
