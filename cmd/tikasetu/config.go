package main

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/africastalking"
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
	// MaxJourneys fixes the number of journeys in progress admission
	// control lets in (0: adapted to the load).
	MaxJourneys int
	Recent      int
	// Batch sends the Redis scripts and pipelines of concurrent turns together.
	Batch bool
	// SMSRate is the SMS a second this gateway hands its sender;
	// OTPRate and OTPProviderRate the codes a second over the fleet and
	// per provider.
	SMSRate         int
	OTPRate         int
	OTPProviderRate int
	Partners        string
	PprofAddr       string

	// The smpp sender: the SMS centre, the bind's credentials, the DLT
	// header, binds, submits a second per bind, long messages in
	// message_payload instead of parts.
	SMPPAddr       string
	SMPPSystemID   string
	SMPPPassword   string
	SMPPSystemType string
	SMPPSource     string
	SMPPBinds      int
	SMPPRate       int
	SMPPPayload    bool
	// DLTFile holds the DLT registration of every SMS (India).
	DLTFile string
	// VerifiedTTL is how long a number that passed a code skips it.
	VerifiedTTL time.Duration

	// USSDCode is the short code the SMS that call a caller back name.
	USSDCode string
	// Queue gives new callers turned away by admission control a place
	// in the fleet's queue; InviteTTL is how long an invitation holds.
	Queue     bool
	InviteTTL time.Duration
	// HandoffAfter is how long after a USSD screen without an answer the
	// caller gets the hand-off SMS (0: never).
	HandoffAfter time.Duration

	// Who may call the Africa's Talking route (see atAccess): networks,
	// proxies whose X-Forwarded-For is believed, and "user:password".
	ATAllow        string
	TrustedProxies string
	ATBasicAuth    string
}

