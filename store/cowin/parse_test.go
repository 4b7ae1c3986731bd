package cowin

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/store/cowin/cowintest"
)

// sourceCounts reads the | file | source | centers | sessions | table of
// SOURCES.md.
func sourceCounts(t *testing.T, dir string) map[string][2]int {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "SOURCES.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	counts := make(map[string][2]int)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) < 4 {
			continue
		}
		name := strings.TrimSpace(cells[0])
		if !strings.HasSuffix(name, ".json") {
			continue // header or separator row
		}
		centres, err1 := strconv.Atoi(strings.TrimSpace(cells[len(cells)-2]))
		sessions, err2 := strconv.Atoi(strings.TrimSpace(cells[len(cells)-1]))
		if err1 != nil || err2 != nil {
			t.Fatalf("SOURCES.md: bad counts in row %q", line)
		}
		counts[name] = [2]int{centres, sessions}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(counts) == 0 {
		t.Fatal("SOURCES.md: no file table found")
	}
	return counts
}

func TestParseRealFiles(t *testing.T) {
	dir := filepath.Dir(cowintest.File(t, "SOURCES.md"))
	want := sourceCounts(t, dir)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no *.json in %s", dir)
	}
	seen := make(map[string]bool)
	for _, path := range files {
		name := filepath.Base(path)
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			w, ok := want[name]
			if !ok {
				t.Fatalf("%s is not in SOURCES.md's table", name)
			}
			centres, err := ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			sessions := 0
			ids := make(map[string]bool)
			for _, c := range centres {
				if c.ID <= 0 || c.Name == "" || len(c.Pincode) != 6 {
					t.Errorf("centre %+v: bad id, name or pincode", c)
				}
				if c.FeeType != dialog.Free && c.FeeType != dialog.Paid {
					t.Errorf("centre %d: fee type %q", c.ID, c.FeeType)
				}
				for _, s := range c.Sessions {
					sessions++
					if ids[s.ID] {
						t.Errorf("session id %s repeats", s.ID)
					}
					ids[s.ID] = true
					if s.CentreID != c.ID {
						t.Errorf("session %s: centre id %d, want %d", s.ID, s.CentreID, c.ID)
					}
					if !s.Date.Equal(day(s.Date)) || s.Date.Location() != dialog.IST {
						t.Errorf("session %s: date %v is not midnight IST", s.ID, s.Date)
					}
					if s.Date.Year() != 2021 {
						t.Errorf("session %s: date %v not in 2021", s.ID, s.Date)
					}
					if s.Capacity[0] < 0 || s.Capacity[1] < 0 {
						t.Errorf("session %s: capacity %v", s.ID, s.Capacity)
					}
					if s.MinAge != 18 && s.MinAge != 45 {
						t.Errorf("session %s: min age %d", s.ID, s.MinAge)
					}
					if len(s.Slots) == 0 {
						t.Errorf("session %s: no slots", s.ID)
					}
				}
			}
			if got := [2]int{len(centres), sessions}; got != w {
				t.Errorf("centres, sessions = %v, SOURCES.md says %v", got, w)
			}
		})
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("SOURCES.md lists %s, which is not in %s", name, dir)
		}
	}
}

