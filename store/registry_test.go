package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tikasetu/tikasetu/dialog"
)

// TestAddBeneficiary: what the store adds to the port suite's
// "beneficiaries" case (dialogtest.RunPorts runs it on every backend, see
// ports_test.go): registrations counted in the operators' stats, refused
// ones not, and MaxBeneficiaries as a setting.
func TestAddBeneficiary(t *testing.T) {
	forBackends(t, allBackends, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		m, m2 := msisdn(1), msisdn(2)
		for i := 1; i <= 5; i++ {
			want := error(nil)
			if i == 5 {
				want = dialog.ErrTooManyBeneficiaries
			}
			if _, err := env.AddBeneficiary(ctx, m, person(i)); !errors.Is(err, want) {
				t.Fatalf("person %d: %v, want %v", i, err, want)
			}
		}
		if _, err := env.AddBeneficiary(ctx, m2, person(1)); !errors.Is(err, dialog.ErrDuplicateID) {
			t.Fatalf("an ID registered elsewhere: %v", err)
		}
		if _, err := env.AddBeneficiary(ctx, m2, person(5)); err != nil {
			t.Fatalf("the ID refused on a full account, elsewhere: %v", err)
		}
		if st, err := env.Stats(ctx); err != nil || st.Beneficiaries != 5 {
			t.Errorf("stats beneficiaries = %d, %v; want 5", st.Beneficiaries, err)
		}

		// MaxBeneficiaries is a setting.
		env2 := newEnv(t, env.url, func(c *Config) { c.MaxBeneficiaries = 1 })
		if _, err := env2.AddBeneficiary(ctx, msisdn(3), person(30)); err != nil {
			t.Fatal(err)
		}
		if _, err := env2.AddBeneficiary(ctx, msisdn(3), person(31)); !errors.Is(err, dialog.ErrTooManyBeneficiaries) {
			t.Errorf("cap 1: %v", err)
		}
	})
}

// TestAddBeneficiaryConcurrentDuplicate: N accounts register the same ID at
// once; exactly one wins. Then one account registers one ID from N
// goroutines; exactly one wins.
func TestAddBeneficiaryConcurrentDuplicate(t *testing.T) {
	forBackends(t, allBackends, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		const n = 50
		race := func(account func(i int) string, nb dialog.NewBeneficiary) (won, dup int64) {
			var w, d atomic.Int64
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, err := env.AddBeneficiary(ctx, account(i), nb)
					switch {
					case err == nil:
						w.Add(1)
					case errors.Is(err, dialog.ErrDuplicateID):
						d.Add(1)
					default:
						t.Errorf("unexpected: %v", err)
					}
				}()
			}
			close(start)
			wg.Wait()
			return w.Load(), d.Load()
		}
		if w, d := race(msisdn, person(1)); w != 1 || d != n-1 {
			t.Errorf("across accounts: %d won, %d duplicate", w, d)
		}
		if w, d := race(func(int) string { return msisdn(999) }, person(2)); w != 1 || d != n-1 {
			t.Errorf("one account: %d won, %d duplicate", w, d)
		}
		acc, _ := env.Account(ctx, msisdn(999))
		if len(acc.Beneficiaries) != 1 {
			t.Errorf("account has %d beneficiaries", len(acc.Beneficiaries))
		}
		// Ten different people at once on one empty account: four fit.
		var ok, full atomic.Int64
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := env.AddBeneficiary(ctx, msisdn(888), person(500+i))
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, dialog.ErrTooManyBeneficiaries):
					full.Add(1)
				default:
					t.Errorf("unexpected: %v", err)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 4 || full.Load() != 6 {
			t.Errorf("cap race: %d added, %d refused", ok.Load(), full.Load())
		}
		if st, _ := env.Stats(ctx); st.Beneficiaries != 6 {
			t.Errorf("stats beneficiaries = %d", st.Beneficiaries)
		}
		// The refused people's ID claims were released: exactly the four
		// registered IDs are claimed.
		claims := 0
		for i := range 10 {
			nb := person(500 + i)
			claims += int(env.rdb.Exists(ctx, idKey(env.IDHash(nb.IDType, nb.IDNumber))).Val())
		}
		if claims != 4 {
			t.Errorf("%d ID claims for 10 people, 4 registered", claims)
		}
	})
}

// TestAddBeneficiaryRetryAfterCrash: a claim left by a crash before the
// account script is accepted for the same account.
func TestAddBeneficiaryRetryAfterCrash(t *testing.T) {
	forBackends(t, []backend{realRedis}, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		nb := person(1)
		if err := env.rdb.SetNX(ctx, idKey(env.IDHash(nb.IDType, nb.IDNumber)), msisdn(1), 0).Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := env.AddBeneficiary(ctx, msisdn(2), nb); !errors.Is(err, dialog.ErrDuplicateID) {
			t.Errorf("other account: %v", err)
		}
		if _, err := env.AddBeneficiary(ctx, msisdn(1), nb); err != nil {
			t.Errorf("retry: %v", err)
		}
	})
}

