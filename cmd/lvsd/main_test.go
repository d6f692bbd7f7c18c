package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func run(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = dispatch(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCheckExamples(t *testing.T) {
	files, _ := filepath.Glob("../../examples/*.hcl")
	if len(files) < 5 {
		t.Fatalf("want at least 5 examples, found %d", len(files))
	}
	for _, f := range files {
		code, out, errOut := run("check", "-c", f)
		if code != exitOK {
			t.Errorf("lvsd check -c %s: exit %d\n%s", f, code, errOut)
			continue
		}
		if !regexp.MustCompile(`^.+: valid: \d+ VRRP instances?, \d+ virtual servers?, \d+ real servers?\n$`).MatchString(out) {
			t.Errorf("%s: summary line %q", f, out)
		}
		// Warnings are about this host (interfaces, scripts), never the file.
		for _, line := range strings.Split(strings.TrimSpace(errOut), "\n") {
			if line != "" && !strings.Contains(line, ": warning: ") {
				t.Errorf("%s: unexpected output %q", f, line)
			}
		}
	}
}

func TestCheckThreeErrors(t *testing.T) {
	code, out, errOut := run("check", "-c", "testdata/three-errors.hcl")
	if code != exitFail {
		t.Errorf("exit %d, want %d", code, exitFail)
	}
	if out != "" {
		t.Errorf("stdout %q, want nothing", out)
	}
	want := []string{
		"testdata/three-errors.hcl:3,23: virtual_router_id out of range; 300 is not within 1..255",
		`testdata/three-errors.hcl:9,15: Unknown scheduler; "fastest" is not a kernel scheduler; use one of rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh`,
		`testdata/three-errors.hcl:12,5: Unsupported argument; An argument named "wieght" is not expected here. Did you mean "weight"?`,
		"testdata/three-errors.hcl: invalid: 3 problems",
	}
	if got := strings.Split(strings.TrimSpace(errOut), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, strings.Join(want, "\n"))
	}
}

func TestCheckUnreadable(t *testing.T) {
	code, _, errOut := run("check", "-c", "testdata/does-not-exist.hcl")
	if code != exitFail || !strings.Contains(errOut, "Cannot read configuration; open testdata/does-not-exist.hcl: no such file or directory") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestCommandLine(t *testing.T) {
	cases := []struct {
		args []string
		code int
		text string
	}{
		{[]string{"version"}, exitOK, "lvsd dev (commit unknown"},
		{[]string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{nil, exitUsage, "usage: lvsd COMMAND"},
		{[]string{"check", "extra"}, exitUsage, "usage: lvsd check"},
		{[]string{"check", "-x"}, exitUsage, "flag provided but not defined: -x"},
		{[]string{"status", "-s", "/nonexistent/lvsd.sock"}, exitFail, "cannot reach lvsd at /nonexistent/lvsd.sock"},
		{[]string{"run", "-c", "testdata/three-errors.hcl"}, exitFail, "is invalid; nothing started"},
	}
	for _, c := range cases {
		code, out, errOut := run(c.args...)
		if code != c.code || !strings.Contains(out+errOut, c.text) {
			t.Errorf("lvsd %v: exit %d, output %q; want exit %d with %q", c.args, code, out+errOut, c.code, c.text)
		}
	}
}

// TestBinaryExitCodes runs the built binary, since exit codes are the
// contract scripts rely on.
func TestBinaryExitCodes(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "lvsd")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for args, want := range map[string]int{
		"check -c ../../examples/dr.hcl":     0,
		"check -c testdata/three-errors.hcl": 1,
		"version":                            0,
	} {
		err := exec.Command(bin, strings.Fields(args)...).Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != want {
			t.Errorf("lvsd %s: exit %d, want %d", args, code, want)
		}
	}
}

// TestImportKeepalivedCommand: the converted file passes lvsd check; a
// behaviour-changing keyword makes the exit status 1.
func TestImportKeepalivedCommand(t *testing.T) {
	code, out, errOut := run("import-keepalived", "../../conf/keepalived/testdata/dr.conf")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	path := filepath.Join(t.TempDir(), "lvsd.hcl")
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run("check", "-c", path); code != exitOK {
		t.Errorf("imported file does not pass lvsd check: %s", errOut)
	}
	ah := filepath.Join(t.TempDir(), "ah.conf")
	os.WriteFile(ah, []byte("vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n authentication {\n  auth_type AH\n  auth_pass x\n }\n virtual_ipaddress {\n  192.0.2.100/24\n }\n}\n"), 0o644)
	if code, _, errOut := run("import-keepalived", ah); code != exitFail || !strings.Contains(errOut, "changes behaviour") {
		t.Errorf("AH: exit %d, %s; want 1 with a behaviour note", code, errOut)
	}

	// One keepalived.conf shared by the pair, read for each director.
	shared := "../../conf/keepalived/testdata/shared-pair.conf"
	for id, prio := range map[string]string{"dir-a": "150", "dir-b": "100"} {
		code, out, errOut := run("import-keepalived", "--config-id", id, shared)
		if code != exitOK {
			t.Fatalf("--config-id %s: exit %d: %s", id, code, errOut)
		}
		for _, want := range []string{
			fmt.Sprintf("# Imported for keepalived config id %q", id),
			fmt.Sprintf("router_id   = %q", id),
			"priority          = " + prio + "\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("--config-id %s: no %q in\n%s", id, want, out)
			}
		}
		path := filepath.Join(t.TempDir(), id+".hcl")
		os.WriteFile(path, []byte(out), 0o644)
		if code, _, errOut := run("check", "-c", path); code != exitOK {
			t.Errorf("--config-id %s: the imported file does not pass lvsd check: %s", id, errOut)
		}
	}
	if code, _, errOut := run("import-keepalived", "--config-id", "dir-c", shared); code != exitFail ||
		!strings.Contains(errOut, `shared-pair.conf:45: $PRIO is not defined for config id "dir-c": it is defined only for other ids (@dir-a at `) {
		t.Errorf("--config-id dir-c: exit %d, %s; want 1, $PRIO undefined", code, errOut)
	}
	// Without the flag, keepalived's default: the host name up to its first dot.
	if id := defaultConfigID(); id != "dir-a" && id != "dir-b" {
		host, _ := os.Hostname()
		if strings.Contains(id, ".") || !strings.HasPrefix(host, id) {
			t.Errorf("default config id %q for host %q", id, host)
		}
		if code, _, errOut := run("import-keepalived", shared); code != exitFail || !strings.Contains(errOut, fmt.Sprintf("for config id %q", id)) {
			t.Errorf("default config id: exit %d, %s; want 1, read for %q", code, errOut, id)
		}
	}
}

// TestRunRefusesAMismatchedHost: what check only warns about (an
// interface missing here), run refuses to start on, saying why.
func TestRunRefusesAMismatchedHost(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lvsd.hcl")
	os.WriteFile(path, []byte("vrrp \"VI_1\" {\n  interface = \"lvsdnone0\"\n  virtual_router_id = 51\n  virtual_ips = [\"192.0.2.100/24\"]\n}\n"), 0o644)
	if code, _, errOut := run("check", "-c", path); code != exitOK || !strings.Contains(errOut, `warning: No interface "lvsdnone0" on this host`) {
		t.Errorf("check: exit %d, %s; want 0 with a warning", code, errOut)
	}
	code, _, errOut := run("run", "-c", path)
	if code != exitFail || !strings.Contains(errOut, `No interface "lvsdnone0" on this host`) || !strings.Contains(errOut, "this host does not match the configuration; nothing started") {
		t.Errorf("run: exit %d, %s; want 1, refusing", code, errOut)
	}
}
