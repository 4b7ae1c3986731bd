package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/dlt"
)

// dltCmd is "tikasetu dlt templates": the DLT file to register and fill
// in, one template for every kind of SMS in every language, with the
// entity id and template ids empty.
func dltCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dlt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: tikasetu dlt templates

Prints, as the YAML that TIKASETU_DLT_FILE reads, the template of every SMS
the gateway sends or replies with, in every language, with {#var#} for each
variable part: register each text exactly as printed on your operator's DLT
portal, then fill in entity_id and each id (docs/sms-india.md).`)
	}
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	if fs.NArg() != 1 || fs.Arg(0) != "templates" {
		fs.Usage()
		return exitConfig
	}
	cat, err := dialog.LoadCatalogue()
	if err != nil {
		fmt.Fprintln(stderr, "tikasetu:", err)
		return exitFail
	}
	if err := dlt.Write(stdout, "", dlt.Templates(cat)); err != nil {
		fmt.Fprintln(stderr, "tikasetu: dlt templates:", err)
		return exitFail
	}
	return exitOK
}

// dltGuard checks the DLT file against the catalogues and wraps sender so
// that only SMS matching their registered template leave, carrying its
// ids. Without a file it returns sender unchanged.
func dltGuard(path string, sender dialog.Sender, count func(string), log *slog.Logger) (dialog.Sender, error) {
	if path == "" {
		return sender, nil
	}
	reg, err := dlt.Load(path)
	if err != nil {
		return nil, fmt.Errorf("%w: TIKASETU_DLT_FILE: %w", errConfig, err)
	}
	cat, err := dialog.LoadCatalogue()
	if err != nil {
		return nil, err
	}
	if err := reg.Check(cat); err != nil {
		return nil, fmt.Errorf("%w: TIKASETU_DLT_FILE %s does not match the messages: %w", errConfig, path, err)
	}
	return dlt.Guard(sender, reg, dlt.GuardOptions{Count: count, Logger: log}), nil
}
