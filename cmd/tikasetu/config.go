package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/tikasetu/tikasetu/store"
)

// config is the gateway's configuration, read from the environment and
// overridden by flags of the same meaning.
type config struct {
	Addr        string
	RedisURL    string
	AdminToken  string
	Secret      string
	PublicURL   string
	SMSSender   string
	SMSHTTPURL  string
	SMSHTTPKey  string
	TwilioSID   string
	TwilioToken string
	TwilioFrom  string
	TwilioMSID  string
	LogFormat   string
	MaxPeople   int
	USSDLimit   int
	USSDUCS2    int
	MaxInflight int
	// TargetInflight is the average of turns in flight that admission
	// control steers the number of journeys to.
	TargetInflight int
	Recent         int
	Partners       string
	PprofAddr      string
}

// envOr returns the environment variable or a default.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// bindConfig declares the flags of cfg on fs, defaulting to the environment.
func bindConfig(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.Addr, "addr", envOr("TIKASETU_ADDR", ":8080"), "listen address (TIKASETU_ADDR)")
	fs.StringVar(&c.RedisURL, "redis-url", envOr("REDIS_URL", ""), "Redis URL; empty runs the embedded store (REDIS_URL)")
	fs.StringVar(&c.AdminToken, "admin-token", envOr("TIKASETU_ADMIN_TOKEN", ""), "bearer token for /admin/v1; empty turns admin routes off (TIKASETU_ADMIN_TOKEN)")
	fs.StringVar(&c.Secret, "secret", envOr("TIKASETU_SECRET", ""), "key material for OTP hashing and ID protection, at least 32 characters (TIKASETU_SECRET)")
	fs.StringVar(&c.PublicURL, "public-url", envOr("TIKASETU_PUBLIC_URL", ""), "external base URL that Twilio signs (TIKASETU_PUBLIC_URL)")
	fs.StringVar(&c.SMSSender, "sms-sender", envOr("TIKASETU_SMS_SENDER", ""), "outbound SMS: outbox | http | twilio (TIKASETU_SMS_SENDER)")
	fs.StringVar(&c.SMSHTTPURL, "sms-http-url", envOr("TIKASETU_SMS_HTTP_URL", ""), "URL of the http SMS sender (TIKASETU_SMS_HTTP_URL)")
	fs.StringVar(&c.SMSHTTPKey, "sms-http-secret", envOr("TIKASETU_SMS_HTTP_SECRET", ""), "HMAC secret of the http SMS sender (TIKASETU_SMS_HTTP_SECRET)")
	fs.StringVar(&c.TwilioSID, "twilio-account-sid", envOr("TWILIO_ACCOUNT_SID", ""), "Twilio account SID (TWILIO_ACCOUNT_SID)")
	fs.StringVar(&c.TwilioToken, "twilio-auth-token", envOr("TWILIO_AUTH_TOKEN", ""), "Twilio auth token (TWILIO_AUTH_TOKEN)")
	fs.StringVar(&c.TwilioFrom, "twilio-from", envOr("TWILIO_FROM", ""), "Twilio sender number (TWILIO_FROM)")
	fs.StringVar(&c.TwilioMSID, "twilio-messaging-service-sid", envOr("TWILIO_MESSAGING_SERVICE_SID", ""), "Twilio Messaging Service SID, instead of -twilio-from (TWILIO_MESSAGING_SERVICE_SID)")
	fs.StringVar(&c.LogFormat, "log-format", envOr("TIKASETU_LOG_FORMAT", ""), "text | json; default json with REDIS_URL, text without (TIKASETU_LOG_FORMAT)")
	fs.IntVar(&c.MaxPeople, "max-people", envInt("TIKASETU_MAX_PEOPLE", 4), "people per mobile number (TIKASETU_MAX_PEOPLE)")
	fs.IntVar(&c.USSDLimit, "ussd-screen", envInt("TIKASETU_USSD_SCREEN", 182), "USSD screen size in GSM-7 characters (TIKASETU_USSD_SCREEN)")
	fs.StringVar(&c.Partners, "partners-file", envOr("TIKASETU_PARTNERS_FILE", ""), "telecom partners: ids, secrets, limits (YAML or JSON; see docs/partners.md) (TIKASETU_PARTNERS_FILE)")
	fs.StringVar(&c.PprofAddr, "pprof-addr", envOr("TIKASETU_PPROF_ADDR", ""), "serve Go's /debug/pprof on this separate address (keep it on loopback); empty: off (TIKASETU_PPROF_ADDR)")
	fs.IntVar(&c.MaxInflight, "max-inflight", envInt("TIKASETU_MAX_INFLIGHT", defaultMaxInflight), "turns in flight at most: past it new callers get the busy screen and callers mid-journey wait for a turn to finish, up to half their deadline; 0 turns admission control off (TIKASETU_MAX_INFLIGHT)")
	fs.IntVar(&c.TargetInflight, "target-inflight", envInt("TIKASETU_TARGET_INFLIGHT", defaultTargetInflight), "average turns in flight that admission control steers to: new callers are let in while the machine keeps below it (at most -max-inflight) (TIKASETU_TARGET_INFLIGHT)")
	fs.IntVar(&c.Recent, "recent-conversations", envInt("TIKASETU_RECENT_CONVERSATIONS", store.DefaultRecentConversations), "conversations this process keeps after writing them, so that the caller's next turn needs no read (about 1.1 KB each); 0 turns it off (TIKASETU_RECENT_CONVERSATIONS)")
	fs.IntVar(&c.USSDUCS2, "ussd-screen-ucs2", envInt("TIKASETU_USSD_SCREEN_UCS2", 80), "USSD screen size for UCS-2 text (TIKASETU_USSD_SCREEN_UCS2)")
}

