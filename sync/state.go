package sync

import "strconv"

// State is the role of a kernel sync daemon. The values are the kernel's
// IP_VS_STATE_MASTER and IP_VS_STATE_BACKUP (include/uapi/linux/ip_vs.h),
// sent as IPVS_DAEMON_ATTR_STATE. One network namespace runs at most one
// daemon of each state, and may run both at once.
type State uint32

const (
	// Master sends the connections of this director to the group.
	Master State = 1
	// Backup receives them from the group into this director's table.
	Backup State = 2
)

// States lists the daemon states in the order lvsd handles them.
var States = [...]State{Master, Backup}

func (s State) String() string {
	switch s {
	case Master:
		return "master"
	case Backup:
		return "backup"
	}
	return "state(" + strconv.FormatUint(uint64(s), 10) + ")"
}

// Valid reports whether s is Master or Backup.
func (s State) Valid() bool { return s == Master || s == Backup }
