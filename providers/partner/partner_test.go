package partner_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/dialog/dialogtest"
	"github.com/tikasetu/tikasetu/providers/dispatch"
	"github.com/tikasetu/tikasetu/providers/internal/providertest"
	"github.com/tikasetu/tikasetu/providers/outbox"
	"github.com/tikasetu/tikasetu/providers/partner"
	"github.com/tikasetu/tikasetu/store"
	"github.com/tikasetu/tikasetu/store/cowin"
	"github.com/tikasetu/tikasetu/store/redistest"
)

func init() { gin.SetMode(gin.TestMode) }

const docPath = "../../docs/partners.md"

// block is a fenced code block of a Markdown document.
type block struct {
	heading string // the nearest heading above it, without the #s
	lang    string
	text    string // without the final newline
}

// docBlocks returns the fenced code blocks of docs/partners.md, each under
// its nearest heading, within the section whose heading is section.
func docBlocks(t *testing.T, section string) []block {
	t.Helper()
	data, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("read the partner documentation: %v", err)
	}
	var (
		out      []block
		heading  string
		level    int // of the section heading; 0 while outside
		fence    *block
		contents []string
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		ln := sc.Text()
		switch {
		case fence != nil && ln == "```":
			fence.text = strings.Join(contents, "\n")
			if level > 0 {
				out = append(out, *fence)
			}
			fence, contents = nil, nil
		case fence != nil:
			contents = append(contents, ln)
		case strings.HasPrefix(ln, "```"):
			fence = &block{heading: heading, lang: strings.TrimPrefix(ln, "```")}
		case strings.HasPrefix(ln, "#"):
			n := len(ln) - len(strings.TrimLeft(ln, "#"))
			heading = strings.TrimSpace(ln[n:])
			if level > 0 && n <= level {
				level = 0
			}
			if heading == section {
				level = n
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no code blocks under %q", docPath, section)
	}
	return out
}

// worked returns the worked example of the signing section by heading.
func worked(t *testing.T) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, b := range docBlocks(t, "Worked example") {
		m[b.heading] = b.text
	}
	for _, k := range []string{"timestamp", "secret", "body", "signature", "openssl"} {
		if m[k] == "" {
			t.Fatalf("%s: worked example lacks a %q block", docPath, k)
		}
	}
	return m
}

