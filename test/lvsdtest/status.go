package lvsdtest

import (
	"fmt"
	"time"

	"github.com/lvsd/lvsd/internal/control"
)

// The daemon's status types, as internal/control defines them for
// `lvsd status --json`.
type (
	Status        = control.Status
	Instance      = control.Instance
	Transition    = control.Transition
	VirtualServer = control.Service
	RealServer    = control.RealServer
	Sync          = control.Sync
	SyncObserved  = control.SyncObserved
	SyncPeer      = control.SyncPeer
)

// statusTimeout bounds one status request: a daemon that does not answer
// within it is as good as hung to a test.
const statusTimeout = 5 * time.Second

// Status asks the daemon over its control socket, as `lvsd status --json`
// does.
func (d *Daemon) Status() (*Status, error) {
	reply, err := control.Call(d.Socket, control.Request{Command: control.CmdStatus}, statusTimeout)
	if err != nil {
		return nil, err
	}
	if reply.Status == nil {
		return nil, fmt.Errorf("status on %s: a reply without a status", d.Socket)
	}
	return reply.Status, nil
}
