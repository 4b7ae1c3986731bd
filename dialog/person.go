package dialog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// --- home ------------------------------------------------------------------

// Home's options keep their numbers whatever is offered: an option that
// cannot be used now (Add person with the household full, Cancel with
// nothing booked) is left out rather than renumbering the rest.
const (
	homeAdd      = "1"
	homeBook     = "2"
	homeMine     = "3"
	homeCancel   = "4"
	homeLanguage = "5"
	homeOther    = "6"
)

// homeScreen is the menu, under the notice when there is one (the result
// of the last step is the title), else under the household at a glance
// where it fits on the page, else under a count.
func homeScreen(tr *turn) (Menu, error) {
	a, err := tr.loadAccount()
	if err != nil {
		return Menu{}, err
	}
	people, max := len(a.Beneficiaries), tr.e.cfg.MaxBeneficiaries
	var items []string
	option := func(n, key string) { items = append(items, n+" "+tr.text(key)) }
	if people < max {
		option(homeAdd, "home.add")
	}
	if people > 0 {
		option(homeBook, "home.book")
		option(homeMine, "home.mine")
	}
	if len(a.Appointments) > 0 {
		option(homeCancel, "home.cancel")
	}
	option(homeLanguage, "home.language")
	lean := Menu{Items: items, Tail: []string{"0 " + tr.text("home.exit")}}
	option(homeOther, "home.other") // offered where it fits, taken always
	if tr.alerting() {
		option(homeAlert, "home.alert") // likewise (alert.go)
	}
	menu := lean
	menu.Items = items
	if tr.c.Notice != "" {
		return tr.fitting(menu, lean), nil
	}
	if people == 0 {
		menu.Head = []string{tr.text("home.empty", "max", strconv.Itoa(max))}
		lean.Head = menu.Head
		return tr.fitting(menu, lean), nil
	}
	glance := menu
	for _, b := range a.Beneficiaries {
		if ap, ok := a.AppointmentFor(b.Ref, bookDose); ok {
			glance.Body = append(glance.Body, tr.text("home.booked", "name", firstName(b.Name), "date", tr.date(ap)))
		} else {
			glance.Body = append(glance.Body, tr.text("home.unbooked", "name", firstName(b.Name)))
		}
	}
	count := menu
	count.Head = []string{tr.text("home.count", "count", strconv.Itoa(people), "max", strconv.Itoa(max))}
	return tr.fitting(glance, count, menu, lean), nil
}

func homeInput(tr *turn) (string, error) {
	a, err := tr.loadAccount()
	if err != nil {
		return "", err
	}
	switch tr.input {
	case homeAdd:
		if len(a.Beneficiaries) >= tr.e.cfg.MaxBeneficiaries {
			tr.notice("home.full", "max", strconv.Itoa(tr.e.cfg.MaxBeneficiaries))
			return "", nil
		}
		tr.c.Draft = Draft{}
		return evAdd, nil
	case homeBook, homeMine:
		if len(a.Beneficiaries) == 0 {
			tr.notice("home.nobody")
			return "", nil
		}
		if tr.input == homeMine {
			return evMine, nil
		}
		tr.c.Booking = Booking{}
		return evBook, nil
	case homeCancel:
		if len(a.Appointments) == 0 {
			tr.notice("mine.none")
			return "", nil
		}
		return evCancel, nil
	case homeLanguage:
		return evLanguage, nil
	case homeOther:
		return evOtherNum, nil
	case homeAlert:
		return tr.homeAlertInput()
	case "0":
		tr.notice("home.bye")
		return evEnd, nil
	}
	if tr.alerting() {
		tr.notice("hint.choose", "max", homeAlert)
		return "", nil
	}
	tr.notice("hint.choose", "max", homeOther)
	return "", nil
}

// --- add person ------------------------------------------------------------

func idTypeLabel(tr *turn, t IDType) string { return tr.text("id." + string(t)) }

func idTypeScreen(tr *turn) (Menu, error) {
	labels := make([]string, len(IDTypes))
	for i, t := range IDTypes {
		labels[i] = idTypeLabel(tr, t)
	}
	return Menu{Head: []string{tr.text("id.title")}, Items: options(labels...), Tail: []string{tr.back()}}, nil
}

func idTypeInput(tr *turn) (string, error) {
	i, ok := pick(tr.input, len(IDTypes))
	if !ok {
		tr.notice("hint.choose", "max", strconv.Itoa(len(IDTypes)))
		return "", nil
	}
	if tr.c.Draft.IDType != IDTypes[i] {
		tr.c.Draft.IDSealed = ""
	}
	tr.c.Draft.IDType = IDTypes[i]
	return evIDType, nil
}

func idNumberScreen(tr *turn) (Menu, error) {
	t := tr.c.Draft.IDType
	return Menu{
		Head: []string{tr.text("idnum.title", "type", idTypeLabel(tr, t)), tr.text("idnum.format." + string(t))},
		Tail: []string{tr.back()},
	}, nil
}

