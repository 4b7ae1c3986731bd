package loadgen

import (
	"math/bits"
	"math/rand/v2"
	"strconv"
	"sync/atomic"

	"github.com/tikasetu/tikasetu/dialog"
)

// sequence hands out distinct members of [base, base+size): the i-th is
// base + (offset + i·stride) mod size, with stride coprime to size, so no
// value repeats until size have been handed out. offset and stride are
// random per run: two runs against one store overlap only by chance (about
// n₁·n₂/size shared values), while one run never repeats itself. Safe for
// concurrent use.
type sequence struct {
	base, size     uint64
	offset, stride uint64
	next           atomic.Uint64
}

func newSequence(base, size uint64, rng *rand.Rand) *sequence {
	s := &sequence{base: base, size: size, offset: rng.Uint64N(size)}
	for {
		s.stride = size/3 + rng.Uint64N(size-size/3)
		if gcd(s.stride, size) == 1 {
			return s
		}
	}
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// take returns the next value.
func (s *sequence) take() uint64 {
	i := (s.next.Add(1) - 1) % s.size
	hi, lo := bits.Mul64(i, s.stride) // i, stride < size, so hi < size
	_, r := bits.Div64(hi, lo, s.size)
	r += s.offset
	if r >= s.size {
		r -= s.size
	}
	return s.base + r
}

// identities makes the synthetic people of a run: mobile numbers (10 digits
// starting 6–9: 4·10⁹ of them) and Aadhaar numbers (11 digits not starting 0
// or 1, then the Verhoeff check digit: 8·10¹⁰), neither repeating in a run.
type identities struct {
	msisdn  *sequence
	aadhaar *sequence
}

func newIdentities(rng *rand.Rand) *identities {
	return &identities{
		msisdn:  newSequence(6_000_000_000, 4_000_000_000, rng),
		aadhaar: newSequence(20_000_000_000, 80_000_000_000, rng),
	}
}

// Msisdn returns a fresh 10-digit Indian mobile number.
func (id *identities) Msisdn() string { return strconv.FormatUint(id.msisdn.take(), 10) }

// Aadhaar returns a fresh valid 12-digit Aadhaar number.
func (id *identities) Aadhaar() string {
	stem := strconv.FormatUint(id.aadhaar.take(), 10)
	return stem + string(dialog.VerhoeffDigit(stem))
}

// names are valid "name as on the ID" values (letters and spaces).
var names = []string{
	"Ram Kumar", "Sita Devi", "Anil Sharma", "Priya Das", "Mohan Lal", "Fatima Begum",
	"Joseph Thomas", "Gurpreet Singh", "Lakshmi Iyer", "Arjun Reddy", "Meena Kumari",
	"Rahul Verma", "Asha Patil", "Imran Khan", "Kavita Joshi", "Suresh Nair",
}
