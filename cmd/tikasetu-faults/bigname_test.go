package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/tikasetu/tikasetu/store/cowin"
)

func TestBigCalendar(t *testing.T) {
	// A name of ordinary size parses: the calendar is otherwise valid.
	ok, err := bigCalendar(40)
	if err != nil {
		t.Fatal(err)
	}
	centres, err := cowin.Parse(bytes.NewReader(ok))
	if err != nil || len(centres) != 3 || len(centres[1].Name) != 40 {
		t.Fatalf("ordinary calendar: %d centres, %v", len(centres), err)
	}

	big, err := bigCalendar(bigNameBytes)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(big, []byte(strings.Repeat("Primary Health Centre ", 100))) || len(big) < bigNameBytes {
		t.Fatalf("calendar of %d bytes has no big name", len(big))
	}
	_, err = cowin.Parse(bytes.NewReader(big))
	var fe *cowin.FormatError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "name") {
		t.Errorf("big name: %v, want a FormatError naming the field", err)
	}
}
