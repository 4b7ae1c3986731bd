package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"

	"github.com/tikasetu/tikasetu/dialog"
)

// ids hands out the made-up people of a scenario: mobile numbers and
// Aadhaar numbers that do not repeat within a run (each scenario has its
// own Redis, so runs cannot collide). Safe for concurrent use.
type ids struct {
	msisdnBase  uint64 // 10 digits, starting 6–9
	aadhaarBase uint64 // 11 digits, not starting 0 or 1
	next        atomic.Uint64
}

// idsPerRun bounds the numbers one ids hands out.
const idsPerRun = 1_000_000

func newIDs(rng *rand.Rand) *ids {
	return &ids{
		msisdnBase:  6_000_000_000 + rng.Uint64N(4_000_000_000-idsPerRun),
		aadhaarBase: 20_000_000_000 + rng.Uint64N(80_000_000_000-idsPerRun),
	}
}

func (x *ids) take() uint64 {
	n := x.next.Add(1) - 1
	if n >= idsPerRun {
		panic(fmt.Sprintf("faults: more than %d made-up people in one run", idsPerRun))
	}
	return n
}

// Msisdn returns a fresh number in E.164 (+91 and 10 digits).
func (x *ids) Msisdn() string { return "+91" + strconv.FormatUint(x.msisdnBase+x.take(), 10) }

// Aadhaar returns a fresh valid Aadhaar number: 11 digits and the Verhoeff
// check digit.
func (x *ids) Aadhaar() string {
	stem := strconv.FormatUint(x.aadhaarBase+x.take(), 10)
	return stem + string(dialog.VerhoeffDigit(stem))
}

// names are valid "name as on the ID" values.
var names = []string{"Ram Kumar", "Sita Devi", "Anil Sharma", "Priya Das", "Mohan Lal", "Fatima Begum",
	"Joseph Thomas", "Gurpreet Singh", "Lakshmi Iyer", "Arjun Reddy", "Meena Kumari", "Rahul Verma"}