// The worked example of docs/partners.md is what Sign computes, and a route
// accepts it.
func TestWorkedExample(t *testing.T) {
	ex := worked(t)
	got := partner.Sign([]byte(ex["secret"]), ex["timestamp"], []byte(ex["body"]))
	if got != ex["signature"] {
		t.Fatalf("Sign(worked example) = %s, the document says %s", got, ex["signature"])
	}
	if !partner.Verify([]byte(ex["secret"]), ex["timestamp"], []byte(ex["body"]), ex["signature"]) {
		t.Error("Verify refuses the worked example")
	}
	if len(ex["secret"]) < partner.MinSecretLen {
		t.Errorf("the example secret is shorter than %d characters", partner.MinSecretLen)
	}

	// The example request, sent at its own time, reaches the handler.
	ts, err := strconv.ParseInt(ex["timestamp"], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	h := handlerFunc(func(context.Context, dialog.Turn) (dialog.Reply, error) { return dialog.Reply{Text: "ok"}, nil })
	cfg := partner.Config{Partners: []partner.Partner{{ID: "demo", Secret: partner.Secret(ex["secret"]), Unicode: true, Rate: 1, Burst: 1}}}
	partner.Register(r, h, cfg, partner.Options{Now: func() time.Time { return time.Unix(ts, 0) }, Logger: discard})
	req := httptest.NewRequest(http.MethodPost, "/partners/demo/ussd", strings.NewReader(ex["body"]))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(partner.TimestampHeader, ex["timestamp"])
	req.Header.Set(partner.SignatureHeader, ex["signature"])
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"message":"ok"`) {
		t.Errorf("worked example refused: %d %s", rec.Code, rec.Body)
	}
}

// The openssl recipe of the document reproduces the signature.
func TestOpenSSLRecipe(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not on PATH; the recipe of docs/partners.md is not checked")
	}
	ex := worked(t)
	out, err := exec.Command("sh", "-c", ex["openssl"]).Output()
	if err != nil {
		t.Fatalf("recipe failed: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != ex["signature"] {
		t.Errorf("openssl recipe prints %q, the document says %q", got, ex["signature"])
	}
}

// The example partners files of the document load, and say the same.
func TestDocumentedPartnersFile(t *testing.T) {
	var loaded []partner.Config
	for _, b := range docBlocks(t, "The partners file") {
		ext := map[string]string{"yaml": ".yaml", "json": ".json"}[b.lang]
		if ext == "" {
			continue
		}
		path := filepath.Join(t.TempDir(), "partners"+ext)
		if err := os.WriteFile(path, []byte(b.text+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := partner.LoadConfig(path)
		if err != nil {
			t.Fatalf("documented %s example: %v", b.lang, err)
		}
		loaded = append(loaded, cfg)
	}
	if len(loaded) != 2 {
		t.Fatalf("found %d example files, want a YAML and a JSON one", len(loaded))
	}
	if !reflect.DeepEqual(loaded[0], loaded[1]) {
		t.Errorf("the YAML and JSON examples differ:\n%+v\n%+v", loaded[0], loaded[1])
	}
}

func TestSignVerify(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	body := []byte(`{"message_id":"m","msisdn":"9876543210","text":"REG"}`)
	good := partner.Sign(secret, "1619605800", body)
	tests := []struct {
		name   string
		secret []byte
		ts     string
		body   []byte
		header string
		want   bool
	}{
		{"valid", secret, "1619605800", body, good, true},
		{"upper-case hex", secret, "1619605800", body, "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256=")), true},
		{"other timestamp", secret, "1619605801", body, good, false},
		{"other body", secret, "1619605800", append(bytes.Clone(body), ' '), good, false},
		{"other secret", []byte("another-secret-of-thirty-two-chars!"), "1619605800", body, good, false},
		{"timestamp moved into the body", secret, "", append([]byte("1619605800."), body...), good, false},
		{"no prefix", secret, "1619605800", body, strings.TrimPrefix(good, "sha256="), false},
		{"truncated", secret, "1619605800", body, good[:len(good)-2], false},
		{"empty header", secret, "1619605800", body, "", false},
		{"empty secret", nil, "1619605800", body, partner.Sign(nil, "1619605800", body), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := partner.Verify(tc.secret, tc.ts, tc.body, tc.header); got != tc.want {
				t.Errorf("Verify = %v, want %v", got, tc.want)
			}
		})
	}
	// The signed string is the timestamp, a full stop and the body.
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("1619605800." + string(body)))
	if want := "sha256=" + hex.EncodeToString(m.Sum(nil)); good != want {
		t.Errorf("Sign = %s, want %s", good, want)
	}
}

// handlerFunc adapts a function to dialog.Handler.
type handlerFunc func(context.Context, dialog.Turn) (dialog.Reply, error)

func (f handlerFunc) Handle(ctx context.Context, t dialog.Turn) (dialog.Reply, error) {
	return f(ctx, t)
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// gateway is the partner routes on the real engine and a real Redis.
type gateway struct {
	t       *testing.T
	router  *gin.Engine
	clock   *dialogtest.Clock
	engine  *dialog.Engine
	outbox  *outbox.Outbox
	pending *sync.WaitGroup
	centre  *providertest.SMSCentre
	secrets map[string]string
}

func newGateway(t *testing.T) *gateway {
	t.Helper()
	ctx := context.Background()
	clk := dialogtest.NewClock(time.Date(2021, 4, 28, 10, 30, 0, 0, time.UTC))
	st, err := store.Open(ctx, store.Config{URL: redistest.Start(t), Secret: []byte("journey-secret-0123456789abcdef-0123456789"), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.ImportCentres(ctx, cowin.Demo(clk.Now())); err != nil {
		t.Fatal(err)
	}
	ob := outbox.New(outbox.Options{Logger: discard})
	out := dispatch.New(ctx, st, ob, dispatch.Options{Logger: discard, Clock: clk})
	t.Cleanup(out.Close)
	eng, err := dialog.NewEngine(dialog.Config{Conversations: st, OTPs: st, Registry: st, Sealer: st, Outbox: out, Clock: clk, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	g := &gateway{t: t, router: gin.New(), clock: clk, engine: eng, outbox: ob, pending: &sync.WaitGroup{},
		secrets: map[string]string{
			"ussd-co":   "ussd-co-secret-0123456789abcdef012345",
			"sms-co":    "sms-co-secret-0123456789abcdef0123456",
			"sms-async": "sms-async-secret-0123456789abcdef0123",
			"gsm-co":    "gsm-co-secret-0123456789abcdef0123456",
			"wb-co":     "wb-co-secret-0123456789abcdef01234567",
		}}
	g.centre = &providertest.SMSCentre{T: t, Secret: g.secrets["sms-async"]}
	srv := httptest.NewServer(g.centre)
	t.Cleanup(srv.Close)
	cfg := partner.Config{Partners: []partner.Partner{
		{ID: "ussd-co", Secret: partner.Secret(g.secrets["ussd-co"]), Unicode: true, Rate: 100, Burst: 100},
		{ID: "sms-co", Secret: partner.Secret(g.secrets["sms-co"]), Unicode: true, Rate: 100, Burst: 100},
		{ID: "sms-async", Secret: partner.Secret(g.secrets["sms-async"]), Unicode: true, Rate: 100, Burst: 100, SMSURL: srv.URL + "/replies"},
		{ID: "gsm-co", Secret: partner.Secret(g.secrets["gsm-co"]), Unicode: false, Rate: 100, Burst: 100},
		{ID: "wb-co", Secret: partner.Secret(g.secrets["wb-co"]), Unicode: true, Languages: []string{"bn", "en", "hi"}, Rate: 100, Burst: 100},
	}}
	partner.Register(g.router, eng, cfg, partner.Options{Now: clk.Now, Pending: g.pending, Logger: discard})
	t.Cleanup(g.pending.Wait)
	return g
}

// sent is one signed request, kept so that it can be delivered again.
type sent struct {
	path, ts, sig, body string
}

// post signs body for the partner at the current time and delivers it.
func (g *gateway) post(id, route, body string) (sent, *httptest.ResponseRecorder) {
	g.clock.Advance(2 * time.Second) // a caller takes a moment per screen
	ts := strconv.FormatInt(g.clock.Now().Unix(), 10)
	s := sent{path: "/partners/" + id + "/" + route, ts: ts, body: body,
		sig: partner.Sign([]byte(g.secrets[id]), ts, []byte(body))}
	return s, g.deliver(s)
}

func (g *gateway) deliver(s sent) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, s.path, strings.NewReader(s.body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(partner.TimestampHeader, s.ts)
	req.Header.Set(partner.SignatureHeader, s.sig)
	rec := httptest.NewRecorder()
	g.router.ServeHTTP(rec, req)
	return rec
}

// otp reads the newest code the outbox holds for msisdn.
func (g *gateway) otp(msisdn string) string {
	g.t.Helper()
	g.engine.Drain()
	msgs := g.outbox.Messages(msisdn)
	for i := len(msgs) - 1; i >= 0; i-- {
		if m := regexp.MustCompile(`code: (\d{6})`).FindStringSubmatch(msgs[i].Text); m != nil {
			return m[1]
		}
	}
	g.t.Fatalf("no OTP in the outbox of %s: %+v", msisdn, msgs)
	return ""
}

// phone is a caller on one channel of one partner.
type phone interface {
	// send delivers the caller's next input ("" dials or starts) and
	// returns the screen they see and whether the session ended.
	send(input string) (screen string, end bool)
	// again delivers the last request once more, as a partner's retry.
	again() (screen string, end bool)
}

type ussdPhone struct {
	g       *gateway
	id      string
	msisdn  string
	session string
	started bool
	last    sent
}

func (p *ussdPhone) send(input string) (string, bool) {
	body, _ := json.Marshal(map[string]any{
		"session_id": p.session, "msisdn": p.msisdn, "service_code": "*123*45#",
		"input": input, "new_session": !p.started,
	})
	p.started = true
	var rec *httptest.ResponseRecorder
	p.last, rec = p.g.post(p.id, "ussd", string(body))
	return p.decode(rec)
}

func (p *ussdPhone) again() (string, bool) { return p.decode(p.g.deliver(p.last)) }

func (p *ussdPhone) decode(rec *httptest.ResponseRecorder) (string, bool) {
	p.g.t.Helper()
	var r struct {
		Message    string `json:"message"`
		EndSession bool   `json:"end_session"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &r) != nil {
		p.g.t.Fatalf("ussd: status %d body %s", rec.Code, rec.Body)
	}
	return r.Message, r.EndSession
}