// envOr returns the environment variable or a default.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil {
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
	fs.StringVar(&c.SMSSender, "sms-sender", envOr("TIKASETU_SMS_SENDER", ""), "outbound SMS: outbox | http | twilio | smpp (TIKASETU_SMS_SENDER)")
	fs.StringVar(&c.SMPPAddr, "smpp-addr", envOr("TIKASETU_SMPP_ADDR", ""), "the smpp sender's SMS centre, host:port (TIKASETU_SMPP_ADDR)")
	fs.StringVar(&c.SMPPSystemID, "smpp-system-id", envOr("TIKASETU_SMPP_SYSTEM_ID", ""), "the smpp sender's system_id (TIKASETU_SMPP_SYSTEM_ID)")
	fs.StringVar(&c.SMPPPassword, "smpp-password", envOr("TIKASETU_SMPP_PASSWORD", ""), "the smpp sender's password (TIKASETU_SMPP_PASSWORD)")
	fs.StringVar(&c.SMPPSystemType, "smpp-system-type", envOr("TIKASETU_SMPP_SYSTEM_TYPE", ""), "the smpp sender's system_type, if the SMS centre wants one (TIKASETU_SMPP_SYSTEM_TYPE)")
	fs.StringVar(&c.SMPPSource, "smpp-source", envOr("TIKASETU_SMPP_SOURCE", ""), "the sender id of every SMS: in India the 6-character DLT header, such as TKSETU (TIKASETU_SMPP_SOURCE)")
	fs.IntVar(&c.SMPPBinds, "smpp-binds", envInt("TIKASETU_SMPP_BINDS", 1), "transceiver binds to the SMS centre (TIKASETU_SMPP_BINDS)")
	fs.IntVar(&c.SMPPRate, "smpp-rate", envInt("TIKASETU_SMPP_RATE", 100), "submits a second per bind (TIKASETU_SMPP_RATE)")
	fs.BoolVar(&c.SMPPPayload, "smpp-payload", envOr("TIKASETU_SMPP_PAYLOAD", "") == "1", "send a long SMS as one submit_sm with message_payload instead of concatenated parts (TIKASETU_SMPP_PAYLOAD=1)")
	fs.StringVar(&c.DLTFile, "dlt-file", envOr("TIKASETU_DLT_FILE", ""), "DLT entity and template ids of every SMS (YAML; tikasetu dlt templates prints one to fill in; see docs/sms-india.md) (TIKASETU_DLT_FILE)")
	fs.StringVar(&c.SMSHTTPURL, "sms-http-url", envOr("TIKASETU_SMS_HTTP_URL", ""), "URL of the http SMS sender (TIKASETU_SMS_HTTP_URL)")
	fs.StringVar(&c.SMSHTTPKey, "sms-http-secret", envOr("TIKASETU_SMS_HTTP_SECRET", ""), "HMAC secret of the http SMS sender (TIKASETU_SMS_HTTP_SECRET)")
	fs.StringVar(&c.TwilioSID, "twilio-account-sid", envOr("TWILIO_ACCOUNT_SID", ""), "Twilio account SID (TWILIO_ACCOUNT_SID)")
	fs.StringVar(&c.TwilioToken, "twilio-auth-token", envOr("TWILIO_AUTH_TOKEN", ""), "Twilio auth token (TWILIO_AUTH_TOKEN)")
	fs.StringVar(&c.TwilioFrom, "twilio-from", envOr("TWILIO_FROM", ""), "Twilio sender number (TWILIO_FROM)")
	fs.StringVar(&c.TwilioMSID, "twilio-messaging-service-sid", envOr("TWILIO_MESSAGING_SERVICE_SID", ""), "Twilio Messaging Service SID, instead of -twilio-from (TWILIO_MESSAGING_SERVICE_SID)")
	fs.StringVar(&c.LogFormat, "log-format", envOr("TIKASETU_LOG_FORMAT", ""), "text | json; default json with REDIS_URL, text without (TIKASETU_LOG_FORMAT)")
	fs.DurationVar(&c.VerifiedTTL, "verified-ttl", envDuration("TIKASETU_VERIFIED_TTL", 24*time.Hour), "how long a number that passed a code may skip it when it calls again through a route that vouches for it; 0 asks every time (TIKASETU_VERIFIED_TTL)")
	fs.IntVar(&c.MaxPeople, "max-people", envInt("TIKASETU_MAX_PEOPLE", dialog.DefaultMaxBeneficiaries), "people per mobile number (TIKASETU_MAX_PEOPLE)")
	fs.IntVar(&c.USSDLimit, "ussd-screen", envInt("TIKASETU_USSD_SCREEN", 182), "USSD screen size in GSM-7 characters (TIKASETU_USSD_SCREEN)")
	fs.StringVar(&c.Partners, "partners-file", envOr("TIKASETU_PARTNERS_FILE", ""), "telecom partners: ids, secrets, limits (YAML or JSON; see docs/partners.md) (TIKASETU_PARTNERS_FILE)")
	fs.StringVar(&c.PprofAddr, "pprof-addr", envOr("TIKASETU_PPROF_ADDR", ""), "serve Go's /debug/pprof on this separate address (keep it on loopback); empty: off (TIKASETU_PPROF_ADDR)")
	fs.IntVar(&c.MaxInflight, "max-inflight", envInt("TIKASETU_MAX_INFLIGHT", defaultMaxInflight), "turns in flight at most: past it new callers get the busy screen and callers mid-journey wait for a turn to finish, up to half their deadline; 0 turns admission control off (TIKASETU_MAX_INFLIGHT)")
	fs.IntVar(&c.MaxJourneys, "max-journeys", envInt("TIKASETU_MAX_JOURNEYS", 0), "journeys in progress at most, a fixed ceiling past which new callers get the busy screen; 0 adapts it to the load (TIKASETU_MAX_JOURNEYS)")
	fs.IntVar(&c.TargetInflight, "target-inflight", envInt("TIKASETU_TARGET_INFLIGHT", defaultTargetInflight), "average turns in flight that admission control steers to: new callers are let in while the machine keeps below it (at most -max-inflight) (TIKASETU_TARGET_INFLIGHT)")
	fs.IntVar(&c.Recent, "recent-conversations", envInt("TIKASETU_RECENT_CONVERSATIONS", store.DefaultRecentConversations), "conversations this process keeps after writing them, so that the caller's next turn needs no read (about 1.1 KB each); 0 turns it off (TIKASETU_RECENT_CONVERSATIONS)")
	fs.BoolVar(&c.Batch, "redis-batch", envOr("TIKASETU_REDIS_BATCH", "1") != "0", "while at least 4 wait for Redis, send the scripts and pipelines of concurrent turns together, a pipeline at a time, so that Redis and the gateway make one system call for many; 0 sends each on its own (TIKASETU_REDIS_BATCH)")
	fs.IntVar(&c.SMSRate, "sms-rate", envInt("TIKASETU_SMS_RATE", defaultSMSRate), "SMS a second this gateway hands its sender at most; more wait in the queue in Redis (TIKASETU_SMS_RATE)")
	fs.IntVar(&c.OTPRate, "otp-rate", envInt("TIKASETU_OTP_RATE", 0), "codes a second at most over every gateway on this Redis; past it callers are asked to try again in a minute; default: -sms-rate (TIKASETU_OTP_RATE)")
	fs.IntVar(&c.OTPProviderRate, "otp-provider-rate", envInt("TIKASETU_OTP_PROVIDER_RATE", 0), "codes a second at most through one provider or partner; 0: only -otp-rate (TIKASETU_OTP_PROVIDER_RATE)")
	fs.StringVar(&c.ATAllow, "at-allow", envOr("TIKASETU_AT_ALLOW", ""), "networks allowed to call POST /ussd/africastalking: comma-separated CIDRs or addresses; with REDIS_URL the route is mounted only with this or -at-basic-auth (TIKASETU_AT_ALLOW)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", envOr("TIKASETU_TRUSTED_PROXIES", ""), "proxies whose X-Forwarded-For is believed when checking -at-allow: comma-separated CIDRs or addresses (TIKASETU_TRUSTED_PROXIES)")
	fs.StringVar(&c.ATBasicAuth, "at-basic-auth", envOr("TIKASETU_AT_BASIC_AUTH", ""), "user:password that requests to POST /ussd/africastalking must carry (put them in the callback URL as https://user:password@host/ussd/africastalking) (TIKASETU_AT_BASIC_AUTH)")
	fs.StringVar(&c.USSDCode, "ussd-code", envOr("TIKASETU_USSD_CODE", defaultUSSDCode), "the USSD short code that invitations, seat alerts and hand-off SMS tell callers to dial (TIKASETU_USSD_CODE)")
	fs.BoolVar(&c.Queue, "queue", envOr("TIKASETU_QUEUE", "1") != "0", "give new callers turned away by admission control a place in the fleet's queue and invite them by SMS in order; 0 gives them the busy screen only (TIKASETU_QUEUE)")
	fs.DurationVar(&c.InviteTTL, "invite-ttl", envDuration("TIKASETU_INVITE_TTL", defaultInviteTTL), "how long a queue invitation admits its caller ahead of new callers (TIKASETU_INVITE_TTL)")
	fs.DurationVar(&c.HandoffAfter, "handoff-after", envDuration("TIKASETU_HANDOFF_AFTER", time.Minute), "a USSD screen left unanswered this long gets the caller one SMS to go on later or by SMS (at most one an hour); 0: never (TIKASETU_HANDOFF_AFTER)")
	fs.IntVar(&c.USSDUCS2, "ussd-screen-ucs2", envInt("TIKASETU_USSD_SCREEN_UCS2", 80), "USSD screen size for UCS-2 text (TIKASETU_USSD_SCREEN_UCS2)")
}