// TestNoSecretsInRedis registers people with every ID type, books, runs OTP
// and a conversation carrying a sealed draft, then searches every key and
// value for ID numbers and OTP codes in clear.
func TestNoSecretsInRedis(t *testing.T) {
	forBackends(t, []backend{realRedis, cluster}, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		c := centreFixture(1, "Secret", "700001", [2]int{5, 0})
		mustImport(t, env.Store, c)
		ids := []dialog.NewBeneficiary{
			{Name: "A", BirthYear: 1980, IDType: dialog.IDAadhaar, IDNumber: "234567890124"},
			{Name: "B", BirthYear: 1980, IDType: dialog.IDPAN, IDNumber: "ABCPE1234F"},
			{Name: "C", BirthYear: 1980, IDType: dialog.IDDriving, IDNumber: "WB0220110012345"},
			{Name: "D", BirthYear: 1980, IDType: dialog.IDVoter, IDNumber: "XYZ9876543"},
			{Name: "E", BirthYear: 1980, IDType: dialog.IDPassport, IDNumber: "J8369854"},
		}
		var secrets []string
		for i, nb := range ids {
			m := msisdn(i / 4)
			b, err := env.AddBeneficiary(ctx, m, nb)
			if err != nil {
				t.Fatal(err)
			}
			secrets = append(secrets, nb.IDNumber, nb.IDNumber[len(nb.IDNumber)-8:])
			if _, err := env.Book(ctx, dialog.BookRequest{Msisdn: m, Beneficiary: b.Ref, SessionID: c.Sessions[0].ID, Slot: c.Sessions[0].Slots[0], Dose: 1}); err != nil {
				t.Fatal(err)
			}
		}
		// A conversation with a sealed draft, saved under a reply key built
		// from the caller's input (here: an ID number).
		sealed, err := env.Seal("ABCPE9999F")
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, "ABCPE9999F")
		conv := &dialog.Conversation{Msisdn: msisdn(7), State: "add.name", Draft: dialog.Draft{IDType: dialog.IDPAN, IDSealed: sealed}}
		if err := env.Save(ctx, conv, 0, "at:sess1:ABCPE9999F", dialog.Reply{Text: "Name as on the ID?"}); err != nil {
			t.Fatal(err)
		}
		// OTP codes: one pending, one consumed.
		code1, err := env.Issue(ctx, dialog.OTPRequest{To: msisdn(8)})
		if err != nil {
			t.Fatal(err)
		}
		code2, err := env.Issue(ctx, dialog.OTPRequest{To: msisdn(9)})
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Verify(ctx, msisdn(9), code2); err != nil {
			t.Fatal(err)
		}
		d := dump(t, env.rdb)
		// Every kind of key is here now: each has exactly one hash tag.
		for k := range d {
			if n := countTags(k); n != 1 || !strings.HasPrefix(k, "ts:") {
				t.Errorf("key %s: %d hash tags", k, n)
			}
		}
		otpRaw := d[otpKey(msisdn(8))]
		if otpRaw == "" {
			t.Fatal("no OTP hash stored")
		}
		for k, v := range d {
			for _, s := range secrets {
				if strings.Contains(k, s) || strings.Contains(v, s) {
					t.Errorf("secret %q in clear under key %s", s, k)
				}
			}
		}
		// The OTP hash holds no code in clear (only the HMAC hex, expiry
		// and counters).
		for k, v := range d {
			if !strings.HasPrefix(k, "ts:otp") {
				continue
			}
			for _, code := range []string{code1, code2} {
				if strings.Contains(stripTimes(v), code) {
					t.Errorf("OTP code %s in clear in %s: %s", code, k, v)
				}
			}
		}
	})
}

// stripTimes drops the numeric fields of OTP keys (timestamps, counters),
// which may contain any 6 digits by chance, keeping the stored hash.
func stripTimes(v string) string {
	var keep []string
	for _, part := range strings.Split(strings.TrimSuffix(strings.TrimPrefix(v, "hash{"), "}"), ", ") {
		if strings.HasPrefix(part, "h=") {
			keep = append(keep, part)
		}
	}
	return strings.Join(keep, ",")
}

func TestCentresAndSeats(t *testing.T) {
	forBackends(t, allBackends, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		mustImport(t, env.Store,
			centreFixture(30, "Zeta Hospital", "700010", [2]int{5, 1}),
			centreFixture(20, "Alpha Clinic", "700010", [2]int{3, 0}, [2]int{0, 2}),
			centreFixture(10, "Alpha Clinic", "700010", [2]int{1, 1}),
			centreFixture(40, "Elsewhere", "700099", [2]int{1, 1}),
		)
		cs, err := env.CentresByPin(ctx, "700010")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range cs {
			got = append(got, fmt.Sprintf("%s#%d/%d", c.Name, c.ID, len(c.Sessions)))
		}
		if s := strings.Join(got, " "); s != "Alpha Clinic#10/1 Alpha Clinic#20/2 Zeta Hospital#30/1" {
			t.Errorf("CentresByPin = %s", s)
		}
		if cs, _ := env.CentresByPin(ctx, "111111"); len(cs) != 0 {
			t.Errorf("unknown pin: %v", cs)
		}
		c, err := env.Centre(ctx, 20)
		if err != nil || c.Name != "Alpha Clinic" || c.Sessions[1].CentreID != 20 {
			t.Errorf("Centre = %+v, %v", c, err)
		}
		if _, err := env.Centre(ctx, 99); !errors.Is(err, dialog.ErrNotFound) {
			t.Errorf("unknown centre: %v", err)
		}
		seats, err := env.Seats(ctx, []string{"s-20-0", "nope", "s-20-1"})
		if err != nil {
			t.Fatal(err)
		}
		want := []dialog.Seats{{Free: [2]int{3, 0}}, {}, {Free: [2]int{0, 2}}}
		for i := range want {
			if seats[i] != want[i] {
				t.Errorf("seats[%d] = %+v, want %+v", i, seats[i], want[i])
			}
		}
	})
}
