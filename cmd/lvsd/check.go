package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/hashicorp/hcl/v2"

	"github.com/lvsd/lvsd/conf"
)

// DefaultConfig is where run, check and the client commands look for the
// configuration when -c is not given.
const DefaultConfig = "/etc/lvsd/lvsd.hcl"

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("c", DefaultConfig, "configuration `FILE`")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: lvsd check [-c FILE]\n\nValidates FILE and prints each problem as FILE:LINE,COL: summary; detail.\nExit 0 when valid (warnings about this host included), 1 when not.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitUsage
	}
	cfg, diags := conf.Load(*file)
	if diags.HasErrors() {
		writeInvalid(stderr, *file, diags)
		return exitFail
	}
	conf.WriteDiagnostics(stderr, diags)
	fmt.Fprintf(stdout, "%s: valid: %d %s, %d %s, %d %s\n", *file,
		len(cfg.Instances), plural(len(cfg.Instances), "VRRP instance", "VRRP instances"),
		len(cfg.VirtualServers), plural(len(cfg.VirtualServers), "virtual server", "virtual servers"),
		cfg.RealServerCount(), plural(cfg.RealServerCount(), "real server", "real servers"))
	return exitOK
}

// writeInvalid prints the diagnostics of an invalid file and the count of
// its problems: what `lvsd check` prints, and the client commands given
// that file with -c.
func writeInvalid(w io.Writer, file string, diags hcl.Diagnostics) {
	conf.WriteDiagnostics(w, diags)
	n := len(diags.Errs())
	fmt.Fprintf(w, "%s: invalid: %d %s\n", file, n, plural(n, "problem", "problems"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