// defaultMaxInflight bounds turns in flight. By Little's law it is the
// gateway's capacity in turns per second times the latency one accepts
// (docs/performance.md gives the capacity of a small machine).
const defaultMaxInflight = 256

// defaultTargetInflight is the average of turns in flight admission
// control steers to: enough turns in flight to keep the machine busy (past
// it, more callers at once no longer raise throughput), so that new callers
// are not turned away below capacity, and few enough that a turn waits
// little in the queue (docs/performance.md).
const defaultTargetInflight = 64

// defaultUSSDCode is the short code SMS name when none is configured.
const defaultUSSDCode = "*123*45#"

// defaultInviteTTL is how long a queue invitation holds: time to read the
// SMS, find a moment and dial.
const defaultInviteTTL = 15 * time.Minute

// defaultSMSRate is what one bind to an SMS centre commonly takes.
const defaultSMSRate = 100

// atRestrictions is who may call the Africa's Talking route, as configured.
type atRestrictions struct {
	allow, trusted []netip.Prefix
	basicAuth      string
}

// atAccess reads TIKASETU_AT_ALLOW, TIKASETU_TRUSTED_PROXIES and
// TIKASETU_AT_BASIC_AUTH.
func (c *config) atAccess() (atRestrictions, error) {
	var (
		a   atRestrictions
		err error
	)
	if a.allow, err = africastalking.ParseNetworks(c.ATAllow); err != nil {
		return a, fmt.Errorf("%w: TIKASETU_AT_ALLOW: %w", errConfig, err)
	}
	if a.trusted, err = africastalking.ParseNetworks(c.TrustedProxies); err != nil {
		return a, fmt.Errorf("%w: TIKASETU_TRUSTED_PROXIES: %w", errConfig, err)
	}
	if c.ATBasicAuth != "" {
		if err := africastalking.CheckBasicAuth(c.ATBasicAuth); err != nil {
			return a, fmt.Errorf("%w: TIKASETU_AT_BASIC_AUTH %w", errConfig, err)
		}
		a.basicAuth = c.ATBasicAuth
	}
	return a, nil
}

