package store

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/alicebob/miniredis/v2"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/redis/go-redis/v9"

	"github.com/tikasetu/tikasetu/dialog"
)

// Config configures a Store. Zero values take the documented defaults.
type Config struct {
	// URL is a go-redis URL: redis://[user:pass@]host:port[/db][?options].
	// A Redis Cluster is given with further seed nodes as addr parameters
	// (redis://h1:p1?addr=h2:p2&addr=h3:p3); Sentinel with master_name
	// (redis://sentinel:26379?master_name=mymaster&addr=…).
	URL string
	// Secret is the key material for OTP hashing, ID-number hashing and
	// sealing. Required by Open; use at least 32 random bytes.
	Secret []byte
	// MaxBeneficiaries per account (default dialog.DefaultMaxBeneficiaries).
	MaxBeneficiaries int
	// Clock for OTP validity, booking times and repair grace (default
	// dialog.SystemClock).
	Clock dialog.Clock

	// OTPValidity is how long a code may be used (default 180 s).
	OTPValidity time.Duration
	// OTPMaxTries is the number of wrong entries that void a code (default 3).
	OTPMaxTries int
	// OTPCooldown is the minimum time between two codes (default 30 s).
	OTPCooldown time.Duration
	// OTPHourlyCap is the most codes per number in OTPWindow (default 5).
	OTPHourlyCap int
	// OTPWindow is the rolling window of the cap (default 1 h).
	OTPWindow time.Duration
	// OTPOthersHourly and OTPOthersDaily are how many numbers other than
	// their own a caller may ask codes for in an hour and in a day
	// (default 3 and 10).
	OTPOthersHourly int
	OTPOthersDaily  int
	// OTPRate is the most codes issued a second over every gateway on
	// this Redis, and OTPProviderRate the most through one provider or
	// partner (0: no limit).
	OTPRate         int
	OTPProviderRate int

	// SMSLease is how long a claim on a queued SMS lasts: a worker that
	// neither sent nor released it by then is taken to have died, and the
	// SMS is claimed again (default 60 s).
	SMSLease time.Duration
	// SlipLifetime is how long a slip or other message is tried before it
	// is given up (default 24 h); a code is tried while it is valid.
	SlipLifetime time.Duration

	// RecentConversations is how many callers' last-written conversations
	// the store keeps in process for Peek (default 50,000; negative: none).
	RecentConversations int
	// RecentFor is how long Peek may serve a kept conversation after its
	// write (default 2 min).
	RecentFor time.Duration

	// Batch sends the scripts and pipelines of concurrent turns to Redis
	// together, while at least batchFrom wait: go-redis's autopipeliner
	// queues what is sent while the batch before it is on the wire, and
	// writes the queue as one pipeline. Redis then reads and answers many
	// turns' commands per system call, and the gateway writes and reads them
	// with one each. A caller waits until its context ends, no longer (see
	// exec). Single commands go on their own.
	Batch bool

	// RepairGrace is how old a seat hold must be before Repair may release
	// it for want of an appointment, so that Repair never races a booking
	// in flight (default 2 min).
	RepairGrace time.Duration
}

// Defaults.
const (
	// MinSecretLen is the least length of Config.Secret, which keys OTP
	// hashes and the sealing of ID numbers.
	MinSecretLen = 32
	// About 1.1 KB of heap each for a caller mid-booking with two people
	// (some 57 MB when full).
	DefaultRecentConversations = 50_000
	DefaultRecentFor           = 2 * time.Minute
	DefaultOTPValidity         = dialog.OTPValidity
	DefaultOTPMaxTries         = dialog.OTPMaxTries
	DefaultOTPCooldown         = dialog.OTPCooldown
	DefaultOTPHourlyCap        = dialog.OTPHourlyCap
	DefaultOTPWindow           = dialog.OTPWindow
	DefaultOTPOthersHourly     = dialog.OTPOthersHourly
	DefaultOTPOthersDaily      = dialog.OTPOthersDaily
	DefaultSMSLease            = time.Minute
	DefaultSlipLifetime        = 24 * time.Hour
	DefaultRepairGrace         = 2 * time.Minute
	// DefaultConversationTTL applies when Save is given a ttl ≤ 0.
	DefaultConversationTTL = 30 * time.Minute
)