// TestParseRealQuirks pins what the real files do that a naive reader gets
// wrong.
func TestParseRealQuirks(t *testing.T) {
	dir := cowintest.Dir(t)
	find := func(t *testing.T, file string, centreID int64) dialog.Centre {
		t.Helper()
		centres, err := ParseFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range centres {
			if c.ID == centreID {
				return c
			}
		}
		t.Fatalf("%s: no centre %d", file, centreID)
		return dialog.Centre{}
	}
	tests := []struct {
		name   string
		file   string
		centre int64
		check  func(t *testing.T, c dialog.Centre)
	}{
		{"fee as string", "02-tamil-nadu-600096.json", 0, func(t *testing.T, _ dialog.Centre) {
			centres, err := ParseFile(filepath.Join(dir, "02-tamil-nadu-600096.json"))
			if err != nil {
				t.Fatal(err)
			}
			paid := 0
			for _, c := range centres {
				if c.FeeType == dialog.Paid {
					paid++
					if fee, ok := c.Fee("COVISHIELD"); !ok || fee != 850 {
						t.Errorf("centre %d: COVISHIELD fee %d, %v; want 850", c.ID, fee, ok)
					}
				}
			}
			if paid == 0 {
				t.Error("no paid centre")
			}
		}},
		{"two fees, max_age_limit, allow_all_age", "08-maharashtra-400080.json", 0, func(t *testing.T, _ dialog.Centre) {
			centres, err := ParseFile(filepath.Join(dir, "08-maharashtra-400080.json"))
			if err != nil {
				t.Fatal(err)
			}
			var maxAged, allowAll int
			for _, c := range centres {
				for _, s := range c.Sessions {
					if s.MaxAge == 44 {
						maxAged++
					}
					if s.AllowAllAge {
						allowAll++
					}
				}
				if len(c.Fees) == 2 {
					if fee, _ := c.Fee("COVAXIN"); fee != 1200 {
						t.Errorf("COVAXIN fee %d, want 1200", fee)
					}
					if fee, _ := c.Fee("COVISHIELD"); fee != 780 {
						t.Errorf("COVISHIELD fee %d, want 780", fee)
					}
				}
			}
			if maxAged != 1 || allowAll == 0 {
				t.Errorf("max_age_limit 44 sessions %d (want 1), allow_all_age sessions %d (want > 0)", maxAged, allowAll)
			}
		}},
		{"no dose capacities: all to dose 1", "10-maharashtra-400001.json", 694639, func(t *testing.T, c dialog.Centre) {
			if got := c.Sessions[0].Capacity; got != [2]int{99, 0} {
				t.Errorf("capacity %v, want [99 0]", got)
			}
			if c.Pincode != "400001" {
				t.Errorf("pincode %q", c.Pincode)
			}
		}},
		{"paid centre without vaccine_fees", "12-delhi-110085.json", 664685, func(t *testing.T, c dialog.Centre) {
			if c.FeeType != dialog.Paid || len(c.Fees) != 0 {
				t.Errorf("fee type %q, fees %v; want Paid with none", c.FeeType, c.Fees)
			}
			if _, ok := c.Fee("COVISHIELD"); ok {
				t.Error("fee known, want unknown")
			}
		}},
		{"session_id reused for two dates; dose figures disagree with total", "18-rajasthan-kota.json", 660836, func(t *testing.T, c dialog.Centre) {
			const id = "2fcd4737-9cf2-45c5-8779-acef3db47d22"
			if len(c.Sessions) != 2 {
				t.Fatalf("%d sessions, want 2", len(c.Sessions))
			}
			if c.Sessions[0].ID != id || c.Sessions[1].ID != id+"@2021-05-21" {
				t.Errorf("ids %q, %q", c.Sessions[0].ID, c.Sessions[1].ID)
			}
			// available_capacity 0, available_capacity_dose1 10: the dose figure wins.
			if got := c.Sessions[1].Capacity; got != [2]int{10, 0} {
				t.Errorf("capacity %v, want [10 0]", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c dialog.Centre
			if tt.centre != 0 {
				c = find(t, tt.file, tt.centre)
			}
			tt.check(t, c)
		})
	}
}

func TestParseMalformed(t *testing.T) {
	const okSession = `{"session_id":"s1","date":"20-05-2021","available_capacity":5,"min_age_limit":18,"vaccine":"COVISHIELD","slots":[]}`
	centre := func(sessions string) string {
		return `{"centers":[{"center_id":1,"name":"A","pincode":700001,"fee_type":"Free","sessions":[` + sessions + `]}]}`
	}
	tests := []struct {
		name  string
		input string
		want  []string // all must appear in the error
	}{
		{"empty", "", []string{"empty input"}},
		{"not JSON", "<html>504 Gateway Time-out</html>", []string{"not valid JSON"}},
		{"truncated", `{"centers":[{"center_id":1,`, []string{"not valid JSON"}},
		{"trailing data", `{"centers":[]} {"centers":[]}`, []string{"not valid JSON"}},
		{"top-level array", `[{"center_id":1}]`, []string{"top level is a JSON array"}},
		{"top-level null", `null`, []string{"top level is null"}},
		{"no centers key", `{"centres":[]}`, []string{`no "centers" key`}},
		{"findByPin response", `{"sessions":[]}`, []string{`no "centers" key`, "findByPin"}},
		{"centers not array", `{"centers":{"center_id":1}}`, []string{"centers", "want an array, got an object"}},
		{"centre not object", `{"centers":[42]}`, []string{"centers[0]", "want an object"}},
		{"no center_id", `{"centers":[{"name":"A","pincode":700001,"sessions":[]}]}`, []string{"centers[0]", "no center_id"}},
		{"bad center_id", `{"centers":[{"center_id":"abc","name":"A","pincode":700001}]}`, []string{"centers[0] center_id", "want an integer"}},
		{"zero center_id", `{"centers":[{"center_id":0,"name":"A","pincode":700001}]}`, []string{"centers[0] center_id", "positive"}},
		{"no name", `{"centers":[{"center_id":7,"pincode":700001}]}`, []string{"centers[0] (center_id 7)", "no name"}},
		{"blank name", `{"centers":[{"center_id":7,"name":"  ","pincode":700001}]}`, []string{"centers[0] (center_id 7)", "no name"}},
		{"no pincode", `{"centers":[{"center_id":7,"name":"A"}]}`, []string{"centers[0] (center_id 7)", "no pincode"}},
		{"5-digit pincode", `{"centers":[{"center_id":7,"name":"A","pincode":70001}]}`, []string{"pincode", "6 digits"}},
		{"pincode with letters", `{"centers":[{"center_id":7,"name":"A","pincode":"70000A"}]}`, []string{"pincode", "6 digits"}},
		{"bad fee_type", `{"centers":[{"center_id":7,"name":"A","pincode":700001,"fee_type":"Donated"}]}`, []string{"fee_type", `"Donated"`}},
		{"bad fee", `{"centers":[{"center_id":7,"name":"A","pincode":700001,"fee_type":"Paid","vaccine_fees":[{"vaccine":"COVAXIN","fee":"lots"}]}]}`, []string{"vaccine_fees[0] fee", "want an integer"}},
		{"negative fee", `{"centers":[{"center_id":7,"name":"A","pincode":700001,"fee_type":"Paid","vaccine_fees":[{"vaccine":"COVAXIN","fee":-5}]}]}`, []string{"vaccine_fees[0] fee"}},
		{"sessions not array", `{"centers":[{"center_id":7,"name":"A","pincode":700001,"sessions":"none"}]}`, []string{"centers[0] (center_id 7) sessions", "want an array"}},
		{"repeated center_id", `{"centers":[{"center_id":7,"name":"A","pincode":700001},{"center_id":7,"name":"B","pincode":700001}]}`, []string{"centers[1]", "center_id 7 repeats centers[0]"}},
		{"second centre bad", `{"centers":[{"center_id":1,"name":"A","pincode":700001},{"center_id":2,"pincode":700001}]}`, []string{"centers[1] (center_id 2)", "no name"}},
		{"no session_id", centre(`{"date":"20-05-2021"}`), []string{"centers[0] (center_id 1) sessions[0]", "no session_id"}},
		{"session_id with brace", centre(`{"session_id":"a{b}","date":"20-05-2021"}`), []string{"sessions[0] session_id", "brace"}},
		{"no date", centre(okSession + `,{"session_id":"s2"}`), []string{"sessions[1]", "no date"}},
		{"ISO date", centre(`{"session_id":"s1","date":"2021-05-20"}`), []string{"sessions[0] date", "DD-MM-YYYY", `"2021-05-20"`}},
		{"impossible date", centre(`{"session_id":"s1","date":"31-02-2021"}`), []string{"sessions[0] date", `"31-02-2021"`}},
		{"date as number", centre(`{"session_id":"s1","date":20052021}`), []string{"sessions[0] date", "DD-MM-YYYY"}},
		{"negative capacity", centre(`{"session_id":"s1","date":"20-05-2021","available_capacity":-1}`), []string{"sessions[0] available_capacity", "negative capacity -1"}},
		{"negative dose2", centre(`{"session_id":"s1","date":"20-05-2021","available_capacity_dose1":3,"available_capacity_dose2":-2}`), []string{"available_capacity_dose2", "negative"}},
		{"fractional capacity", centre(`{"session_id":"s1","date":"20-05-2021","available_capacity":2.5}`), []string{"available_capacity", "want an integer"}},
		{"capacity as object", centre(`{"session_id":"s1","date":"20-05-2021","available_capacity":{}}`), []string{"available_capacity", "want an integer, got an object"}},
		{"same session twice", centre(okSession + `,` + okSession), []string{"sessions[1] session_id", "same date"}},
		{"max below min age", centre(`{"session_id":"s1","date":"20-05-2021","min_age_limit":45,"max_age_limit":44}`), []string{"max_age_limit"}},
		{"negative min age", centre(`{"session_id":"s1","date":"20-05-2021","min_age_limit":-18}`), []string{"min_age_limit"}},
		{"bad allow_all_age", centre(`{"session_id":"s1","date":"20-05-2021","allow_all_age":"sometimes"}`), []string{"allow_all_age", "true or false"}},
		{"slots not array", centre(`{"session_id":"s1","date":"20-05-2021","slots":"09:00AM-11:00AM"}`), []string{"slots", "want an array"}},
		{"slot a number list", centre(`{"session_id":"s1","date":"20-05-2021","slots":[[1]]}`), []string{"slots", "[0]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			centres, err := Parse(strings.NewReader(tt.input))
			if err == nil {
				t.Fatalf("accepted, got %+v", centres)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "cowin: ") {
				t.Errorf("error %q lacks the cowin: prefix", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Errorf("error %q is not a *FormatError", msg)
			}
		})
	}
}

func TestParseLenient(t *testing.T) {
	one := func(t *testing.T, input string) dialog.Centre {
		t.Helper()
		centres, err := Parse(strings.NewReader(input))
		if err != nil {
			t.Fatal(err)
		}
		if len(centres) != 1 {
			t.Fatalf("%d centres, want 1", len(centres))
		}
		return centres[0]
	}
	// wrap puts centre fields and one session's fields into a calendar.
	wrap := func(centreFields, sessionFields string) string {
		return `{"centers":[{"center_id":590665,"name":"Test MCWC","pincode":743337` + centreFields +
			`,"sessions":[{"session_id":"abc-1","date":"18-05-2021"` + sessionFields + `}]}]}`
	}
	tests := []struct {
		name  string
		input string
		check func(t *testing.T, c dialog.Centre)
	}{
		{"minimal centre and session", wrap("", ""), func(t *testing.T, c dialog.Centre) {
			s := c.Sessions[0]
			if c.Address != "" || c.FeeType != dialog.Free || c.Fees != nil {
				t.Errorf("centre %+v", c)
			}
			if s.Vaccine != "" || s.Capacity != [2]int{} || s.MinAge != 0 || s.MaxAge != 0 || s.AllowAllAge || len(s.Slots) != 0 {
				t.Errorf("session %+v", s)
			}
			want := time.Date(2021, 5, 18, 0, 0, 0, 0, dialog.IST)
			if !s.Date.Equal(want) || s.Date.Location() != dialog.IST || s.CentreID != 590665 || s.ID != "abc-1" {
				t.Errorf("session %+v, want date %v", s, want)
			}
		}},
		{"missing address, null fields", wrap(`,"address":null,"block_name":null,"vaccine_fees":null`, `,"vaccine":null,"slots":null`), func(t *testing.T, c dialog.Centre) {
			if c.Address != "" || c.Block != "" || c.Fees != nil || c.Sessions[0].Vaccine != "" {
				t.Errorf("centre %+v", c)
			}
		}},
		{"empty vaccine", wrap("", `,"vaccine":""`), func(t *testing.T, c dialog.Centre) {
			if c.Sessions[0].Vaccine != "" {
				t.Errorf("vaccine %q", c.Sessions[0].Vaccine)
			}
		}},
		{"all centre fields", wrap(`,"address":" Jaynagar ","state_name":"West Bengal","district_name":"South 24 Parganas","block_name":"Jaynagar","from":"10:00:00","to":"17:00:00","fee_type":"Free"`, ""), func(t *testing.T, c dialog.Centre) {
			want := dialog.Centre{ID: 590665, Name: "Test MCWC", Address: "Jaynagar", State: "West Bengal", District: "South 24 Parganas",
				Block: "Jaynagar", Pincode: "743337", From: "10:00:00", To: "17:00:00", FeeType: dialog.Free}
			c.Sessions = nil
			if !equalCentre(c, want) {
				t.Errorf("got %+v\nwant %+v", c, want)
			}
		}},
		{"fees as strings and numbers", wrap(`,"fee_type":"Paid","vaccine_fees":[{"vaccine":"COVISHIELD","fee":"780"},{"vaccine":"covaxin","fee":1410},{"vaccine":"SPUTNIK V","fee":" 1145 "}]`, `,"vaccine":"COVAXIN"`), func(t *testing.T, c dialog.Centre) {
			want := []dialog.Fee{{Vaccine: "COVISHIELD", Rupees: 780}, {Vaccine: "COVAXIN", Rupees: 1410}, {Vaccine: "SPUTNIK V", Rupees: 1145}}
			if !slices.Equal(c.Fees, want) {
				t.Errorf("fees %v, want %v", c.Fees, want)
			}
			if fee, ok := c.Fee(c.Sessions[0].Vaccine); !ok || fee != 1410 {
				t.Errorf("session fee %d, %v", fee, ok)
			}
		}},
		{"fee given as empty string is unknown", wrap(`,"fee_type":"Paid","vaccine_fees":[{"vaccine":"COVISHIELD","fee":""}]`, ""), func(t *testing.T, c dialog.Centre) {
			if len(c.Fees) != 0 || c.FeeType != dialog.Paid {
				t.Errorf("fee type %q, fees %v", c.FeeType, c.Fees)
			}
		}},
		{"paid without vaccine_fees", wrap(`,"fee_type":"Paid"`, ""), func(t *testing.T, c dialog.Centre) {
			if _, ok := c.Fee("COVISHIELD"); c.FeeType != dialog.Paid || ok {
				t.Errorf("fee type %q, fee known %v", c.FeeType, ok)
			}
		}},
		{"fee_type in lower case", wrap(`,"fee_type":"paid"`, ""), func(t *testing.T, c dialog.Centre) {
			if c.FeeType != dialog.Paid {
				t.Errorf("fee type %q", c.FeeType)
			}
		}},
		{"fee_type missing, fees given", wrap(`,"vaccine_fees":[{"vaccine":"COVISHIELD","fee":"780"}]`, ""), func(t *testing.T, c dialog.Centre) {
			if c.FeeType != dialog.Paid {
				t.Errorf("fee type %q, want Paid", c.FeeType)
			}
		}},
		{"extra fields", wrap(`,"lat":22,"long":88,"center_id_v2":{"x":[1,2]},"something_new":true`, `,"walkin_ind":"N","slots_v2":[{"a":1}],"available_capacity_dose3":5`), func(t *testing.T, c dialog.Centre) {
			if len(c.Sessions) != 1 {
				t.Errorf("sessions %v", c.Sessions)
			}
		}},
		{"max_age_limit and allow_all_age", wrap("", `,"min_age_limit":18,"max_age_limit":44,"allow_all_age":false`), func(t *testing.T, c dialog.Centre) {
			s := c.Sessions[0]
			if s.MinAge != 18 || s.MaxAge != 44 || s.AllowAllAge {
				t.Errorf("session %+v", s)
			}
			if s.AgeFits(45) || !s.AgeFits(30) {
				t.Error("age 18-44 not applied")
			}
		}},
		{"allow_all_age true", wrap("", `,"min_age_limit":18,"allow_all_age":true`), func(t *testing.T, c dialog.Centre) {
			if !c.Sessions[0].AllowAllAge || c.Sessions[0].MaxAge != 0 {
				t.Errorf("session %+v", c.Sessions[0])
			}
		}},
		{"allow_all_age as string", wrap("", `,"allow_all_age":"true"`), func(t *testing.T, c dialog.Centre) {
			if !c.Sessions[0].AllowAllAge {
				t.Error("allow_all_age false")
			}
		}},
		{"numbers as strings", `{"centers":[{"center_id":"590665","name":"A","pincode":"743 337","sessions":[{"session_id":"s","date":"18-05-2021","available_capacity":"12","min_age_limit":"45"}]}]}`, func(t *testing.T, c dialog.Centre) {
			if c.ID != 590665 || c.Pincode != "743337" || c.Sessions[0].Capacity != [2]int{12, 0} || c.Sessions[0].MinAge != 45 {
				t.Errorf("centre %+v", c)
			}
		}},
		{"integral float", wrap("", `,"available_capacity":10.0`), func(t *testing.T, c dialog.Centre) {
			if c.Sessions[0].Capacity != [2]int{10, 0} {
				t.Errorf("capacity %v", c.Sessions[0].Capacity)
			}
		}},
		{"vaccine trimmed and upper-cased", wrap("", `,"vaccine":" Covishield "`), func(t *testing.T, c dialog.Centre) {
			if c.Sessions[0].Vaccine != "COVISHIELD" {
				t.Errorf("vaccine %q", c.Sessions[0].Vaccine)
			}
		}},
		{"slots as objects", wrap("", `,"slots":[{"time":"09:00AM-11:00AM","seats":10},"11:00AM-01:00PM",""]`), func(t *testing.T, c dialog.Centre) {
			if want := []string{"09:00AM-11:00AM", "11:00AM-01:00PM"}; !slices.Equal(c.Sessions[0].Slots, want) {
				t.Errorf("slots %q, want %q", c.Sessions[0].Slots, want)
			}
		}},
		{"no sessions", `{"centers":[{"center_id":1,"name":"A","pincode":110001}]}`, func(t *testing.T, c dialog.Centre) {
			if len(c.Sessions) != 0 {
				t.Errorf("sessions %v", c.Sessions)
			}
		}},
		{"byte order mark", "\uFEFF" + wrap("", ""), func(t *testing.T, c dialog.Centre) {}},
		{"session_id reused on another date", `{"centers":[{"center_id":1,"name":"A","pincode":110001,"sessions":[` +
			`{"session_id":"x","date":"20-05-2021"},{"session_id":"x","date":"21-05-2021"}]}]}`, func(t *testing.T, c dialog.Centre) {
			if c.Sessions[0].ID != "x" || c.Sessions[1].ID != "x@2021-05-21" {
				t.Errorf("ids %q %q", c.Sessions[0].ID, c.Sessions[1].ID)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, one(t, tt.input))
		})
	}

	for _, input := range []string{`{"centers":[]}`, `{"centers":null}`, `{"centers":[],"ttl":30}`} {
		t.Run("no centres "+input, func(t *testing.T) {
			centres, err := Parse(strings.NewReader(input))
			if err != nil || len(centres) != 0 {
				t.Errorf("got %v, %v; want no centres, no error", centres, err)
			}
		})
	}
}

func TestParseCapacity(t *testing.T) {
	tests := []struct {
		fields string
		want   [2]int
	}{
		{`"available_capacity":30,"available_capacity_dose1":20,"available_capacity_dose2":10`, [2]int{20, 10}},
		{`"available_capacity":30`, [2]int{30, 0}},
		{`"available_capacity":30,"available_capacity_dose1":null,"available_capacity_dose2":null`, [2]int{30, 0}},
		{`"available_capacity":30,"available_capacity_dose1":25`, [2]int{25, 5}},
		{`"available_capacity":30,"available_capacity_dose2":12`, [2]int{18, 12}},
		{`"available_capacity":5,"available_capacity_dose2":12`, [2]int{0, 12}},
		{`"available_capacity":0,"available_capacity_dose1":10,"available_capacity_dose2":0`, [2]int{10, 0}}, // as in 18-rajasthan-kota
		{`"available_capacity_dose1":7,"available_capacity_dose2":3`, [2]int{7, 3}},
		{``, [2]int{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.fields, func(t *testing.T) {
			sep := ""
			if tt.fields != "" {
				sep = ","
			}
			input := `{"centers":[{"center_id":1,"name":"A","pincode":110001,"sessions":[{"session_id":"s","date":"01-06-2021"` + sep + tt.fields + `}]}]}`
			centres, err := Parse(strings.NewReader(input))
			if err != nil {
				t.Fatal(err)
			}
			if got := centres[0].Sessions[0].Capacity; got != tt.want {
				t.Errorf("capacity %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(bad, []byte(`{"centers":[{"center_id":3,"name":"A","pincode":110001,"sessions":[{"session_id":"s","date":"32-05-2021"}]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, []byte(`{"centers":[{"center_id":3,"name":"A","pincode":110001}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.json")

	tests := []struct {
		name    string
		path    string
		want    string // error text; "" for success
		is      error
		format  bool
		centres int
	}{
		{"good", good, "", nil, false, 1},
		{"bad date", bad, "cowin: " + bad + `: centers[0] (center_id 3) sessions[0] date: want a DD-MM-YYYY date, got "32-05-2021"`, nil, true, 0},
		{"missing", missing, "cowin: " + missing + ": ", fs.ErrNotExist, false, 0},
		{"directory", dir, "cowin: " + dir + ": ", nil, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			centres, err := ParseFile(tt.path)
			if tt.want == "" {
				if err != nil || len(centres) != tt.centres {
					t.Fatalf("got %d centres, %v", len(centres), err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %q, want prefix %q", err, tt.want)
			}
			if strings.Count(err.Error(), tt.path) != 1 {
				t.Errorf("error %q names the file other than once", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %v", err, tt.is)
			}
			var fe *FormatError
			if errors.As(err, &fe) != tt.format {
				t.Errorf("errors.As(*FormatError) = %v, want %v", !tt.format, tt.format)
			}
		})
	}
}

// equalCentre compares centres field by field (Centre holds slices).
func equalCentre(a, b dialog.Centre) bool {
	return a.ID == b.ID && a.Name == b.Name && a.Address == b.Address && a.State == b.State &&
		a.District == b.District && a.Block == b.Block && a.Pincode == b.Pincode && a.From == b.From &&
		a.To == b.To && a.FeeType == b.FeeType && slices.Equal(a.Fees, b.Fees) && len(a.Sessions) == len(b.Sessions)
}

func TestParseBounds(t *testing.T) {
	long := func(n int) string { return strings.Repeat("क", n) } // three bytes, one character
	calendar := func(centre, session string) string {
		// A later key wins in encoding/json: the case's field replaces the default.
		return `{"centers":[{"center_id":1,"name":"Good","pincode":110001},{"center_id":123456,"name":"Urban PHC","pincode":110001` +
			`,"sessions":[{"session_id":"s1","date":"01-06-2021","vaccine":"COVAXIN","slots":["09:00AM-11:00AM"]` + session + `}]` + centre + `}]}`
	}
	list := func(n int, item string) string {
		return "[" + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + "]"
	}
	sessions := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, `%s{"session_id":"s%d","date":"01-06-2021"}`, map[bool]string{true: ",", false: ""}[i > 0], i)
		}
		return `,"sessions":[` + b.String() + `]`
	}
	tests := []struct {
		name            string
		centre, session string
		want            string // "" when accepted
	}{
		{"120 KB name", `,"name":"` + strings.Repeat("x", 120_000) + `"`, "", "centers[1] (center_id 123456) name: 120000 characters, at most 200"},
		{"name at the bound", `,"name":"` + long(200) + `"`, "", ""},
		{"name past the bound", `,"name":"` + long(201) + `"`, "", "(center_id 123456) name: 201 characters, at most 200"},
		{"name counted after trimming", `,"name":"  ` + long(200) + `  "`, "", ""},
		{"address", `,"address":"` + long(501) + `"`, "", "(center_id 123456) address: 501 characters, at most 500"},
		{"state", `,"state_name":"` + long(101) + `"`, "", "(center_id 123456) state_name: 101 characters"},
		{"district", `,"district_name":"` + long(101) + `"`, "", "(center_id 123456) district_name: 101 characters"},
		{"block", `,"block_name":"` + long(101) + `"`, "", "(center_id 123456) block_name: 101 characters"},
		{"from", `,"from":"` + long(33) + `"`, "", "(center_id 123456) from: 33 characters"},
		{"to", `,"to":"` + long(33) + `"`, "", "(center_id 123456) to: 33 characters"},
		{"fee type", `,"fee_type":"` + long(17) + `"`, "", "(center_id 123456) fee_type: 17 characters"},
		{"fee vaccine", `,"vaccine_fees":[{"vaccine":"` + long(51) + `","fee":"780"}]`, "", "(center_id 123456) vaccine_fees[0] vaccine: 51 characters"},
		{"fees", `,"vaccine_fees":` + list(21, `{"vaccine":"COVAXIN","fee":1}`), "", "(center_id 123456) vaccine_fees: 21 fees, at most 20"},
		{"sessions at the bound", sessions(100), "", ""},
		{"sessions", sessions(101), "", "(center_id 123456) sessions: 101 sessions, at most 100"},
		{"session id", "", `,"session_id":"` + long(101) + `"`, "(center_id 123456) sessions[0] session_id: 101 characters"},
		{"date", "", `,"date":"` + long(33) + `"`, "(center_id 123456) sessions[0] date: 33 characters"},
		{"vaccine", "", `,"vaccine":"` + long(51) + `"`, "(center_id 123456) sessions[0] vaccine: 51 characters"},
		{"slot", "", `,"slots":["` + long(51) + `"]`, "(center_id 123456) sessions[0] slots[0]: 51 characters"},
		{"slot object", "", `,"slots":[{"time":"` + long(51) + `"}]`, "(center_id 123456) sessions[0] slots[0]: 51 characters"},
		{"slots at the bound", "", `,"slots":` + list(50, `"09:00AM-11:00AM"`), ""},
		{"slots", "", `,"slots":` + list(51, `"09:00AM-11:00AM"`), "(center_id 123456) sessions[0] slots: 51 slots, at most 50"},
		{"long number quoted short", `,"pincode":"` + strings.Repeat("1", 100_000) + `"`, "", "(center_id 123456) pincode: want 6 digits not starting with 0, got \"1111"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			centres, err := Parse(strings.NewReader(calendar(tt.centre, tt.session)))
			if tt.want == "" {
				if err != nil || len(centres) != 2 {
					t.Fatalf("got %d centres, %v", len(centres), err)
				}
				if c := centres[1]; strings.Contains(tt.centre, `"name"`) && c.Name == "Urban PHC" || strings.Contains(tt.centre, "sessions") && len(c.Sessions) < 2 ||
					strings.Contains(tt.session, "slots") && len(c.Sessions[0].Slots) < 2 {
					t.Fatalf("the case's value did not replace the default: %+v", c)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted %d centres", len(centres))
			}
			if centres != nil {
				t.Errorf("a refused calendar still gave %d centres", len(centres))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if len(err.Error()) > 200 {
				t.Errorf("error of %d bytes: the value is quoted whole", len(err.Error()))
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Errorf("error %q is not a *FormatError", err)
			}
		})
	}
}

// TestParseRealFilesWithinBounds checks that the bounds leave the 2021
// responses a wide margin: every value at most half its bound.
func TestParseRealFilesWithinBounds(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(cowintest.Dir(t), "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no real files: %v", err)
	}
	seen := map[string]int{}
	note := func(field string, n int) { seen[field] = max(seen[field], n) }
	chars := utf8.RuneCountInString
	for _, path := range files {
		centres, err := ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range centres {
			note("name", chars(c.Name))
			note("address", chars(c.Address))
			note("place", max(chars(c.State), chars(c.District), chars(c.Block)))
			note("time", max(chars(c.From), chars(c.To)))
			note("fees", len(c.Fees))
			for _, f := range c.Fees {
				note("vaccine", chars(f.Vaccine))
			}
			note("sessions", len(c.Sessions))
			for _, s := range c.Sessions {
				id, _, _ := strings.Cut(s.ID, "@") // a repeated id gets "@date"
				note("session_id", chars(id))
				note("vaccine", chars(s.Vaccine))
				note("slots", len(s.Slots))
				for _, sl := range s.Slots {
					note("slot", chars(sl))
				}
			}
		}
	}
	bounds := map[string]int{"name": maxName, "address": maxAddress, "place": maxPlace, "time": maxTime, "fees": maxFees,
		"vaccine": maxVaccine, "sessions": maxSessions, "session_id": maxSessionID, "slots": maxSlots, "slot": maxSlot}
	for field, bound := range bounds {
		if seen[field] == 0 || seen[field] > bound/2 {
			t.Errorf("%s: largest in the real files %d, bound %d", field, seen[field], bound)
		}
	}
	t.Logf("largest in the real files: %v", seen)
}

// FuzzParse checks that Parse either refuses a calendar with a short
// *FormatError or returns centres within the importer's bounds, and that
// what it returns, written back as a calendar, parses to the same.
func FuzzParse(f *testing.F) {
	// Small real responses (see testdata/SOURCES.md), then edge cases.
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed calendars in testdata: %v", err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		``, `null`, `[]`, `{}`, `{"centers":null}`, `{"sessions":[]}`, "\uFEFF{\"centers\":[]}",
		`{"centers":[{"center_id":1,"name":"A","pincode":"743 337","fee_type":"paid","vaccine_fees":[{"vaccine":" covaxin ","fee":"1410"},{"fee":""}],` +
			`"sessions":[{"session_id":"s","date":"20-05-2021","available_capacity":5,"available_capacity_dose2":7,"min_age_limit":"18","max_age_limit":44,"allow_all_age":"true","slots":[{"time":"09:00AM"},""]},` +
			`{"session_id":"s","date":"21-05-2021","available_capacity":2.5e1,"available_capacity_dose1":3}]}]}`,
		`{"centers":[{"center_id":1e3,"name":12,"pincode":7.43337e5,"from":-1,"sessions":[{"session_id":"s@2021-05-21","date":"20-05-2021"},{"session_id":"s","date":"21-05-2021"}]}]}`,
		`{"centers":[{"center_id":1,"name":"A","pincode":700001},{"center_id":1,"name":"B","pincode":700001}]}`,
		`{"centers":[{"center_id":1,"name":"A","pincode":700001,"sessions":[{"session_id":"s","date":"20-05-2021","available_capacity":2147483648}]}]}`,
		`{"centers":[{"center_id":9007199254740993,"name":"A","pincode":"0700001"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		centres, err := Parse(bytes.NewReader(data))
		if err != nil {
			var fe *FormatError
			// Errors quote at most a bounded value, whatever the input's size.
			if msg := err.Error(); !errors.As(err, &fe) || !strings.HasPrefix(msg, "cowin: ") || len(msg) > 2048 || centres != nil {
				t.Fatalf("Parse = %d centres, %q; want nil and a short cowin: *FormatError", len(centres), clip(msg))
			}
			return
		}
		checkBounds(t, centres)

		// A repeat's id carries "@date", and may pass the bound on input.
		for _, c := range centres {
			for _, s := range c.Sessions {
				if utf8.RuneCountInString(s.ID) > maxSessionID {
					return
				}
			}
		}
		again, err := Parse(bytes.NewReader(encodeCalendar(t, centres)))
		if err != nil {
			t.Fatalf("parsed centres written back: %v", err)
		}
		if !reflect.DeepEqual(again, centres) {
			t.Fatalf("parsed centres written back parse as\n%+v\nwant\n%+v", again, centres)
		}
	})
}

// checkBounds checks parsed centres against Parse's rules.
func checkBounds(t *testing.T, centres []dialog.Centre) {
	t.Helper()
	text := func(what, s string, max int) {
		t.Helper()
		if n := utf8.RuneCountInString(s); n > max || !utf8.ValidString(s) || strings.TrimSpace(s) != s {
			t.Fatalf("%s %q: %d characters (at most %d), or not trimmed UTF-8", what, clip(s), n, max)
		}
	}
	upper := func(what, s string) {
		t.Helper()
		if strings.ToUpper(s) != s {
			t.Fatalf("%s %q not upper case", what, s)
		}
	}
	centreIDs := map[int64]bool{}
	sessionIDs := map[string]bool{}
	for _, c := range centres {
		if c.ID <= 0 || centreIDs[c.ID] {
			t.Fatalf("centre id %d: not positive, or repeated", c.ID)
		}
		centreIDs[c.ID] = true
		if c.Name == "" {
			t.Fatalf("centre %d: no name", c.ID)
		}
		for _, f := range []struct {
			what, s string
			max     int
		}{
			{"name", c.Name, maxName}, {"address", c.Address, maxAddress},
			{"state", c.State, maxPlace}, {"district", c.District, maxPlace}, {"block", c.Block, maxPlace},
			{"from", c.From, maxTime}, {"to", c.To, maxTime},
		} {
			text(fmt.Sprintf("centre %d %s", c.ID, f.what), f.s, f.max)
		}
		if len(c.Pincode) != 6 || c.Pincode[0] == '0' || strings.Trim(c.Pincode, "0123456789") != "" {
			t.Fatalf("centre %d pincode %q", c.ID, c.Pincode)
		}
		if c.FeeType != dialog.Free && c.FeeType != dialog.Paid {
			t.Fatalf("centre %d fee type %q", c.ID, c.FeeType)
		}
		if len(c.Fees) > maxFees {
			t.Fatalf("centre %d: %d fees", c.ID, len(c.Fees))
		}
		for _, fee := range c.Fees {
			text("fee vaccine", fee.Vaccine, maxVaccine)
			upper("fee vaccine", fee.Vaccine)
			if fee.Rupees < 0 || fee.Rupees > 1_000_000 {
				t.Fatalf("centre %d fee %d", c.ID, fee.Rupees)
			}
		}
		if len(c.Sessions) > maxSessions {
			t.Fatalf("centre %d: %d sessions", c.ID, len(c.Sessions))
		}
		for _, s := range c.Sessions {
			if s.ID == "" || sessionIDs[s.ID] || strings.ContainsAny(s.ID, "{} \t\r\n") {
				t.Fatalf("session id %q: empty, repeated, or with a brace or white space", s.ID)
			}
			sessionIDs[s.ID] = true
			text("session id", s.ID, maxSessionID+len("@2006-01-02"))
			if s.CentreID != c.ID {
				t.Fatalf("session %q of centre %d has centre id %d", s.ID, c.ID, s.CentreID)
			}
			if h, m, sec := s.Date.Clock(); s.Date.Location() != dialog.IST || h+m+sec+s.Date.Nanosecond() != 0 {
				t.Fatalf("session %q date %v, not midnight IST", s.ID, s.Date)
			}
			for _, n := range s.Capacity {
				if n < 0 || n > math.MaxInt32 {
					t.Fatalf("session %q capacity %v", s.ID, s.Capacity)
				}
			}
			if s.MinAge < 0 || s.MinAge > 150 || s.MaxAge < 0 || s.MaxAge > 150 || (s.MaxAge != 0 && s.MaxAge < s.MinAge) {
				t.Fatalf("session %q ages %d to %d", s.ID, s.MinAge, s.MaxAge)
			}
			text("vaccine", s.Vaccine, maxVaccine)
			upper("vaccine", s.Vaccine)
			if len(s.Slots) > maxSlots {
				t.Fatalf("session %q: %d slots", s.ID, len(s.Slots))
			}
			for _, sl := range s.Slots {
				if sl == "" {
					t.Fatalf("session %q: empty slot", s.ID)
				}
				text("slot", sl, maxSlot)
			}
		}
	}
}

// encodeCalendar writes centres as a Co-WIN calendar, every field given.
// available_capacity is left out: the two dose figures may add up past its
// bound.
func encodeCalendar(t *testing.T, centres []dialog.Centre) []byte {
	t.Helper()
	type fee struct {
		Vaccine string `json:"vaccine"`
		Fee     int    `json:"fee"`
	}
	type session struct {
		ID       string   `json:"session_id"`
		Date     string   `json:"date"`
		Dose1    int      `json:"available_capacity_dose1"`
		Dose2    int      `json:"available_capacity_dose2"`
		MinAge   int      `json:"min_age_limit"`
		MaxAge   int      `json:"max_age_limit"`
		AllowAll bool     `json:"allow_all_age"`
		Vaccine  string   `json:"vaccine"`
		Slots    []string `json:"slots"`
	}
	type centre struct {
		ID       int64     `json:"center_id"`
		Name     string    `json:"name"`
		Address  string    `json:"address"`
		State    string    `json:"state_name"`
		District string    `json:"district_name"`
		Block    string    `json:"block_name"`
		Pincode  string    `json:"pincode"`
		From     string    `json:"from"`
		To       string    `json:"to"`
		FeeType  string    `json:"fee_type"`
		Fees     []fee     `json:"vaccine_fees"`
		Sessions []session `json:"sessions"`
	}
	var out struct {
		Centers []centre `json:"centers"`
	}
	for _, c := range centres {
		w := centre{ID: c.ID, Name: c.Name, Address: c.Address, State: c.State, District: c.District, Block: c.Block,
			Pincode: c.Pincode, From: c.From, To: c.To, FeeType: string(c.FeeType)}
		for _, f := range c.Fees {
			w.Fees = append(w.Fees, fee{f.Vaccine, f.Rupees})
		}
		for _, s := range c.Sessions {
			w.Sessions = append(w.Sessions, session{s.ID, s.Date.Format(dateLayout), s.Capacity[0], s.Capacity[1],
				s.MinAge, s.MaxAge, s.AllowAllAge, s.Vaccine, s.Slots})
		}
		out.Centers = append(out.Centers, w)
	}
	data, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
