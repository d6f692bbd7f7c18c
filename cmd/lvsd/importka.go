package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/lvsd/lvsd/conf"
)

// cmdImportKeepalived converts a keepalived.conf to lvsd HCL: the HCL on
// stdout, a note per keyword not carried over on stderr, and exit 1 when
// something would behave differently under lvsd.
func cmdImportKeepalived(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("import-keepalived", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: lvsd import-keepalived FILE > lvsd.hcl\n\nPrints the lvsd HCL equivalent of FILE (include followed). Keywords not\ncarried over are commented in the output and listed here; exit 1 when any\nof them would change behaviour, or FILE cannot be read.")
	}
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	out, notes, err := conf.ImportKeepalived(fs.Arg(0))
	for _, n := range notes {
		fmt.Fprintln(stderr, n)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		if out != nil {
			stdout.Write(out)
		}
		fmt.Fprintln(stderr, "lvsd import-keepalived: not converted")
		return exitFail
	}
	stdout.Write(out)
	if conf.ChangesBehaviour(notes) {
		fmt.Fprintln(stderr, "lvsd import-keepalived: converted, but the notes marked \"changes behaviour\" need a decision before this file replaces keepalived")
		return exitFail
	}
	return exitOK
}
