package vrrp

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// ErrNotMaster is returned by StepDown on an instance that is not master.
var ErrNotMaster = errors.New("vrrp: the instance is not master")

// StepDown is a planned failover: the master resigns (priority 0, so a
// backup takes over after Skew_Time) and, for hold, follows whatever
// master it hears, even one of lower priority, instead of preempting it.
// After hold the normal preemption rules apply again. If no backup takes
// over, master_down expires and the instance becomes master again: a
// drill never leaves the VIPs unheld.
func (in *Instance) StepDown(hold time.Duration) error {
	var err error
	ok := in.do(func() {
		if in.state != Master {
			err = fmt.Errorf("%w (it is %s)", ErrNotMaster, in.state)
			return
		}
		in.holdUntil = time.Now().Add(hold)
		in.resign(fmt.Sprintf("drill: stepping down, holding back preemption for %s", hold),
			"drill: no backup took over within master_down; taking the VIPs back")
	})
	if !ok {
		return errors.New("vrrp: instance stopped")
	}
	return err
}

// resign leaves MASTER for BACKUP with a priority-0 advert, so that a
// backup takes over after Skew_Time (RFC 5798 §6.4.3), forgetting the
// master it knew and arming master_down: if no backup takes over, the
// instance becomes master again then, for downCause.
func (in *Instance) resign(cause, downCause string) {
	in.leaveMaster(true)
	in.masterIP, in.masterPrio = netip.Addr{}, 0
	in.armDown()
	in.downCause = downCause
	in.transition(Backup, cause)
}