// errConfig marks a configuration error: exit status 2.
var errConfig = errors.New("configuration")

// check refuses a configuration that would be unsafe or cannot work.
func (c *config) check() error {
	production := c.RedisURL != ""
	if production && len(c.Secret) < store.MinSecretLen {
		return fmt.Errorf("%w: TIKASETU_SECRET (at least 32 characters) is required with REDIS_URL: it keys OTP hashes and ID-number protection", errConfig)
	}
	if c.Secret != "" && len(c.Secret) < store.MinSecretLen {
		return fmt.Errorf("%w: TIKASETU_SECRET must be at least 32 characters", errConfig)
	}
	switch c.SMSSender {
	case "":
		if production {
			return fmt.Errorf("%w: TIKASETU_SMS_SENDER (http, twilio or smpp) is required with REDIS_URL, or codes would never leave this process", errConfig)
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
	case "smpp":
		if c.SMPPAddr == "" || c.SMPPSystemID == "" || c.SMPPPassword == "" || c.SMPPSource == "" {
			return fmt.Errorf("%w: the smpp SMS sender needs TIKASETU_SMPP_ADDR, TIKASETU_SMPP_SYSTEM_ID, TIKASETU_SMPP_PASSWORD and TIKASETU_SMPP_SOURCE", errConfig)
		}
		if c.SMPPBinds < 1 || c.SMPPRate < 1 {
			return fmt.Errorf("%w: TIKASETU_SMPP_BINDS and TIKASETU_SMPP_RATE must be at least 1", errConfig)
		}
	default:
		return fmt.Errorf("%w: TIKASETU_SMS_SENDER must be outbox, http, twilio or smpp, not %q", errConfig, c.SMSSender)
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
	if c.MaxJourneys < 0 {
		return fmt.Errorf("%w: TIKASETU_MAX_JOURNEYS must be 0 (adaptive) or more", errConfig)
	}
	if c.MaxJourneys > 0 && c.MaxInflight == 0 {
		return fmt.Errorf("%w: TIKASETU_MAX_JOURNEYS needs admission control (TIKASETU_MAX_INFLIGHT above 0)", errConfig)
	}
	if c.Recent < 0 {
		return fmt.Errorf("%w: TIKASETU_RECENT_CONVERSATIONS must be 0 (off) or more", errConfig)
	}
	if c.SMSRate == 0 {
		c.SMSRate = defaultSMSRate
	}
	if c.SMSRate < 0 {
		return fmt.Errorf("%w: TIKASETU_SMS_RATE must be at least 1", errConfig)
	}
	if c.OTPRate < 0 || c.OTPProviderRate < 0 {
		return fmt.Errorf("%w: TIKASETU_OTP_RATE and TIKASETU_OTP_PROVIDER_RATE must be 0 (default) or more", errConfig)
	}
	if c.OTPRate == 0 {
		c.OTPRate = c.SMSRate
	}
	if _, err := c.atAccess(); err != nil {
		return err
	}
	if c.VerifiedTTL < 0 {
		return fmt.Errorf("%w: TIKASETU_VERIFIED_TTL must be 0 (a code every time) or more", errConfig)
	}
	if c.InviteTTL == 0 {
		c.InviteTTL = defaultInviteTTL
	}
	if c.USSDCode == "" {
		c.USSDCode = defaultUSSDCode
	}
	if c.InviteTTL < time.Minute {
		return fmt.Errorf("%w: TIKASETU_INVITE_TTL must be at least 1m: the caller needs time to read the SMS and dial", errConfig)
	}
	if c.HandoffAfter < 0 {
		return fmt.Errorf("%w: TIKASETU_HANDOFF_AFTER must be 0 (never) or more", errConfig)
	}
	if c.MaxPeople < 1 {
		return fmt.Errorf("%w: TIKASETU_MAX_PEOPLE must be at least 1", errConfig)
	}
	return nil
}