func (c *Config) setDefaults() {
	if c.RecentConversations == 0 {
		c.RecentConversations = DefaultRecentConversations
	}
	if c.Clock == nil {
		c.Clock = dialog.SystemClock
	}
	orDefault(&c.RecentFor, DefaultRecentFor)
	orDefault(&c.MaxBeneficiaries, dialog.DefaultMaxBeneficiaries)
	orDefault(&c.OTPValidity, DefaultOTPValidity)
	orDefault(&c.OTPMaxTries, DefaultOTPMaxTries)
	orDefault(&c.OTPCooldown, DefaultOTPCooldown)
	orDefault(&c.OTPHourlyCap, DefaultOTPHourlyCap)
	orDefault(&c.OTPWindow, DefaultOTPWindow)
	orDefault(&c.RepairGrace, DefaultRepairGrace)
	orDefault(&c.OTPOthersHourly, DefaultOTPOthersHourly)
	orDefault(&c.OTPOthersDaily, DefaultOTPOthersDaily)
	orDefault(&c.SMSLease, DefaultSMSLease)
	orDefault(&c.SlipLifetime, DefaultSlipLifetime)
}

// orDefault sets *v to def when it is zero or negative.
func orDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Store is the Redis implementation of the dialog ports. It is safe for
// concurrent use.
type Store struct {
	rdb redis.UniversalClient
	ap  *redis.AutoPipeliner // scripts and pipelines go through it with Config.Batch; else nil
	// waiting counts the pipelines and scripts waiting for Redis (see alone).
	waiting atomic.Int64
	cfg     Config
	sealer  *Sealer
	keys    derivedKeys
	recent  *lru.Cache[string, recentConv] // nil when cfg.RecentConversations < 0
}

// Compile-time checks that Store implements the ports.
var (
	_ dialog.Conversations = (*Store)(nil)
	_ dialog.OTPs          = (*Store)(nil)
	_ dialog.Registry      = (*Store)(nil)
	_ dialog.Sealer        = (*Store)(nil)
)

// NewClient builds the go-redis client for a URL: a cluster client when the
// URL lists further addr parameters, a Sentinel failover client when it names
// master_name, a single-node client otherwise. Every command honours its
// context's deadline (without ContextTimeoutEnabled go-redis waits out its
// own read timeout, 5 s, on a Redis that hangs, past any turn's deadline).
func NewClient(rawURL string) (redis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("store: parse redis URL: %w", err)
	}
	q := u.Query()
	switch {
	case q.Has("master_name"):
		o, err := redis.ParseFailoverURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("store: parse sentinel URL: %w", err)
		}
		o.Dialer = uncheckedDialer(&redis.Options{DialTimeout: o.DialTimeout, TLSConfig: o.TLSConfig})
		o.ContextTimeoutEnabled = true
		o.Protocol = protocol(q, o.Protocol)
		return redis.NewFailoverClient(o), nil
	case q.Has("addr"):
		o, err := redis.ParseClusterURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("store: parse cluster URL: %w", err)
		}
		o.Addrs = dedup(o.Addrs)
		o.Dialer = uncheckedDialer(&redis.Options{DialTimeout: o.DialTimeout, TLSConfig: o.TLSConfig})
		o.ContextTimeoutEnabled = true
		o.Protocol = protocol(q, o.Protocol)
		return redis.NewClusterClient(o), nil
	default:
		o, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("store: parse redis URL: %w", err)
		}
		o.Dialer = uncheckedDialer(o)
		o.ContextTimeoutEnabled = true
		o.Protocol = protocol(q, o.Protocol)
		return redis.NewClient(o), nil
	}
}

// protocol is the RESP version the client speaks: 2 unless the URL asks
// for another (protocol=3). The store uses nothing of RESP3, and with it
// go-redis looks for push notifications before every reply it reads; that
// look, with the stack it grew on each new goroutine of the autopipeliner,
// took 2.5% of the gateway's CPU in a profile under load.
func protocol(q url.Values, parsed int) int {
	if q.Has("protocol") {
		return parsed
	}
	return 2
}

