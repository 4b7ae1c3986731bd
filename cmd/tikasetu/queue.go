package main

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tikasetu/tikasetu/cmd/tikasetu/admission"
	"github.com/tikasetu/tikasetu/dialog"
)

// inviteEvery is how often a gateway takes its turn at the surge queue:
// short beside the invitation's lifetime and the caller's patience, long
// beside a Redis call.
const inviteEvery = 500 * time.Millisecond

// gatewayID names this process in the queue, which counts each gateway's
// invitations apart: the host name and a random suffix.
func gatewayID() string {
	host, _ := os.Hostname()
	return host + "-" + randomToken()[:8]
}

// queueOn tells whether new callers turned away are given a place in the
// queue: admission control on and TIKASETU_QUEUE not 0.
func (g *gateway) queueOn() bool { return g.gate != nil && g.cfg.Queue }

// inviteLoop runs invite rounds until ctx ends.
func (g *gateway) inviteLoop(ctx context.Context, every time.Duration) {
	ticks(ctx, every, func() { g.inviteRound(ctx) })
}

// inviteRound is this gateway's turn at the queue: it invites as many
// callers as it has room for journeys (store.QueueInvite also expires
// unused invitations and tells which of this gateway's were used or
// expired), and sends each one the invitation SMS in their language.
func (g *gateway) inviteRound(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	r, err := g.store.QueueInvite(ctx, g.id, g.gate.Room(), g.cfg.InviteTTL)
	if err != nil && len(r.Invited) == 0 {
		if ctx.Err() == nil {
			g.log.Warn("queue invite", "err", err)
		}
		return
	}
	waited := make([]time.Duration, len(r.Invited))
	for i, inv := range r.Invited {
		waited[i] = inv.Waited
	}
	g.gate.Invited(admission.Round{Sent: len(r.Invited), Settled: r.Settled, Expired: r.Expired,
		Waiting: r.Waiting, Outstanding: r.Outstanding, Total: r.Total, Waited: waited})
	minutes := strconv.Itoa(int(g.cfg.InviteTTL.Minutes()))
	for _, inv := range r.Invited {
		sms := g.engine.Message(inv.Msisdn, inv.Lang, dialog.SMSKindInvite, "minutes", minutes, "code", g.cfg.USSDCode)
		if err := g.store.EnqueueSMS(ctx, inv.Msisdn, sms); err != nil {
			// The invitation stands until it expires; the caller who
			// dials meanwhile is let in.
			g.log.Warn("queue invitation sms", "to", dialog.MaskMsisdn(inv.Msisdn), "err", err)
			continue
		}
		g.dispatch.Deliver(inv.Msisdn, []dialog.SMS{sms})
	}
}

// queueState answers GET /admin/v1/queue: the fleet's queue as Redis holds
// it, and this gateway's admission control.
func (g *gateway) queueState(c *gin.Context) {
	st, err := g.store.QueueStats(c.Request.Context())
	if err != nil {
		g.log.Error("queue stats", "err", err)
		c.JSON(http.StatusServiceUnavailable, gin.H{"error": "store not answering"})
		return
	}
	out := gin.H{"enabled": g.queueOn(), "queue": st}
	if g.gate != nil {
		out["gateway"] = g.gate.QueueView()
	}
	c.JSON(http.StatusOK, out)
}