func idNumberInput(tr *turn) (string, error) {
	t := tr.c.Draft.IDType
	n, err := NormaliseID(t, tr.input)
	if err != nil {
		tr.notice("idnum.bad", "type", idTypeLabel(tr, t))
		return "", nil
	}
	sealed, err := tr.e.cfg.Sealer.Seal(n)
	if err != nil {
		return "", fmt.Errorf("dialog: seal ID number: %w", err)
	}
	tr.c.Draft.IDSealed = sealed
	if d := tr.c.Draft; d.Name != "" && d.BirthYear != 0 && d.Gender != "" {
		return evIDReplaced, nil // the rest was entered before: straight to the summary
	}
	return evIDNumber, nil
}

func nameScreen(tr *turn) (Menu, error) {
	return Menu{Head: []string{tr.text("name.title")}, Tail: []string{tr.back()}}, nil
}

func nameInput(tr *turn) (string, error) {
	n, err := NormaliseName(tr.input)
	if err != nil {
		tr.notice("name.bad")
		return "", nil
	}
	tr.c.Draft.Name = n
	return evName, nil
}

func yearScreen(tr *turn) (Menu, error) {
	return Menu{Head: []string{tr.text("year.title")}, Tail: []string{tr.back()}}, nil
}

func yearInput(tr *turn) (string, error) {
	this := tr.today().Year()
	y, err := ParseBirthYear(tr.input, this)
	if err != nil {
		tr.notice("year.bad", "from", strconv.Itoa(this-120), "to", strconv.Itoa(this-18))
		return "", nil
	}
	tr.c.Draft.BirthYear = y
	return evYear, nil
}

var genders = []Gender{Male, Female, Other}

func genderLabel(tr *turn, g Gender) string { return tr.text("gender." + string(g)) }

func genderScreen(tr *turn) (Menu, error) {
	labels := make([]string, len(genders))
	for i, g := range genders {
		labels[i] = genderLabel(tr, g)
	}
	return Menu{Head: []string{tr.text("gender.title")}, Items: options(labels...), Tail: []string{tr.back()}}, nil
}

func genderInput(tr *turn) (string, error) {
	i, ok := pick(tr.input, len(genders))
	if !ok {
		tr.notice("hint.choose", "max", "3")
		return "", nil
	}
	tr.c.Draft.Gender = genders[i]
	return evGender, nil
}

func confirmPersonScreen(tr *turn) (Menu, error) {
	d := tr.c.Draft
	n, err := tr.e.cfg.Sealer.Open(d.IDSealed)
	if err != nil {
		return Menu{}, fmt.Errorf("dialog: open ID number: %w", err)
	}
	return Menu{
		Head: []string{tr.text("person.confirm")},
		Body: []string{tr.text("person.line", "name", d.Name, "year", strconv.Itoa(d.BirthYear), "gender", genderLabel(tr, d.Gender)),
			idTypeLabel(tr, d.IDType) + " " + MaskID(d.IDType, n)},
		Items:   options(tr.text("person.yes"), tr.text("person.redo")),
		Tail:    []string{tr.back()},
		Confirm: true,
	}, nil
}

func confirmPersonInput(tr *turn) (string, error) {
	switch tr.input {
	case "2":
		tr.c.Draft = Draft{}
		return evRedo, nil
	case "1":
	default:
		tr.notice("hint.choose", "max", "2")
		return "", nil
	}
	d := tr.c.Draft
	n, err := tr.e.cfg.Sealer.Open(d.IDSealed)
	if err != nil {
		return "", fmt.Errorf("dialog: open ID number: %w", err)
	}
	b, err := tr.reg.AddBeneficiary(tr.ctx, tr.c.Account, NewBeneficiary{
		Name: d.Name, BirthYear: d.BirthYear, Gender: d.Gender, IDType: d.IDType, IDNumber: n,
	})
	switch {
	case errors.Is(err, ErrDuplicateID):
		tr.notice("person.duplicate", "type", idTypeLabel(tr, d.IDType))
		tr.c.Draft.IDSealed = ""
		return evIDAgain, nil // only the number is asked again; the other answers stay
	case errors.Is(err, ErrTooManyBeneficiaries):
		tr.c.Draft = Draft{}
		tr.notice("home.full", "max", strconv.Itoa(tr.e.cfg.MaxBeneficiaries))
		return evHome, nil
	case err != nil:
		return "", fmt.Errorf("dialog: add person for %s: %w", MaskMsisdn(tr.c.Account), err)
	}
	tr.c.Draft = Draft{}
	tr.forgetAccount()
	a, err := tr.loadAccount() // Home shows it next
	if err != nil {
		return "", err
	}
	// A long name gives way, not the count after it.
	tr.notice("person.added", "name", Shorten(b.Name, noticeName), "count", strconv.Itoa(len(a.Beneficiaries)), "max", strconv.Itoa(tr.e.cfg.MaxBeneficiaries))
	tr.e.cfg.Observer.Count("registered")
	return evRegistered, nil
}

// noticeName is the most of a name a notice shows.
const noticeName = 24

// firstName is the part of a name shown in lists.
func firstName(name string) string {
	if i := strings.IndexByte(name, ' '); i > 0 {
		return name[:i]
	}
	return name
}