// uncheckedConn shows go-redis only net.Conn, not the file descriptor.
// go-redis peeks at every pooled connection with a recvfrom system call
// before each command to find one the server closed; in a profile of the
// gateway under load, connection checkout fell from 10.5% to 3.0% of its
// CPU without the peek. It skips the peek for a connection it
// cannot see into, as it does for every TLS connection. A connection the
// server closed is then found by the command that uses it, which reads EOF
// and is retried on a new connection (go-redis retries EOF, MaxRetries
// times).
type uncheckedConn struct{ net.Conn }

// uncheckedDialer dials as go-redis would for o (timeout, keep-alive, TLS)
// and wraps the connection in uncheckedConn.
func uncheckedDialer(o *redis.Options) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if o.DialTimeout == 0 {
		o.DialTimeout = 5 * time.Second
	}
	dial := redis.NewDialer(o)
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return uncheckedConn{c}, nil
	}
}

func dedup(ss []string) []string {
	out := ss[:0]
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Open connects to Redis at cfg.URL and checks that it answers.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if len(cfg.Secret) == 0 {
		return nil, errors.New("store: Config.Secret is empty")
	}
	if cfg.URL == "" {
		return nil, errors.New("store: Config.URL is empty")
	}
	cfg.setDefaults()
	rdb, err := NewClient(cfg.URL)
	if err != nil {
		return nil, err
	}
	s, err := newStore(rdb, cfg)
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	if err := s.Ping(ctx); err != nil {
		_ = rdb.Close()
		return nil, err
	}
	return s, nil
}

// autoPipeliner returns the deferred face of rdb's autopipeliner (see
// Config.Batch), or nil for a client that has none.
func autoPipeliner(rdb redis.UniversalClient) (*redis.AutoPipeliner, error) {
	var (
		ap  *redis.AutoPipeliner
		err error
	)
	// The autopipeliner takes each batch's queue from a pool of slices of
	// 100 and allocates one when the batch may grow larger (its default is
	// 200). A hundred is a soft limit, far above what 32 turns at once send.
	o := redis.DefaultAutoPipelineOptions()
	o.MaxBatchSize = 100
	switch c := rdb.(type) {
	case *redis.Client:
		ap, err = c.AsyncAutoPipelineWithOptions(o)
	case *redis.ClusterClient:
		ap, err = c.AsyncAutoPipelineWithOptions(o)
	default:
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: batching: %w", err)
	}
	return ap, nil
}

func newStore(rdb redis.UniversalClient, cfg Config) (*Store, error) {
	sealer, err := NewSealer(cfg.Secret)
	if err != nil {
		return nil, err
	}
	s := &Store{rdb: rdb, cfg: cfg, sealer: sealer, keys: deriveKeys(cfg.Secret)}
	if cfg.Batch {
		if s.ap, err = autoPipeliner(rdb); err != nil {
			return nil, err
		}
	}
	if cfg.RecentConversations > 0 {
		if s.recent, err = lru.New[string, recentConv](cfg.RecentConversations); err != nil {
			return nil, fmt.Errorf("store: recent conversations: %w", err)
		}
	}
	return s, nil
}

// OpenEmbedded starts an in-process miniredis and opens a Store on it, for
// demos and tests: nothing is kept after the returned stop function (which
// closes the store and the server) runs. cfg.URL is ignored. When cfg.Secret
// is empty a random one is used.
func OpenEmbedded(ctx context.Context, cfg Config) (*Store, func(), error) {
	m, err := miniredis.Run()
	if err != nil {
		return nil, nil, fmt.Errorf("store: start embedded redis: %w", err)
	}
	if len(cfg.Secret) == 0 {
		cfg.Secret = make([]byte, 32)
		if _, err := rand.Read(cfg.Secret); err != nil {
			m.Close()
			return nil, nil, fmt.Errorf("store: random secret: %w", err)
		}
	}
	cfg.URL = "redis://" + m.Addr()
	s, err := Open(ctx, cfg)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	return s, func() { _ = s.Close(); m.Close() }, nil
}

// Close closes the Redis client.
func (s *Store) Close() error { return s.rdb.Close() }

