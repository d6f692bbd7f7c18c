package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/lvsd/lvsd/internal/control"
)

// cmdReload asks the running daemon to reload its configuration file
// (as SIGHUP does) and reports what changed, or why nothing did.
func cmdReload(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("reload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	socket := socketFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: lvsd reload [-c FILE | -s SOCKET]\n\nThe daemon re-reads its file and applies only the differences. An invalid\nfile changes nothing: its problems are printed and the exit status is 1.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return exitUsage
	}
	path, err := socket()
	if err != nil {
		fmt.Fprintln(stderr, "lvsd reload:", err)
		return exitUsage
	}
	reply, err := call(path, control.Request{Command: "reload"})
	if reply != nil && !reply.OK {
		fmt.Fprintln(stderr, reply.Error)
		fmt.Fprintln(stderr, "lvsd reload: rejected; the running configuration stays")
		return exitFail
	}
	if err != nil {
		fmt.Fprintln(stderr, "lvsd reload:", err)
		return exitFail
	}
	for _, c := range reply.Changes {
		fmt.Fprintln(stdout, c)
	}
	return exitOK
}
