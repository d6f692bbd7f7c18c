//go:build lab

package e2e

import (
	"github.com/lvsd/lvsd/test/lvsdtest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReloadSwapsScriptUser: a reload that changes script_user reaches the
// track script already running (its next runs are as the new user) and
// keeps the instance as it was: same state, same effective priority, no
// transition. The script, now run as nobody, still drives the election.
func TestReloadSwapsScriptUser(t *testing.T) {
	p := newPairLab(t)
	scripts := scriptDir(t, 0o755)
	out := scriptDir(t, 0o1777) // nobody writes here
	runs, okFile := filepath.Join(out, "runs"), filepath.Join(out, "ok")
	chk := filepath.Join(scripts, "chk")
	script := "#!/bin/sh\nid -u >> " + runs + "\ntest -e " + okFile + "\n"
	if err := os.WriteFile(chk, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(runs, nil, 0o666); err != nil { // root and nobody append
		t.Fatal(err)
	}
	if err := os.Chmod(runs, 0o666); err != nil { // past the umask
		t.Fatal(err)
	}
	track := `
track_script "chk" {
  command  = [` + `"` + chk + `"` + `]
  interval = "500ms"
  timeout  = "400ms"
  weight   = -60
  fall     = 2
  rise     = 2
}
`
	a := lvsdtest.Start(t, p.a, "global {\n  script_user = \"root\"\n}\n"+track+instanceHCL(150, `  track_scripts = ["chk"]`))
	b := lvsdtest.Start(t, p.b, instanceHCL(100, ""))
	b.WaitState("MASTER", 5*time.Second)
	a.WaitState("BACKUP", time.Second)
	before := a.Instance()
	if before.EffectivePriority != 90 {
		t.Fatalf("dir-a effective priority %d with its script failing, want 150-60", before.EffectivePriority)
	}

	cfgPath := a.Config
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	swapped := strings.Replace(string(cfg), `script_user = "root"`, `script_user = "nobody"`, 1)
	if err := os.WriteFile(cfgPath, []byte(swapped), 0o644); err != nil {
		t.Fatal(err)
	}
	if msg, err := a.Reload(); err != nil {
		t.Fatalf("lvsd reload: %v\n%s", err, msg)
	}
	// The next runs are nobody's (65534), and only nobody's.
	uids := func() []string {
		b, _ := os.ReadFile(runs)
		return strings.Fields(string(b))
	}
	var first int
	lvsdtest.WaitFor(t, 3*time.Second, "the track script runs as nobody", func() bool {
		first = slicesIndex(uids(), "65534")
		return first >= 0
	})
	time.Sleep(1600 * time.Millisecond) // three more runs
	after := uids()
	for _, uid := range after[first:] {
		if uid != "65534" {
			t.Fatalf("a run as uid %s after the swap: %q", uid, after)
		}
	}
	if len(after)-first < 3 {
		t.Errorf("%d runs as nobody in 1.6s at a 500ms interval", len(after)-first)
	}
	if s := a.Instance(); s.State != "BACKUP" || s.EffectivePriority != 90 {
		t.Errorf("dir-a %s at priority %d after the reload, want BACKUP at 90", s.State, s.EffectivePriority)
	}

	// The script, as nobody, still moves the election.
	if err := os.WriteFile(okFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	a.WaitState("MASTER", 5*time.Second) // rise 2 × 500ms, then preemption
	b.WaitState("BACKUP", time.Second)
}

// scriptDir makes a directory with mode perm whose parents others can
// search (t.TempDir's are 0700), so that a script user other than root
// reaches it.
func scriptDir(t *testing.T, perm os.FileMode) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lvsd-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, perm); err != nil {
		t.Fatal(err)
	}
	return dir
}

func slicesIndex(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}
