package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tikasetu/tikasetu/providers/twilio"
)

// sim is a terminal phone: it dials the gateway's USSD route in the Africa's
// Talking dialect, shows each screen, sends what is typed, and prints the SMS
// that the number receives (from the outbox in embedded mode). It reads
// stdin line by line, so it can also be scripted.
func sim(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", envOr("TIKASETU_URL", "http://localhost:8080"), "gateway base URL (TIKASETU_URL)")
	msisdn := fs.String("msisdn", "9876543210", "this phone's mobile number")
	code := fs.String("service-code", "*123*45#", "USSD short code dialled")
	sms := fs.Bool("sms", false, "talk over SMS (the Twilio webhook) instead of USSD")
	token := fs.String("twilio-token", envOr("TWILIO_AUTH_TOKEN", ""), "Twilio auth token the gateway verifies SMS webhooks with (TWILIO_AUTH_TOKEN)")
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	p := &phone{base: strings.TrimRight(*base, "/"), msisdn: *msisdn, code: *code,
		client: &http.Client{Timeout: 5 * time.Second}, out: stdout}
	in := bufio.NewScanner(stdin)
	if *sms {
		if *token == "" {
			fmt.Fprintln(stderr, "sim: --sms needs --twilio-token (the serve banner prints it in embedded mode)")
			return exitConfig
		}
		return p.texting(ctx, in, *token, stderr)
	}
	fmt.Fprintf(stdout, "Dialling %s from %s. Type the number of your choice and Enter; Ctrl-D hangs up.\n", p.code, p.msisdn)
	for {
		if err := p.session(ctx, in); err != nil {
			fmt.Fprintln(stderr, "sim:", err)
			return exitFail
		}
		fmt.Fprint(stdout, "\n[session ended: Enter dials again, Ctrl-D quits] ")
		if !in.Scan() {
			fmt.Fprintln(stdout)
			return exitOK
		}
	}
}

type phone struct {
	base, msisdn, code string
	client             *http.Client
	out                io.Writer
	lastSMS            string // ref of the last SMS shown
}

// session runs one USSD session until the gateway ends it or input ends.
func (p *phone) session(ctx context.Context, in *bufio.Scanner) error {
	id := make([]byte, 8)
	rand.Read(id)
	sid := "sim-" + hex.EncodeToString(id)
	var inputs []string
	for {
		screen, end, err := p.dial(ctx, sid, strings.Join(inputs, "*"))
		if err != nil {
			return err
		}
		fmt.Fprintf(p.out, "\n+--------------------------------\n%s\n+--------------------------------\n", indent(screen))
		p.showSMS(ctx)
		if end {
			return nil
		}
		fmt.Fprint(p.out, "> ")
		if !in.Scan() {
			return nil
		}
		inputs = append(inputs, strings.TrimSpace(in.Text()))
	}
}

func indent(s string) string { return "| " + strings.ReplaceAll(s, "\n", "\n| ") }

// dial sends one USSD request and splits the CON/END answer.
func (p *phone) dial(ctx context.Context, sid, text string) (string, bool, error) {
	form := url.Values{"sessionId": {sid}, "serviceCode": {p.code}, "phoneNumber": {p.msisdn},
		"networkCode": {"99999"}, "text": {text}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+"/ussd/africastalking", strings.NewReader(form.Encode()))
	if err != nil {
		return "", false, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.client.Do(req)
	if err != nil {
		return "", false, fmt.Errorf("gateway not reachable at %s (is `tikasetu serve` running?): %w", p.base, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return "", false, fmt.Errorf("gateway answered %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	s := string(body)
	switch {
	case strings.HasPrefix(s, "CON "):
		return s[4:], false, nil
	case strings.HasPrefix(s, "END "):
		return s[4:], true, nil
	}
	return "", false, fmt.Errorf("not a USSD answer: %q", s)
}

// showSMS prints SMS that arrived since the last look. A gateway without an
// outbox (production) has nothing to show; that is not an error.
func (p *phone) showSMS(ctx context.Context) {
	// Sending runs after the reply; give it a moment.
	for range 3 {
		if p.fetchSMS(ctx) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *phone) fetchSMS(ctx context.Context) bool {
	u := p.base + "/dev/outbox/" + url.PathEscape(p.msisdn)
	if p.lastSMS != "" {
		u += "?after=" + url.QueryEscape(p.lastSMS)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return true
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return true
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return true
	}
	var box struct {
		Messages []struct {
			Text string `json:"text"`
			Ref  string `json:"ref"`
		} `json:"messages"`
	}
	if json.NewDecoder(resp.Body).Decode(&box) != nil || len(box.Messages) == 0 {
		return false
	}
	for _, m := range box.Messages {
		fmt.Fprintf(p.out, "  [SMS] %s\n", m.Text)
		p.lastSMS = m.Ref
	}
	return true
}

// texting is the SMS conversation: every line typed is one SMS to the
// gateway's Twilio webhook, signed as Twilio signs it; the TwiML reply is
// the next screen.
func (p *phone) texting(ctx context.Context, in *bufio.Scanner, token string, stderr io.Writer) int {
	fmt.Fprintf(p.out, "Texting TikaSetu from %s. Send REG to start; Ctrl-D quits.\n> ", p.msisdn)
	for n := 1; in.Scan(); n++ {
		body := strings.TrimSpace(in.Text())
		form := url.Values{"MessageSid": {fmt.Sprintf("SMsim%028d", time.Now().UnixNano()+int64(n))},
			"AccountSid": {"ACsim"}, "From": {p.msisdn}, "To": {"+15005550006"}, "Body": {body}, "NumMedia": {"0"}}
		target := p.base + twilio.Path
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
		if err != nil {
			fmt.Fprintln(stderr, "sim:", err)
			return exitFail
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(twilio.SignatureHeader, twilio.Sign(token, target, form))
		resp, err := p.client.Do(req)
		if err != nil {
			fmt.Fprintf(stderr, "sim: gateway not reachable at %s (is `tikasetu serve` running?): %v\n", p.base, err)
			return exitFail
		}
		var twiml struct {
			Messages []string `xml:"Message"`
		}
		err = xml.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&twiml)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil {
			fmt.Fprintf(stderr, "sim: gateway answered %s\n", resp.Status)
			return exitFail
		}
		for _, m := range twiml.Messages {
			fmt.Fprintf(p.out, "\n+--------------------------------\n%s\n+--------------------------------\n", indent(m))
		}
		p.showSMS(ctx)
		fmt.Fprint(p.out, "> ")
	}
	fmt.Fprintln(p.out)
	return exitOK
}
