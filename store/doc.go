// Package store keeps TikaSetu's state in Redis: callers' conversations with
// their reply cache and remembered language, one-time passwords, and the
// registry (centres and vaccination sessions imported from Co-WIN calendars,
// accounts, beneficiaries, seats and appointments). It implements
// dialog.Conversations, dialog.OTPs, dialog.Registry and dialog.Sealer.
//
// One code path serves a single Redis, Sentinel and Redis Cluster: the client
// is a redis.UniversalClient, and every key carries a Cluster hash tag so that
// on a cluster each Lua script (store/lua, embedded) touches exactly one slot
// (on one Redis, the save, registration and booking scripts also write the
// SMS queue and the counters, saving a round trip each; see oneRedis):
//
//	per caller      ts:conv:{+91…} (with its cached replies)  ts:lang:{+91…}
//	                ts:smsbox:{+91…}
//	                ts:otp:{+91…}   ts:otplog:{+91…}
//	                ts:ben:{+91…}   ts:appt:{+91…}  ts:apptgen:{+91…}
//	per session     ts:seats:{<sid>}  ts:hold:{<sid>}
//	per centre/PIN  ts:centre:{<cid>}  ts:pin:{<pincode>}
//	uniqueness      ts:id:{<hmac hex>}  ts:ref:{<beneficiary ref>}
//	counters/sets   ts:{stats}:centres  ts:{stats}:sessions
//	                ts:{stats}:beneficiaries  ts:{stats}:appointments
//
// Operations that must change two slots (booking writes a seat under the
// session and an appointment under the account) run as ordered steps, each
// one script on one slot, so that a crash between steps leaves a state that a
// retry or Repair completes and never a seat sold twice; see Book and Repair.
//
// Secrets: OTP codes are kept only as HMAC-SHA256 under a key derived from
// Config.Secret; ID numbers only as a keyed hash (uniqueness) and AES-256-GCM
// ciphertext; reply-cache keys are hashed too, since they may be derived from
// what the caller typed.
package store
