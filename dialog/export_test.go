package dialog

import "context"

// ScreenMenu renders the caller's current screen as the unpaged Menu and the
// budget of the turn's channel, changing nothing, so that tests can check
// that the pages a caller gets hold every line of it.
func (e *Engine) ScreenMenu(ctx context.Context, t Turn) (Menu, Budget, error) {
	msisdn, err := NormaliseMsisdn(t.Msisdn)
	if err != nil {
		return Menu{}, Budget{}, err
	}
	ld, err := e.cfg.Conversations.Load(ctx, msisdn, "")
	if err != nil || ld.Conversation == nil {
		return Menu{}, Budget{}, err
	}
	tr := &turn{e: e, ctx: ctx, in: t, msisdn: msisdn, now: e.cfg.Clock.Now(), c: ld.Conversation, reg: e.cfg.Registry, otps: e.cfg.OTPs}
	st, ok := states[tr.c.State]
	if !ok {
		return Menu{}, tr.budget(), nil
	}
	m, err := tr.menu(st)
	return m, tr.budget(), err
}