// Ping reports whether Redis answers (readiness). For a cluster it pings
// every master.
func (s *Store) Ping(ctx context.Context) error {
	var err error
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			return c.Ping(ctx).Err()
		})
	} else {
		err = s.rdb.Ping(ctx).Err()
	}
	if err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

func (s *Store) now() time.Time { return s.cfg.Clock.Now() }

// ---- keys ----------------------------------------------------------------

// Every key has exactly one {hash tag}; the tag is the first {...} in the
// key, so the part after it (a reply hash, nothing else) does not matter.

func convKey(m string) string     { return "ts:conv:{" + m + "}" }
func langKey(m string) string     { return "ts:lang:{" + m + "}" }
func otpKey(m string) string      { return "ts:otp:{" + m + "}" }
func otpLogKey(m string) string   { return "ts:otplog:{" + m + "}" }
func otpOtherKey(m string) string { return "ts:otpother:{" + m + "}" }
func verifiedKey(m string) string { return "ts:verified:{" + m + "}" }
func smsBoxKey(m string) string   { return "ts:smsbox:{" + m + "}" }
func benKey(m string) string      { return "ts:ben:{" + m + "}" }
func apptKey(m string) string     { return "ts:appt:{" + m + "}" }
func apptGenKey(m string) string  { return "ts:apptgen:{" + m + "}" }
func seatsKey(sid string) string  { return "ts:seats:{" + sid + "}" }
func holdKey(sid string) string   { return "ts:hold:{" + sid + "}" }
func pinKey(pin string) string    { return "ts:pin:{" + pin + "}" }
func idKey(hash string) string    { return "ts:id:{" + hash + "}" }
func refKey(ref string) string    { return "ts:ref:{" + ref + "}" }
func centreKey(id int64) string   { return fmt.Sprintf("ts:centre:{%d}", id) }
func apptField(ref string, dose int) string {
	return fmt.Sprintf("%s:%d", ref, dose)
}

const (
	statCentres       = "ts:{stats}:centres"       // set of centre ids
	statSessions      = "ts:{stats}:sessions"      // set of session ids
	statBeneficiaries = "ts:{stats}:beneficiaries" // counter
	statAppointments  = "ts:{stats}:appointments"  // counter
)

