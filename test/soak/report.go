package soak

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is what a run found.
type Report struct {
	Variant    string
	Settings   Settings
	Elapsed    time.Duration
	Faults     int
	Injected   map[Kind]int
	Violations []Violation
	Daemons    []DaemonUsage
	// Longest returns the longest time with no VIP holder and with two
	// holders that began during faults of a kind (Monitor.Longest).
	Longest func(Kind) (none, two time.Duration)
}

// Violation is an invariant broken after a fault, with the faults since
// the pair was last known whole: what replays it.
type Violation struct {
	Fault    Fault
	Problems []string
	Sequence []string // the faults since the last reset, in order, with their targets
}

// DaemonUsage is one lvsd's usage from its first reading (after it
// started and settled) to its last.
type DaemonUsage struct {
	Name       string
	Pid        int
	Since      string // "start" or the fault that (re)started it
	Faults     int    // faults it lived through from its first reading to its last
	Start, End Usage
}

// Leak says how the daemon grew past the leak bounds, or "".
func (d DaemonUsage) Leak() string { return leaks(d.Start, d.End) }

// Failed reports whether the run broke an invariant or leaked.
func (r *Report) Failed() bool {
	if len(r.Violations) > 0 {
		return true
	}
	for _, d := range r.Daemons {
		if d.Leak() != "" {
			return true
		}
	}
	return false
}

// Table is the run in one table: faults and violations per kind, the
// longest times without a holder and with two, and each daemon's growth.
func (r *Report) Table() string {
	var b strings.Builder
	perKind := map[Kind]int{}
	for _, v := range r.Violations {
		perKind[v.Fault.Kind]++
	}
	leaked := 0
	for _, d := range r.Daemons {
		if d.Leak() != "" {
			leaked++
		}
	}
	fmt.Fprintf(&b, "soak: %s, seed %d, %s, %d faults, %d invariant violations, %d daemons leaking\n",
		r.Variant, r.Settings.Seed, r.Elapsed.Round(time.Second), r.Faults, len(r.Violations), leaked)
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "fault kind\tinjected\tviolations\tlongest with no holder\tlongest with two holders")
	for _, k := range Kinds {
		enabled := false
		for _, e := range r.Settings.Kinds {
			enabled = enabled || e == k
		}
		if !enabled {
			fmt.Fprintf(w, "%s\toff\t-\t-\t-\n", k) // as many cells as the others: one column block
			continue
		}
		none, two := r.Longest(k)
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\n", k, r.Injected[k], perKind[k], ms(none), ms(two))
	}
	fmt.Fprintf(w, "total\t%d\t%d\t-\t-\n", r.Faults, len(r.Violations))
	w.Flush()
	if len(r.Violations) > 0 {
		b.WriteString("(a gap that a violation left open is timed until the pair was rebuilt)\n")
	}
	w = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "daemon\tpid\tsince\tfaults lived\tfds\tthreads\tRSS MiB\tleak")
	for _, d := range r.Daemons {
		leak := d.Leak()
		if leak == "" {
			leak = "none"
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%d\t%d → %d\t%d → %d\t%.1f → %.1f (%+.1f)\t%s\n", d.Name, d.Pid, d.Since, d.Faults,
			d.Start.FDs, d.End.FDs, d.Start.Threads, d.End.Threads,
			mib(d.Start.RSSKiB), mib(d.End.RSSKiB), mib(d.End.RSSKiB-d.Start.RSSKiB), leak)
	}
	w.Flush()
	return b.String()
}

func ms(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	return d.Round(time.Millisecond).String()
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

// String prints a violation with its replay: the seed and kinds of
// settings, the sequence that led to it, and the go test line that runs
// test up to it.
func (v Violation) String(s Settings, test string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "VIOLATION after fault %s:\n", v.Fault)
	for _, p := range v.Problems {
		fmt.Fprintf(&b, "  - %s\n", p)
	}
	fmt.Fprintf(&b, "  seed %d; the faults since the pair was last whole:\n", s.Seed)
	for _, f := range v.Sequence {
		fmt.Fprintf(&b, "    %s\n", f)
	}
	fmt.Fprintf(&b, "  replay: %s go test -tags lab -count=1 -v -run '%s' ./test/soak/", s.Replay(v.Fault.Seq), test)
	return b.String()
}
