package main

import (
	"fmt"
	"io"

	"github.com/lvsd/lvsd/internal/control"
)

// cmdReload asks the running daemon to reload its configuration file
// (as SIGHUP does) and reports what changed, or why nothing did.
func cmdReload(args []string, stdout, stderr io.Writer) int {
	c := newClient("reload", "usage: lvsd reload [-c FILE | -s SOCKET]\n\nThe daemon re-reads its file and applies only the differences. An invalid\nfile changes nothing: its problems are printed and the exit status is 1.\nWith -c FILE, FILE is checked here first: when it is invalid, its problems\nare printed as `lvsd check` prints them and the daemon is not asked.", stderr)
	socket, code := c.parse(args)
	if code != exitOK {
		return code
	}
	reply, err := control.Call(socket, control.Request{Command: control.CmdReload}, control.CallTimeout)
	if reply != nil && !reply.OK {
		fmt.Fprintln(stderr, reply.Error)
		fmt.Fprintln(stderr, "lvsd reload: rejected; the running configuration stays")
		return exitFail
	}
	if err != nil {
		c.fail(err)
		return exitFail
	}
	for _, c := range reply.Changes {
		fmt.Fprintln(stdout, c)
	}
	return exitOK
}
