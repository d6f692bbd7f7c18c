package vm

// Unit tests of the harness's pure parts; they need no root, qemu or kernel
// and run in tier 1. The VM itself is tested by vm_test.go (tag vm).

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestShellQuote(t *testing.T) {
	for _, s := range []string{"", "plain", "two words", "it's", `"$HOME" \n; rm -rf /`, "'''"} {
		out, err := exec.Command("sh", "-c", "printf %s "+shellQuote(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("shellQuote(%q) → sh printed %q, %v", s, out, err)
		}
	}
}

func TestInitScript(t *testing.T) {
	mods := []Module{{Name: "ip_vs", Path: "kernel/net/netfilter/ipvs/ip_vs.ko"}, {Name: "crc32c_intel", Path: "kernel/arch/x86/crypto/crc32c-intel.ko", Soft: true}}
	script, err := initScript("abc123", "6.1.0-1-cloud-amd64", mods, []string{"A=b c"}, []string{"/bin/x", "it's"})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("sh", "-n", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("generated /init does not parse: %v\n%s\n%s", err, out, script)
	}
	for _, want := range []string{
		`insmod '/lib/modules/6.1.0-1-cloud-amd64/kernel/net/netfilter/ipvs/ip_vs.ko' || fail`,
		`crc32c-intel.ko' || echo`,
		`export 'A=b c'`,
		`'/bin/x' 'it'\''s'`,
		`echo "${M}exit=$?"`,
	} {
		if !strings.Contains(script, want) {
			t.Errorf("/init lacks %q:\n%s", want, script)
		}
	}
	if _, err := initScript("n", "v", nil, []string{"BAD KEY=1"}, []string{"true"}); err == nil {
		t.Error("initScript accepted an invalid Env key")
	}
}

func TestCPIOWriter(t *testing.T) {
	if _, err := exec.LookPath("cpio"); err != nil {
		t.Skip("cpio(1) not installed; it is the independent reader here")
	}
	var buf bytes.Buffer
	c := newCPIOWriter(&buf)
	c.Dir("tmp", 0o1777)
	c.CharDev("dev/console", 0o600, 5, 1)
	c.File("usr/bin/hello", 0o755, 5, strings.NewReader("hello"))
	c.Symlink("var/run", "../run")
	if err := c.File("usr/bin/hello", 0o755, 0, nil); err == nil {
		t.Error("adding a file twice is not an error")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("cpio", "-itv", "--quiet")
	cmd.Stdin = &buf
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cpio rejects the archive: %v\n%s", err, out)
	}
	// Parents come before children, with the modes given.
	for _, want := range []string{"drwxrwxrwt .* tmp", "drwxr-xr-x .* dev\n", "crw------- .* 5, +1 .* dev/console", "drwxr-xr-x .* usr/bin\n", "-rwxr-xr-x .* 5 .* usr/bin/hello", "lrwxrwxrwx .* var/run -> ../run"} {
		if !regexp.MustCompile(want).MatchString(string(out)) {
			t.Errorf("listing lacks %q:\n%s", want, out)
		}
	}
}

func TestConsole(t *testing.T) {
	var lines []string
	c := &console{out: LogFunc(func(_ string, a ...any) { lines = append(lines, string(a[0].([]byte))) }), initMark: "lvsd-vm[n]: init"}
	c.Write([]byte("\x1bc\x1b[?7l\x1b[2JSeaBIOS\r\nBooting..lvsd-vm[n]: in"))
	c.Write([]byte("it\r\nlvsd-vm[n]: exit=3\r\ntrailing"))
	c.flush()
	want := []string{"SeaBIOS", "Booting..lvsd-vm[n]: init", "lvsd-vm[n]: exit=3", "trailing"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("lines %q, want %q", lines, want)
	}
	if c.boot == 0 {
		t.Error("boot time not recorded at the init marker")
	}
	if m := verdictRE("n").FindStringSubmatch(c.String()); m == nil || m[1] != "3" {
		t.Errorf("verdict not found in %q", c.String())
	}
}

func TestRequireStatic(t *testing.T) {
	script := filepath.Join(t.TempDir(), "script")
	os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755)
	if err := requireStatic(script); err != nil {
		t.Errorf("script: %v", err)
	}
	if _, err := os.Stat("/bin/sh"); err == nil {
		if err := requireStatic("/bin/sh"); err == nil || !strings.Contains(err.Error(), "dynamically linked") {
			t.Errorf("/bin/sh: got %v, want dynamically linked", err)
		}
	}
	if err := requireStatic("/nonexistent/x"); err == nil {
		t.Error("missing file passes")
	}
}

// TestRequirePass: a guest run passes only when each named test printed
// its PASS line and the command exited 0; a skipped, failed or missing
// test is named.
func TestRequirePass(t *testing.T) {
	console := "=== RUN   TestA\n--- PASS: TestA (0.01s)\n=== RUN   TestB\n--- SKIP: TestB (0.00s)\n=== RUN   TestAB\n--- PASS: TestAB (0.00s)\nPASS\n"
	if err := RequirePass(&Result{Console: console, Passed: true}, []string{"TestA", "TestAB"}); err != nil {
		t.Errorf("all passed: %v", err)
	}
	err := RequirePass(&Result{Console: console, Passed: true}, []string{"TestA", "TestB", "TestC"})
	if err == nil || !strings.Contains(err.Error(), "TestB, TestC") {
		t.Errorf("skipped TestB and missing TestC: got %v", err)
	}
	if err := RequirePass(&Result{Console: console, ExitCode: 1}, []string{"TestA"}); err == nil {
		t.Error("a failed run passes")
	}
	g := GuestTests{Binary: "/x/guest-1a2b.test", Run: "^TestA$", Args: []string{"-test.timeout", "1m"}}
	if got := strings.Join(g.Command(), " "); got != "/bin/guest-1a2b.test -test.v -test.count=1 -test.run ^TestA$ -test.timeout 1m" {
		t.Errorf("command %q", got)
	}
}
