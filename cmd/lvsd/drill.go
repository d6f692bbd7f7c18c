package main

import (
	"fmt"
	"io"
	"time"

	"github.com/lvsd/lvsd/internal/control"
)

func cmdDrill(args []string, stdout, stderr io.Writer) int {
	c := newClient("drill", "usage: lvsd drill [--instance NAME] [--hold D] [-c FILE | -s SOCKET]\n\nA planned failover: the master steps down, the peer takes over, and the\ntakeover is reported. Run it on the master. Exit 0 when the peer took over,\n1 when it did not (this director then takes its VIPs back).", stderr)
	instance := c.fs.String("instance", "", "the instance to step down (default: the first master)")
	hold := c.fs.Duration("hold", 30*time.Second, "how long the peer keeps mastership before the normal preemption rules resume")
	socket, code := c.parse(args)
	if code != exitOK {
		return code
	}
	reply, err := control.Call(socket, control.Request{Command: control.CmdDrill, Instance: *instance, Hold: hold.String()}, time.Minute)
	if err != nil {
		c.fail(err)
		return exitFail
	}
	r := reply.Drill
	if r.Failure != "" {
		fmt.Fprintf(stderr, "lvsd drill: %s: FAILED: %s\n", r.Instance, r.Failure)
		return exitFail
	}
	fmt.Fprintf(stdout, "drill %s: %s took over in %d ms\n", r.Instance, r.NewMaster, r.TakeoverMS)
	if r.FirstGARPMS >= 0 {
		fmt.Fprintf(stdout, "  gratuitous ARP from the new master: %d, the first after %d ms\n", r.GARPs, r.FirstGARPMS)
	} else {
		fmt.Fprintln(stdout, "  gratuitous ARP from the new master: none seen here (IPv6 VIPs are announced by NA, not counted)")
	}
	if r.Connections >= 0 {
		fmt.Fprintf(stdout, "  connections in this director's table at step-down: %d\n", r.Connections)
	}
	fmt.Fprintf(stdout, "  connections the new master's sync messages carried since (sent as connections change state): %d\n", r.SyncPeerConn)
	fmt.Fprintf(stdout, "  preemption held back for %ds; then the normal rules apply\n", r.HoldS)
	return exitOK
}
