package sync

import "fmt"

// Control starts, stops and lists the kernel's sync daemons of one network
// namespace. Kernel is the real one (generic netlink family "IPVS"), Fake
// the in-memory one for tests.
type Control interface {
	// Start starts the daemon of state s with c (IPVS_CMD_NEW_DAEMON). It
	// fails with an error matching os.ErrExist when that daemon already
	// runs, whatever its parameters: the kernel cannot change a running
	// daemon, so a change is a Stop and a Start.
	Start(s State, c Config) error
	// Stop stops the daemon of state s (IPVS_CMD_DEL_DAEMON). It fails
	// with an error matching os.ErrNotExist when that daemon does not run.
	Stop(s State) error
	// Daemons lists the running daemons, master first, with the parameters
	// the kernel holds (IPVS_CMD_GET_DAEMON dump).
	Daemons() ([]Daemon, error)
}

// Daemon is one running kernel sync daemon.
type Daemon struct {
	State  State
	Config Config
}

// String renders d like a line of "ipvsadm -L --daemon":
// "master sync daemon (mcast=eth0, syncid=51, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)".
func (d Daemon) String() string {
	return fmt.Sprintf("%s sync daemon (%s)", d.State, d.Config)
}
