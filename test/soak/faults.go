package soak

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Kind is one sort of fault the soak injects.
type Kind string

// The fault kinds, in the order of the report.
const (
	Kill       Kind = "kill"           // SIGKILL a daemon (no resignation), restart it after a pause
	StopMaster Kind = "stop-master"    // SIGSTOP the master 1-5 s, then SIGCONT
	StopBackup Kind = "stop-backup"    // SIGSTOP the backup 1-5 s, then SIGCONT
	LinkFlap   Kind = "link"           // the cable pulled (no carrier), then plugged back
	Partition  Kind = "cut"            // a silent partition (carrier kept), then healed
	VIPDeleted Kind = "vip-del"        // `ip addr del` of the VIP on the master
	SecondRun  Kind = "second-run"     // a second `lvsd run` with the same file
	Reload     Kind = "reload"         // `lvsd reload` of the same file or of a benign change
	ReloadBad  Kind = "reload-invalid" // a broken file, reloaded through the daemon or with -c
	HUPBurst   Kind = "sighup"         // a burst of SIGHUP
	Drill      Kind = "drill"          // `lvsd drill` on the master
)

// Kinds is every fault kind.
var Kinds = []Kind{Kill, StopMaster, StopBackup, LinkFlap, Partition, VIPDeleted, SecondRun, Reload, ReloadBad, HUPBurst, Drill}

// lvsdOnly are the kinds only an lvsd can be given: with keepalived on
// one side they hit the lvsd, whatever its role.
var lvsdOnly = []Kind{SecondRun, Reload, ReloadBad, HUPBurst, Drill}

// Role is whom a fault hits. It is resolved when the fault is injected,
// so that the schedule depends on the seed alone.
type Role int

// Roles.
const (
	Master Role = iota // the host holding the VIP
	Backup             // the other
)

func (r Role) String() string { return [...]string{Master: "master", Backup: "backup"}[r] }

// Fault is one step of the schedule.
type Fault struct {
	Seq  int // 1, 2, … in the run
	Kind Kind
	Role Role
	// Hold is how long the fault lasts: the pause between a kill and the
	// restart, a freeze, a link down, a partition, a drill's --hold.
	Hold time.Duration
	// N is the number of SIGHUPs of a burst, or which variant of a
	// reload: 0 the same file (valid) or through the daemon (invalid),
	// 1 a changed file (valid) or `lvsd reload -c FILE` (invalid).
	N int
}

func (f Fault) String() string {
	s := fmt.Sprintf("#%d %s on the %s", f.Seq, f.Kind, f.Role)
	switch f.Kind {
	case Kill, StopMaster, StopBackup, LinkFlap, Partition, Drill:
		s += " for " + f.Hold.String()
	case HUPBurst:
		s += fmt.Sprintf(", %d signals", f.N)
	case Reload:
		s += []string{", same file", ", changed file"}[f.N]
	case ReloadBad:
		s += []string{", through the daemon", ", with -c FILE"}[f.N]
	}
	return s
}

// ParseKinds reads a selection of kinds: "" or "all"; a comma list of
// kinds ("kill,cut"); or removals ("-vip-del,-second-run"), from all when
// the list starts with one, else from what the list added before them.
func ParseKinds(s string) ([]Kind, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "all" {
		return slices.Clone(Kinds), nil
	}
	var out []Kind
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		name, remove := strings.CutPrefix(item, "-")
		if i == 0 && remove {
			out = slices.Clone(Kinds)
		}
		if name == "all" && !remove {
			out = slices.Clone(Kinds)
			continue
		}
		k := Kind(name)
		if !slices.Contains(Kinds, k) {
			return nil, fmt.Errorf("unknown fault kind %q (kinds: %v)", name, Kinds)
		}
		out = slices.DeleteFunc(out, func(x Kind) bool { return x == k })
		if !remove {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("fault selection %q leaves no kind", s)
	}
	slices.SortFunc(out, func(a, b Kind) int { return slices.Index(Kinds, a) - slices.Index(Kinds, b) })
	return out, nil
}

// Schedule draws the faults of a run from its seed.
type Schedule struct {
	rng   *rand.Rand
	kinds []Kind
	seq   int
}

// NewSchedule makes the schedule of seed over kinds (not empty).
func NewSchedule(seed uint64, kinds []Kind) *Schedule {
	return &Schedule{rng: rand.New(rand.NewPCG(seed, 0x50a4)), kinds: kinds}
}

// Next draws the next fault.
func (s *Schedule) Next() Fault {
	s.seq++
	f := Fault{Seq: s.seq, Kind: s.kinds[s.rng.IntN(len(s.kinds))]}
	// Every kind draws the same number of values, so adding a kind
	// changes the faults after it only through the kind drawn.
	role, hold, n := Role(s.rng.IntN(2)), s.rng.IntN(1000), s.rng.IntN(1000)
	between := func(lo, hi time.Duration) time.Duration {
		return (lo + (hi-lo)*time.Duration(hold)/1000).Round(100 * time.Millisecond)
	}
	f.Role = role
	switch f.Kind {
	case Kill:
		// From a restart before the peer notices to one after it took over.
		f.Hold = between(0, 3*time.Second)
	case StopMaster, StopBackup:
		// The freeze: 1-5 s, across master_down.
		f.Hold = between(time.Second, 5*time.Second)
		f.Role = map[Kind]Role{StopMaster: Master, StopBackup: Backup}[f.Kind]
	case LinkFlap, Partition:
		f.Hold = between(500*time.Millisecond, 4*time.Second)
	case VIPDeleted, SecondRun:
		f.Role = Master // where it hurts
	case Drill:
		f.Role, f.Hold = Master, between(time.Second, 3*time.Second)
	case HUPBurst:
		f.N = 3 + n%18
	case Reload, ReloadBad:
		f.N = n % 2
	}
	return f
}

// quiet reports whether f must leave the master and its VIP alone: a
// fault on the backup (but a partition, where the backup rightly takes
// the VIP on its side), and any reload, SIGHUP or second run.
func (f Fault) quiet() bool {
	switch f.Kind {
	case StopBackup, SecondRun, Reload, ReloadBad, HUPBurst:
		return true
	case Kill, LinkFlap:
		return f.Role == Backup
	}
	return false
}