type smsPhone struct {
	g      *gateway
	id     string
	msisdn string
	async  bool
	n      int
	last   string // body
}

func (p *smsPhone) send(input string) (string, bool) {
	if input == "" {
		input = "REG"
	}
	p.n++
	body, _ := json.Marshal(map[string]string{"message_id": p.id + "-" + strconv.Itoa(p.n), "msisdn": p.msisdn, "text": input})
	p.last = string(body)
	return p.again()
}

// again resends the last SMS, signed afresh: a partner's retry.
func (p *smsPhone) again() (string, bool) {
	p.g.t.Helper()
	before := len(p.g.centre.Received())
	_, rec := p.g.post(p.id, "sms", p.last)
	if p.async {
		if rec.Code != http.StatusAccepted {
			p.g.t.Fatalf("sms: status %d body %s", rec.Code, rec.Body)
		}
		p.g.pending.Wait()
		got := p.g.centre.Received()
		if len(got) != before+1 {
			p.g.t.Fatalf("sms: %d replies arrived, want 1", len(got)-before)
		}
		if r := got[len(got)-1]; r.To != p.msisdn {
			p.g.t.Fatalf("reply to %s, want %s", r.To, p.msisdn)
		}
		return got[len(got)-1].Text, false
	}
	var r struct {
		Reply string `json:"reply"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &r) != nil {
		p.g.t.Fatalf("sms: status %d body %s", rec.Code, rec.Body)
	}
	return r.Reply, false
}

// Full journeys through the signed routes with the real engine and Redis:
// language, number, OTP, add a person, book; over USSD and over SMS (reply
// in the response, and reply posted to the partner's sms_url).
func TestJourneys(t *testing.T) {
	g := newGateway(t)
	journeys := []struct {
		name    string
		phone   phone
		msisdn  string
		aadhaar string // first 11 digits; the check digit is added
		person  string
		sms     bool
	}{
		{name: "USSD", phone: &ussdPhone{g: g, id: "ussd-co", msisdn: "9876543210", session: "ATUid_journey"},
			msisdn: "+919876543210", aadhaar: "23412341234", person: "Asha Devi"},
		{name: "SMS", phone: &smsPhone{g: g, id: "sms-co", msisdn: "+919123456780"},
			msisdn: "+919123456780", aadhaar: "98765432101", person: "Rahim Ali", sms: true},
		{name: "SMS with async replies", phone: &smsPhone{g: g, id: "sms-async", msisdn: "+918123456789", async: true},
			msisdn: "+918123456789", aadhaar: "87654321012", person: "Meena Kumari", sms: true},
	}
	for _, j := range journeys {
		t.Run(j.name, func(t *testing.T) {
			g.t = t
			aadhaar := j.aadhaar + string(dialog.VerhoeffDigit(j.aadhaar))
			steps := []struct {
				input string
				want  []string // substrings of the screen
			}{
				{"", []string{"Language", "1 English"}},
				{"1", []string{"1 Register with", "XXXXXX" + j.msisdn[len(j.msisdn)-4:], "2 Use another number"}},
				{"1", []string{"Enter the 6-digit code"}},
				{"<otp>", []string{"1 Add person"}},
				{"1", []string{"Photo ID", "1 Aadhaar"}},
				{"1", []string{"Enter Aadhaar number"}},
				{aadhaar, []string{"Name as on the ID"}},
				{j.person, []string{"Year of birth"}},
				{"1985", []string{"Gender", "2 Female"}},
				{"2", []string{"Register this person?", j.person, "XXXX XXXX " + aadhaar[8:]}},
				{"1", []string{j.person, "1 Add person", "2 Book"}},
				{"2", []string{"Book for:", "1 " + j.person}},
				{"1", []string{"PIN code"}},
				{"700001", []string{"Centres at 700001", "1 "}},
				{"1", []string{"Choose a date", "1 "}},
				{"1", []string{"time:", "1 "}},
				{"1", []string{"Book this appointment?"}},
				{"1", []string{"Booked!", "code"}},
			}
			var screen string
			var end bool
			for i, st := range steps {
				in := st.input
				if in == "<otp>" {
					in = g.otp(j.msisdn)
				}
				screen, end = j.phone.send(in)
				for _, w := range st.want {
					if !strings.Contains(screen, w) {
						t.Fatalf("step %d (input %q): screen %q lacks %q", i+1, st.input, screen, w)
					}
				}
				if !j.sms && end != (i == len(steps)-1) {
					t.Fatalf("step %d: end_session %v", i+1, end)
				}
			}

			// A retry of the last delivery gets the same reply and books nothing more.
			again, againEnd := j.phone.again()
			if again != screen || againEnd != end {
				t.Errorf("retry got %q (end %v), want %q (end %v)", again, againEnd, screen, end)
			}
			g.engine.Drain()
			slips := 0
			for _, m := range g.outbox.Messages(j.msisdn) {
				if strings.Contains(m.Text, "TikaSetu slip") {
					slips++
				}
			}
			if slips != 1 {
				t.Errorf("%d slips sent, want 1", slips)
			}
		})
	}
}

// A partner whose network cannot show UCS-2 gets GSM-7 screens: English
// and Roman Hindi offered, and Roman Hindi screens after choosing Hindi.
func TestGSM7Network(t *testing.T) {
	g := newGateway(t)
	cat, err := dialog.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	p := &ussdPhone{g: g, id: "gsm-co", msisdn: "9988776655", session: "gsm-1"}
	steps := []struct {
		input string
		want  string
	}{
		{"", "\n1 English\n2 Hindi"},
		{"2", "\n2 " + cat.Text(dialog.RomanHindi, "number.other")},
	}
	for _, st := range steps {
		screen, _ := p.send(st.input)
		if !strings.HasSuffix(screen, st.want) || dialog.NeedsUCS2(screen) {
			t.Fatalf("input %q: screen %q, want GSM-7 text ending %q", st.input, screen, st.want)
		}
	}
}

// A partner's language order numbers the language menu; a caller who chose
// Bengali there is shown Roman Hindi on a network that cannot show Bengali.
func TestLanguageOrder(t *testing.T) {
	g := newGateway(t)
	cat, err := dialog.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	wb := &ussdPhone{g: g, id: "wb-co", msisdn: "9988771122", session: "wb-1"}
	if screen, _ := wb.send(""); !strings.HasSuffix(screen, "\n1 বাংলা\n2 English\n3 हिन्दी") {
		t.Fatalf("language menu %q, want 1 Bengali, 2 English, 3 Hindi", screen)
	}
	if screen, _ := wb.send("1"); !strings.Contains(screen, cat.Text("bn", "number.other")) {
		t.Fatalf("after 1: %q, want the Bengali number screen", screen)
	}
	gsm := &ussdPhone{g: g, id: "gsm-co", msisdn: "9988771122", session: "gsm-2"}
	screen, _ := gsm.send("")
	if !strings.HasSuffix(screen, "\n2 "+cat.Text(dialog.RomanHindi, "number.other")) || dialog.NeedsUCS2(screen) {
		t.Fatalf("the same caller on a GSM-7 network: %q, want the Roman Hindi number screen", screen)
	}
}
