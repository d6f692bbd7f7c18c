package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/lvsd/lvsd/conf/keepalived"
)

// cmdImportKeepalived converts a keepalived.conf to lvsd HCL: the HCL on
// stdout, a note per keyword not carried over on stderr, and exit 1 when
// something would behave differently under lvsd.
func cmdImportKeepalived(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("import-keepalived", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configID := fs.String("config-id", defaultConfigID(), "keepalived's config `ID` (keepalived -i): a line \"@ID …\" is read only for this id, \"@^ID …\" only for another")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: lvsd import-keepalived [--config-id ID] FILE > lvsd.hcl\n\nPrints the lvsd HCL equivalent of FILE (include followed), read for\nkeepalived's config id ID, which defaults as keepalived's does to this\nhost's name up to its first dot. Keywords not carried over are commented\nin the output and listed here; exit 1 when any of them would change\nbehaviour, or FILE cannot be read.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage // flag has printed the usage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	out, notes, err := keepalived.Import(fs.Arg(0), *configID)
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
	if keepalived.ChangesBehaviour(notes) {
		fmt.Fprintln(stderr, "lvsd import-keepalived: converted, but the notes marked \"changes behaviour\" need a decision before this file replaces keepalived")
		return exitFail
	}
	return exitOK
}

// defaultConfigID is keepalived's default config id: the host name up to
// its first dot (keepalived(8), -i).
func defaultConfigID() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	id, _, _ := strings.Cut(h, ".")
	return id
}
