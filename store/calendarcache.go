package store

import (
	"context"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/tikasetu/tikasetu/dialog"
)

// DefaultCalendarTTL is how long CalendarCache keeps a PIN code's centres.
const DefaultCalendarTTL = 5 * time.Second

// SeatsTTL is how long CalendarCache keeps a session's seat counts.
const SeatsTTL = time.Second

// maxSeatEntries bounds the seat counts kept: past it they are all dropped.
const maxSeatEntries = 100_000

// CalendarCache is the registry with centres (the calendar's static part:
// names, fees, session dates and slots) kept in process for a short life,
// so that the booking screens of a surge do not decode the same JSON from
// Redis on every turn, and seat counts for SeatsTTL, so that the turns of
// callers at one PIN code read them from Redis about once a second.
// Accounts and bookings are not cached: every seat is taken by a script in
// Redis, so a stale count can at worst offer a session that has just
// filled, which the booking then reports.
//
// Centres it returns are shared between turns and must not be modified.
// A calendar import through this process drops the cache at once, a
// booking or cancellation through it the seat counts it changed; other
// gateway processes see them within the TTLs.
type CalendarCache struct {
	*Store
	ttl   time.Duration
	now   func() time.Time
	group singleflight.Group

	mu    sync.RWMutex
	pins  map[string]pinEntry
	seats map[string]seatsEntry
}

type seatsEntry struct {
	seats   dialog.Seats
	expires time.Time
}

type pinEntry struct {
	centres []dialog.Centre
	expires time.Time
}

// NewCalendarCache wraps s; ttl ≤ 0 means DefaultCalendarTTL.
func NewCalendarCache(s *Store, ttl time.Duration) *CalendarCache {
	if ttl <= 0 {
		ttl = DefaultCalendarTTL
	}
	return &CalendarCache{Store: s, ttl: ttl, now: time.Now, pins: map[string]pinEntry{}, seats: map[string]seatsEntry{}}
}

// CentresByPin returns the centres at pin, from the cache while fresh. One
// lookup at a time per PIN code goes to Redis however many turns ask.
func (c *CalendarCache) CentresByPin(ctx context.Context, pin string) ([]dialog.Centre, error) {
	now := c.now()
	c.mu.RLock()
	e, ok := c.pins[pin]
	c.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.centres, nil
	}
	v, err, _ := c.group.Do(pin, func() (any, error) {
		cs, err := c.Store.CentresByPin(ctx, pin)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.pins[pin] = pinEntry{centres: cs, expires: c.now().Add(c.ttl)}
		c.mu.Unlock()
		return cs, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]dialog.Centre), nil
}

// Centre returns a centre by id, from a cached PIN code list when it holds
// it, else from Redis.
func (c *CalendarCache) Centre(ctx context.Context, id int64) (dialog.Centre, error) {
	now := c.now()
	c.mu.RLock()
	for _, e := range c.pins {
		if !now.Before(e.expires) {
			continue
		}
		for _, ce := range e.centres {
			if ce.ID == id {
				c.mu.RUnlock()
				return ce, nil
			}
		}
	}
	c.mu.RUnlock()
	v, err, _ := c.group.Do("centre:"+strconv.FormatInt(id, 10), func() (any, error) {
		return c.Store.Centre(ctx, id)
	})
	if err != nil {
		return dialog.Centre{}, err
	}
	return v.(dialog.Centre), nil
}

// ImportCentres imports through the store and drops the cache.
func (c *CalendarCache) ImportCentres(ctx context.Context, centres []dialog.Centre) (ImportResult, error) {
	res, err := c.Store.ImportCentres(ctx, centres)
	c.mu.Lock()
	c.pins = map[string]pinEntry{}
	c.seats = map[string]seatsEntry{}
	c.mu.Unlock()
	return res, err
}

// Seats returns the seat counts of the sessions given, those read within
// SeatsTTL from the cache and the rest from Redis in one round trip.
func (c *CalendarCache) Seats(ctx context.Context, sessionIDs []string) ([]dialog.Seats, error) {
	out := make([]dialog.Seats, len(sessionIDs))
	var missing []string
	var at []int
	now := c.now()
	c.mu.RLock()
	for i, id := range sessionIDs {
		if e, ok := c.seats[id]; ok && now.Before(e.expires) {
			out[i] = e.seats
		} else {
			missing, at = append(missing, id), append(at, i)
		}
	}
	c.mu.RUnlock()
	if len(missing) == 0 {
		return out, nil
	}
	got, err := c.Store.Seats(ctx, missing)
	if err != nil {
		return nil, err
	}
	expires := c.now().Add(SeatsTTL)
	c.mu.Lock()
	if len(c.seats)+len(missing) > maxSeatEntries {
		c.seats = map[string]seatsEntry{}
	}
	for j, id := range missing {
		out[at[j]] = got[j]
		c.seats[id] = seatsEntry{seats: got[j], expires: expires}
	}
	c.mu.Unlock()
	return out, nil
}

// Book books through the store and drops the seat counts of the session,
// taken or found full.
func (c *CalendarCache) Book(ctx context.Context, r dialog.BookRequest) (dialog.Appointment, error) {
	ap, err := c.Store.Book(ctx, r)
	c.mu.Lock()
	delete(c.seats, r.SessionID)
	c.mu.Unlock()
	return ap, err
}

// Cancel cancels through the store and drops every seat count (the
// session freed is not known here; cancellations are rare).
func (c *CalendarCache) Cancel(ctx context.Context, msisdn, beneficiary string, dose int) error {
	err := c.Store.Cancel(ctx, msisdn, beneficiary, dose)
	c.mu.Lock()
	c.seats = map[string]seatsEntry{}
	c.mu.Unlock()
	return err
}