// defaultMaxInflight bounds turns in flight. By Little's law it is the
// gateway's capacity in turns per second times the latency one accepts:
// docs/performance.md measures both on a 2-core machine.
const defaultMaxInflight = 256

// defaultTargetInflight is the average of turns in flight admission
// control steers to. On a 2-core gateway with its Redis (docs/performance.md)
// closed-loop throughput was flat from 32 to 128 callers (and from 8 to 64
// in an earlier sitting), but a target of 32 turned away a few new callers
// at 80% of capacity (63 of 3,906). 64 served as much under surge, at a p99
// of about 80 ms instead of 40.
const defaultTargetInflight = 64

// errConfig marks a configuration error: exit status 2.
var errConfig = errors.New("configuration")

// check refuses a configuration that would be unsafe or cannot work.
func (c *config) check() error {
	production := c.RedisURL != ""
	if production && len(c.Secret) < 32 {
		return fmt.Errorf("%w: TIKASETU_SECRET (at least 32 characters) is required with REDIS_URL: it keys OTP hashes and ID-number protection", errConfig)
	}
	if c.Secret != "" && len(c.Secret) < 32 {
		return fmt.Errorf("%w: TIKASETU_SECRET must be at least 32 characters", errConfig)
	}
	switch c.SMSSender {
	case "":
		if production {
			return fmt.Errorf("%w: TIKASETU_SMS_SENDER (http or twilio) is required with REDIS_URL, or codes would never leave this process", errConfig)
		}
		c.SMSSender = "outbox"
	case "outbox":
	case "http":
		if c.SMSHTTPURL == "" || c.SMSHTTPKey == "" {
			return fmt.Errorf("%w: the http SMS sender needs TIKASETU_SMS_HTTP_URL and TIKASETU_SMS_HTTP_SECRET", errConfig)
		}
	case "twilio":
		if c.TwilioSID == "" || c.TwilioToken == "" || (c.TwilioFrom == "" && c.TwilioMSID == "") {
			return fmt.Errorf("%w: the twilio SMS sender needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID", errConfig)
		}
	default:
		return fmt.Errorf("%w: TIKASETU_SMS_SENDER must be outbox, http or twilio, not %q", errConfig, c.SMSSender)
	}
	if c.TwilioToken != "" && c.PublicURL == "" && production {
		return fmt.Errorf("%w: the Twilio route needs TIKASETU_PUBLIC_URL: Twilio signs the public URL of each request", errConfig)
	}
	if production && c.TwilioToken == "" && (c.TwilioSID != "" || c.TwilioFrom != "" || c.TwilioMSID != "") {
		return fmt.Errorf("%w: TWILIO_AUTH_TOKEN is required for the Twilio route: without it no request could be verified", errConfig)
	}
	if c.MaxInflight < 0 {
		return fmt.Errorf("%w: TIKASETU_MAX_INFLIGHT must be 0 (off) or more", errConfig)
	}
	if c.MaxInflight > 0 && c.TargetInflight < 1 {
		return fmt.Errorf("%w: TIKASETU_TARGET_INFLIGHT must be 1 or more (above TIKASETU_MAX_INFLIGHT it is TIKASETU_MAX_INFLIGHT)", errConfig)
	}
	if c.Recent < 0 {
		return fmt.Errorf("%w: TIKASETU_RECENT_CONVERSATIONS must be 0 (off) or more", errConfig)
	}
	if c.MaxPeople < 1 {
		return fmt.Errorf("%w: TIKASETU_MAX_PEOPLE must be at least 1", errConfig)
	}
	return nil
}
