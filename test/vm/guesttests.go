package vm

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"regexp"
	"strings"
	"testing"
	"time"
)

// GuestTests is a static Go test binary (BuildStatic) to run inside the VM
// and the tests of it that must pass.
type GuestTests struct {
	Binary string   // host path of the binary
	Path   string   // its path in the guest; default /bin/<base name of Binary>
	Run    string   // -test.run; default all
	Skip   string   // -test.skip; default none
	Args   []string // more flags, e.g. "-test.timeout", "10m"
	// Want names each test that must report "--- PASS"; nil means every
	// top-level test that Run and Skip select, as the binary lists them.
	Want []string
}

// Command is the guest command line: the binary in -test.v mode (which
// prints the PASS lines that RequirePass looks for).
func (g GuestTests) Command() []string {
	cmd := []string{g.guestPath(), "-test.v", "-test.count=1"}
	if g.Run != "" {
		cmd = append(cmd, "-test.run", g.Run)
	}
	if g.Skip != "" {
		cmd = append(cmd, "-test.skip", g.Skip)
	}
	return append(cmd, g.Args...)
}

func (g GuestTests) guestPath() string {
	if g.Path != "" {
		return g.Path
	}
	return "/bin/" + path.Base(g.Binary)
}

// Names is Want, or else the top-level tests of the binary that Run and
// Skip select: the binary lists them on the host (-test.list runs no test,
// so the guest guard's marker is set for it alone).
func (g GuestTests) Names(ctx context.Context) ([]string, error) {
	if g.Want != nil {
		return g.Want, nil
	}
	run := g.Run
	if run == "" {
		run = "."
	}
	cmd := exec.CommandContext(ctx, g.Binary, "-test.list", run)
	cmd.Env = append(os.Environ(), GuestEnvMarker+"=1")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("vm: list the tests of %s: %w", g.Binary, err)
	}
	var skip *regexp.Regexp
	if g.Skip != "" {
		if skip, err = regexp.Compile(g.Skip); err != nil {
			return nil, fmt.Errorf("vm: -test.skip %q: %w", g.Skip, err)
		}
	}
	var names []string
	for _, n := range strings.Fields(string(out)) {
		if strings.HasPrefix(n, "Test") && (skip == nil || !skip.MatchString(n)) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("vm: %s has no test matching -test.run %q -test.skip %q", g.Binary, run, g.Skip)
	}
	return names, nil
}

// RequirePass returns nil if the guest command exited 0 and printed a
// "--- PASS: name " line for every name; otherwise an error naming each
// test that did not (it failed, was skipped, or was not run at all: a
// green run with fewer tests would prove less than it claims).
func RequirePass(res *Result, names []string) error {
	var missing []string
	for _, name := range names {
		if !strings.Contains(res.Console, "--- PASS: "+name+" ") {
			missing = append(missing, name)
		}
	}
	switch {
	case len(missing) > 0:
		return fmt.Errorf("guest tests did not pass (exit code %d): %s", res.ExitCode, strings.Join(missing, ", "))
	case !res.Passed:
		return fmt.Errorf("guest tests failed with exit code %d", res.ExitCode)
	}
	return nil
}

// RunGuestTests boots spec with g's binary added to Files and as Command,
// and fails t unless each test of g.Names passed (RequirePass). The
// console goes to t.Log unless spec has its own.
func RunGuestTests(t testing.TB, spec Spec, g GuestTests) *Result {
	t.Helper()
	names, err := g.Names(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{g.guestPath(): g.Binary}
	for k, v := range spec.Files {
		files[k] = v
	}
	spec.Files, spec.Command = files, g.Command()
	if spec.Console == nil {
		spec.Console = LogFunc(t.Logf)
	}
	res, err := Run(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("initramfs %.1f MiB, %d modules; boot to /init %v, total %v",
		float64(res.InitramfsBytes)/(1<<20), len(res.Modules), res.Boot.Round(time.Millisecond), res.Total.Round(time.Millisecond))
	if err := RequirePass(res, names); err != nil {
		t.Fatalf("%v (console above)", err)
	}
	return res
}
