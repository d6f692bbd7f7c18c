package soak

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReadUsage(t *testing.T) {
	u, err := ReadUsage(os.Getpid())
	if err != nil || u.FDs < 3 || u.Threads < 1 || u.RSSKiB < 1024 {
		t.Errorf("this process: %+v, %v", u, err)
	}
	if _, err := ReadUsage(-1); err == nil {
		t.Error("no error for pid -1")
	}
}

func TestReport(t *testing.T) {
	s := Settings{Seed: 5, Kinds: []Kind{Kill, Reload}}
	r := &Report{
		Variant: "lvsd pair", Settings: s, Elapsed: 3 * time.Minute, Faults: 3,
		Injected:   map[Kind]int{Kill: 2, Reload: 1},
		Violations: []Violation{{Fault: Fault{Seq: 3, Kind: Kill, Hold: time.Second}, Problems: []string{"the VIP is held by 0 directors"}, Sequence: []string{"+1s #1 reload", "+5s #3 kill"}}},
		Daemons: []DaemonUsage{
			{Name: "dir-a", Pid: 10, Since: "start", Start: Usage{12, 8, 14000}, End: Usage{12, 9, 15000}},
			{Name: "dir-b", Pid: 11, Since: "#2", Faults: 1, Start: Usage{12, 8, 14000}, End: Usage{30, 9, 80000}},
		},
		Longest: func(k Kind) (time.Duration, time.Duration) {
			if k == Kill {
				return 1800 * time.Millisecond, 0
			}
			return 0, 0
		},
	}
	if !r.Failed() {
		t.Error("a run with a violation passed")
	}
	table := r.Table()
	// One column block: the second cell starts at the same offset on
	// every row of the kinds, those switched off included; no row ends
	// in blanks.
	second := map[int][]string{}
	for _, line := range strings.Split(table, "\n") {
		if strings.HasSuffix(line, " ") {
			t.Errorf("trailing blanks: %q", line)
		}
		if f := strings.Fields(line); len(f) > 1 && (slices.Contains(Kinds, Kind(f[0])) || f[0] == "total") {
			at := len(f[0]) + len(line[len(f[0]):]) - len(strings.TrimLeft(line[len(f[0]):], " "))
			second[at] = append(second[at], f[0])
		}
	}
	if len(second) != 1 {
		t.Errorf("the second column starts at several offsets %v:\n%s", second, table)
	}
	flat := strings.Join(strings.Fields(table), " ") // columns as single spaces
	for _, want := range []string{"seed 5", "3 faults, 1 invariant violations, 1 daemons leaking", "kill 2 1 1.8s 0 stop-master off - - -",
		"reload 1 0 0 0", "total 3 1 - -", "dir-b 11 #2 1 12 → 30 8 → 9 13.7 → 78.1 (+64.5) 18 more open descriptors, RSS 64 MiB larger", "none"} {
		if !strings.Contains(flat, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	v := r.Violations[0].String(s, "TestSoak$")
	for _, want := range []string{"after fault #3 kill on the master for 1s", "seed 5", "    +1s #1 reload", "LVSD_SOAK_STEPS=3", "-run 'TestSoak$'"} {
		if !strings.Contains(v, want) {
			t.Errorf("violation lacks %q:\n%s", want, v)
		}
	}
	r.Violations = nil
	r.Daemons = r.Daemons[:1]
	if r.Failed() {
		t.Error("a clean run failed")
	}
}
