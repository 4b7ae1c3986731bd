// Package dialog is the TikaSetu conversation: the states and screens a caller
// walks through (language, number, OTP, household, booking), input parsing and
// validation, message catalogues and fitting text to a phone's screen.
//
// It holds the domain types (centres, vaccination sessions, beneficiaries,
// appointments) and defines the interfaces it needs from the outside world
// (conversation store, OTP store, registry, SMS sender, clock). Package store
// implements them on Redis, package providers speaks each channel's dialect,
// and cmd/tikasetu wires them together. Nothing here does network I/O itself.
package dialog
