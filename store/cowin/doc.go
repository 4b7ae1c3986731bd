// Package cowin reads Co-WIN calendar JSON — the {"centers":[…]} responses of
// the Co-WIN public API's calendarByPin and calendarByDistrict — into the
// domain's dialog.Centre and dialog.Session values, for `tikasetu import`, the
// admin import route and the in-process demo store.
//
// Parse is strict about what makes a file unusable (not JSON, no "centers",
// a centre without center_id, name or PIN code, a session without session_id
// or with a bad date, a negative capacity) and lenient about the fields real
// 2021 responses leave out or spell differently (address, vaccine,
// vaccine_fees with fees as strings, max_age_limit, allow_all_age, the
// per-dose capacities, extra fields). ShiftDates moves a calendar saved in the
// past so that it starts tomorrow.
//
// Demo returns the project's demo calendar, compiled in from demo.json. Its
// centres, addresses, session IDs and seat counts are invented demo data in
// the Co-WIN format, not copied from any real Co-WIN response; only the PIN
// codes, states and districts are real places.
//
// The package depends on the standard library and package dialog only; it
// does no network or Redis I/O.
package cowin
