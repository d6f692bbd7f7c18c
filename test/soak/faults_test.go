package soak

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseKinds(t *testing.T) {
	known := []Kind{SecondRun, VIPDeleted, StopBackup}
	without := slices.DeleteFunc(slices.Clone(Kinds), func(k Kind) bool { return slices.Contains(known, k) })
	for _, c := range []struct {
		in   string
		want []Kind
	}{
		{"", Kinds},
		{"all", Kinds},
		{"cut,kill", []Kind{Kill, Partition}}, // the report's order
		{"-second-run,-vip-del,-stop-backup", without},
		{"all,-second-run,-vip-del,-stop-backup", without},
		{"kill,cut,-cut", []Kind{Kill}},
	} {
		got, err := ParseKinds(c.in)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ParseKinds(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"kil", "kill,-kill", "-all"} {
		if got, err := ParseKinds(bad); err == nil {
			t.Errorf("ParseKinds(%q) = %v, want an error", bad, got)
		}
	}
}

// TestSchedule: a seed alone decides the faults (the replay), every kind
// comes up, and each kind's role and bounds are the issue's.
func TestSchedule(t *testing.T) {
	a, b := NewSchedule(7, Kinds), NewSchedule(7, Kinds)
	seen := map[Kind]int{}
	for i := range 2000 {
		f, g := a.Next(), b.Next()
		if f != g {
			t.Fatalf("step %d: %v and %v from one seed", i, f, g)
		}
		if f.Seq != i+1 {
			t.Fatalf("step %d numbered %d", i, f.Seq)
		}
		seen[f.Kind]++
		switch f.Kind {
		case StopMaster, StopBackup:
			if f.Hold < time.Second || f.Hold > 5*time.Second || (f.Kind == StopMaster) != (f.Role == Master) {
				t.Errorf("%v: want 1-5s on the %s", f, map[Kind]string{StopMaster: "master", StopBackup: "backup"}[f.Kind])
			}
		case VIPDeleted, SecondRun, Drill:
			if f.Role != Master {
				t.Errorf("%v: not on the master", f)
			}
		case HUPBurst:
			if f.N < 3 || f.N > 20 {
				t.Errorf("%v: burst size", f)
			}
		}
	}
	for _, k := range Kinds {
		if seen[k] < 100 {
			t.Errorf("%s drawn %d times in 2000", k, seen[k])
		}
	}
	if c := NewSchedule(8, Kinds); c.Next() == NewSchedule(7, Kinds).Next() && c.Next() == a.Next() {
		t.Error("two seeds, the same faults")
	}
	only := NewSchedule(1, []Kind{Drill})
	for range 10 {
		if f := only.Next(); f.Kind != Drill || !strings.Contains(f.String(), "drill on the master for") {
			t.Errorf("drill-only schedule drew %v", f)
		}
	}
}

func TestQuiet(t *testing.T) {
	for _, c := range []struct {
		f    Fault
		want bool
	}{
		{Fault{Kind: Kill, Role: Backup}, true},
		{Fault{Kind: Kill, Role: Master}, false},
		{Fault{Kind: LinkFlap, Role: Backup}, true},
		{Fault{Kind: Partition, Role: Backup}, false}, // the backup rightly takes the VIP on its side
		{Fault{Kind: StopBackup, Role: Backup}, true},
		{Fault{Kind: StopMaster, Role: Master}, false},
		{Fault{Kind: SecondRun, Role: Master}, true},
		{Fault{Kind: ReloadBad, Role: Master}, true},
		{Fault{Kind: HUPBurst, Role: Master}, true},
		{Fault{Kind: VIPDeleted, Role: Master}, false},
		{Fault{Kind: Drill, Role: Master}, false},
	} {
		if got := c.f.quiet(); got != c.want {
			t.Errorf("%v quiet = %v", c.f, got)
		}
	}
}