// tagSafe reports whether s can be a hash tag: non-empty, no braces, no
// control characters, bounded length.
func tagSafe(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '{' || c == '}' || c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

func checkMsisdn(m string) error {
	if !tagSafe(m) || !strings.HasPrefix(m, "+") {
		return fmt.Errorf("store: invalid msisdn %q: want E.164", mask(m))
	}
	return nil
}

// mask hides all but the last 3 characters of a number for error messages
// (logs must never hold a full mobile number).
func mask(m string) string {
	if len(m) <= 3 {
		return strings.Repeat("*", len(m))
	}
	return strings.Repeat("*", len(m)-3) + m[len(m)-3:]
}

// ---- scripts -------------------------------------------------------------

//go:embed lua/*.lua
var luaFS embed.FS

func mustScript(name string) *redis.Script {
	src, err := luaFS.ReadFile("lua/" + name + ".lua")
	if err != nil {
		panic("store: missing embedded script " + name)
	}
	sc := redis.NewScript(string(src))
	scriptHashes[sc] = sc.Hash()
	return sc
}

// scriptHashes holds each script's SHA1 as an argument of EVALSHA, made
// once (filled while the package initialises, read-only afterwards).
var scriptHashes = map[*redis.Script]any{}

var (
	scriptConvSave       = mustScript("conv_save")
	scriptOTPIssue       = mustScript("otp_issue")
	scriptOTPVerify      = mustScript("otp_verify")
	scriptOTPUndelivered = mustScript("otp_undelivered")
	scriptOTPOthers      = mustScript("otp_others")
	scriptOTPRate        = mustScript("otp_rate")
	scriptSMSClaim       = mustScript("sms_claim")
	scriptBenAdd         = mustScript("ben_add")
	scriptDelIfEquals    = mustScript("del_if_equals")
	scriptSetIfEquals    = mustScript("set_if_equals")
	scriptSeatImport     = mustScript("seat_import")
	scriptSeatTake       = mustScript("seat_take")
	scriptSeatRelease    = mustScript("seat_release")
	scriptApptPut        = mustScript("appt_put")
	scriptApptTake       = mustScript("appt_take")
	scriptApptFence      = mustScript("appt_fence")
)

// wrap adds context to a Redis error, leaving nil alone.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// exec sends the commands queued on p, a pipeline (not a transaction), and
// returns them with the first one's error, as p.Exec does; or, when ctx
// ended before Redis answered, no commands and errAbandoned (see send).
func (s *Store) exec(ctx context.Context, p redis.Pipeliner) ([]redis.Cmder, error) {
	queued, ok := p.(*redis.Pipeline)
	if !ok || s.alone() {
		s.waiting.Add(1)
		defer s.waiting.Add(-1)
		return p.Exec(ctx)
	}
	cmds := queued.Cmds()
	queued.Discard()
	if err := s.batch(ctx, cmds); err != nil {
		if errors.Is(err, errAbandoned) {
			return nil, err // its commands must not be read
		}
		return cmds, err
	}
	return cmds, nil
}

// send sends cmds, built without a pipeline (redis.NewCmd and the like), as
// one pipeline, and returns the first one's error. With Config.Batch, while
// others wait for Redis too (batchFrom), they go through the autopipeliner,
// in one pipeline with other turns' commands. It sends them under a context
// of its own, so send waits for them only until ctx is done: it then
// returns errAbandoned (the commands may still run later, and nothing reads
// them).
func (s *Store) send(ctx context.Context, cmds ...redis.Cmder) error {
	if !s.alone() {
		return s.batch(ctx, cmds)
	}
	s.waiting.Add(1)
	defer s.waiting.Add(-1)
	if len(cmds) == 1 {
		return s.rdb.Process(ctx, cmds[0])
	}
	p := s.rdb.Pipeline()
	for _, c := range cmds {
		_ = p.Process(ctx, c)
	}
	_, err := p.Exec(ctx)
	return err
}

// batch sends cmds through the autopipeliner (see send).
func (s *Store) batch(ctx context.Context, cmds []redis.Cmder) error {
	s.waiting.Add(1)
	defer s.waiting.Add(-1)
	var one [1]redis.AutoFuture
	sent := one[:0]
	if len(cmds) > 1 {
		sent = make([]redis.AutoFuture, 0, len(cmds))
	}
	for _, c := range cmds {
		sent = append(sent, s.ap.Submit(ctx, c))
	}
	for _, f := range sent {
		// Each command keeps its own error. Once ctx is done a command's
		// batch may still be writing to it: it must not be read.
		if _ = f.WaitContext(ctx); ctx.Err() != nil {
			return fmt.Errorf("%w: %w", errAbandoned, context.Cause(ctx))
		}
	}
	for _, c := range cmds {
		if err := c.Err(); err != nil {
			return err
		}
	}
	return nil
}

// batchFrom is how many pipelines and scripts must be waiting for Redis,
// this one included, for it to go through the autopipeliner. Fewer have
// little to share a batch with: one turn at a time, batched, cost the journey
// benchmark three quarters more CPU.
const batchFrom = 4

// alone reports whether a pipeline or script sent now goes on its own, on a
// connection of its own: without Config.Batch, or while fewer than batchFrom
// would wait. Alone, the autopipeliner would only hand it to a goroutine of
// its own and back. The count is advice: a race moves one call either way.
func (s *Store) alone() bool { return s.ap == nil || s.waiting.Load()+1 < batchFrom }

// errAbandoned is exec's error when its context ended before Redis answered.
var errAbandoned = errors.New("store: no answer from Redis in time")

// run runs one script: alone, without a pipeline around it; else through
// the autopipeliner as runScripts does.
func (s *Store) run(ctx context.Context, sc *redis.Script, keys []string, args ...any) *redis.Cmd {
	if s.alone() {
		s.waiting.Add(1)
		defer s.waiting.Add(-1)
		return sc.Run(ctx, s.rdb, keys, args...)
	}
	cmds, err := s.runScripts(ctx, []scriptCall{{script: sc, keys: keys, args: args}})
	if len(cmds) == 0 {
		c := redis.NewCmd(ctx)
		c.SetErr(err)
		return c
	}
	return cmds[0]
}

// evalSha builds the EVALSHA command of sc, as Script.EvalSha would queue
// it on a pipeline, without one. The keys go in as pointers into keys,
// which the client reads as strings, rather than each boxed anew; keys
// must not change until the command has been answered.
func evalSha(ctx context.Context, sc *redis.Script, keys []string, args []any) *redis.Cmd {
	a := make([]any, 0, 3+len(keys)+len(args))
	h, ok := scriptHashes[sc]
	if !ok {
		h = sc.Hash()
	}
	a = append(a, "evalsha", h, len(keys))
	for i := range keys {
		a = append(a, &keys[i])
	}
	c := redis.NewCmd(ctx, append(a, args...)...)
	if len(keys) > 0 {
		c.SetFirstKeyPos(3)
	}
	return c
}

// execPipe runs a pipeline (exec), treating redis.Nil (a missing key) as no
// error; callers inspect each command.
func (s *Store) execPipe(ctx context.Context, p redis.Pipeliner) error {
	cmds, err := s.exec(ctx, p)
	if err == nil {
		return nil
	}
	for _, c := range cmds {
		if e := c.Err(); e != nil && !errors.Is(e, redis.Nil) {
			return e
		}
	}
	if len(cmds) == 0 {
		return err
	}
	return nil
}

// oneRedis reports whether the store runs on one Redis rather than a
// cluster: then a script may also write keys of other slots (the SMS queue,
// the counters) and save a round trip.
func (s *Store) oneRedis() bool {
	_, cluster := s.rdb.(*redis.ClusterClient)
	return !cluster
}

// withCounter adds counter to a script's keys when the script can count
// it itself (one Redis), and reports whether it did; if not, the caller
// counts it once the script has run.
func (s *Store) withCounter(keys []string, counter string) ([]string, bool) {
	if !s.oneRedis() {
		return keys, false
	}
	return append(keys, counter), true
}

// scriptCall is one script invocation for runScripts.
type scriptCall struct {
	script *redis.Script
	keys   []string
	args   []any
}

// runScripts runs scripts in one pipeline (a cluster client splits it by
// slot) with EVALSHA, and re-sends with EVAL only those that the server did
// not know (NOSCRIPT: they did not run). Script.Run cannot fall back inside a
// pipeline, since the error arrives only at Exec. It returns the first error
// other than redis.Nil; each command carries its own result.
func (s *Store) runScripts(ctx context.Context, calls []scriptCall) ([]*redis.Cmd, error) {
	cmds := make([]*redis.Cmd, len(calls))
	if len(calls) == 0 {
		return cmds, nil
	}
	sent := make([]redis.Cmder, len(calls))
	for i, c := range calls {
		cmds[i] = evalSha(ctx, c.script, c.keys, c.args)
		sent[i] = cmds[i]
	}
	if err := s.send(ctx, sent...); errors.Is(err, errAbandoned) {
		return nil, err
	}
	var retry []scriptCall
	var at []int
	for i, c := range cmds {
		if isNoScript(c.Err()) {
			retry, at = append(retry, calls[i]), append(at, i)
		}
	}
	if len(retry) > 0 {
		again, err := s.evalAll(ctx, retry)
		if len(again) == 0 {
			return nil, err
		}
		for j, i := range at {
			cmds[i] = again[j]
		}
	}
	for _, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return cmds, err
		}
	}
	return cmds, nil
}

// evalAll sends calls with EVAL in one pipeline; it returns no commands
// when ctx ended first.
func (s *Store) evalAll(ctx context.Context, calls []scriptCall) ([]*redis.Cmd, error) {
	p := s.rdb.Pipeline()
	cmds := make([]*redis.Cmd, len(calls))
	for i, c := range calls {
		cmds[i] = c.script.Eval(ctx, p, c.keys, c.args...)
	}
	if _, err := s.exec(ctx, p); errors.Is(err, errAbandoned) {
		return nil, err
	}
	return cmds, nil
}

func isNoScript(err error) bool {
	return err != nil && (errors.Is(err, redis.ErrNoScript) || redis.HasErrorPrefix(err, "NOSCRIPT"))
}
