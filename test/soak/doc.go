// Package soak is lvsd's chaos soak: a VRRP pair (two lvsd, or lvsd and
// keepalived) and an observer on one segment of the namespace lab, driven
// by a seeded random schedule of faults — SIGKILL and restart, SIGSTOP and
// SIGCONT, link down and up, partition cut and heal, a VIP deleted by
// hand, a second `lvsd run`, valid and invalid reloads, bursts of SIGHUP,
// drills. After each fault it waits master_down + skew + 500 ms and checks
// that the pair never hurt itself: exactly one host holds the VIP, the
// observer's neighbour entry points at it, no lvsd reports MASTER without
// the VIP, no daemon died that the fault did not kill, and a fault that
// must not move the VIP (anything done to the backup but a partition; a
// reload, SIGHUP or second run anywhere) never did. It compares each lvsd's
// open fds, threads and RSS from its start to the end.
//
// The schedule (Schedule) is a function of the seed and the selected
// kinds alone, never of what the daemons do, so a seed and a step count
// replay a run. The run is set by the environment (FromEnv):
//
//	LVSD_SOAK_DURATION  how long to inject faults (default 3m)
//	LVSD_SOAK_SEED      the schedule's seed (default 1; "random": from the clock)
//	LVSD_SOAK_FAULTS    the kinds: "all" (default), a list "kill,cut", or
//	                    removals from all "-vip-del,-second-run"
//	LVSD_SOAK_STEPS     stop after this many faults (default: no limit)
//
// The harness (Run) builds on test/lab and test/lvsdtest; the tests that
// run it (build tag lab) are TestSoak (lvsd pair) and TestSoakKeepalived.
// `make test` runs the pair for 3 minutes on a fixed seed, `make soak`
// for 30 minutes on a random one, and each prints one table (Report).
//
// The keepalived variant is not in `make test`: after a short partition
// of the lvsd master, keepalived (which took over on its side) yields to
// lvsd's first advert without a word (no priority 0, unlike lvsd), so
// lvsd hears no lower priority and never re-announces, and the segment
// keeps keepalived's MAC for the VIP until its entries expire. The soak
// reports it as a violation of the observer check; it needs a decision in
// lvsd (e.g. a GARP refresh), not in the soak.
package soak
