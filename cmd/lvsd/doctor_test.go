package main

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/doctor"
)

// TestDoctorCommandLine reads lvsd doctor's command line as a user
// writes it: which checks it asks internal/doctor for, and the exit
// code of each report. The checks themselves are tested there.
func TestDoctorCommandLine(t *testing.T) {
	good := filepath.Join(t.TempDir(), "lvsd.hcl")
	os.WriteFile(good, nil, 0o644)
	problem := doctor.Result{Findings: []doctor.Finding{{Severity: doctor.Warning}, {Severity: doctor.Problem}}}
	warning := doctor.Result{Findings: []doctor.Finding{{Severity: doctor.OK}, {Severity: doctor.Warning}}}
	run := func(report doctor.Result, args ...string) (int, *doctor.Options, string) {
		var errOut bytes.Buffer
		var asked *doctor.Options
		code := runDoctor(args, &errOut, func(o doctor.Options) doctor.Result {
			asked = &o
			return report
		})
		t.Logf("lvsd doctor %s: exit %d, %+v\n%s", strings.Join(args, " "), code, asked, errOut.String())
		return code, asked, errOut.String()
	}
	addrs := func(ss ...string) []netip.Addr {
		var out []netip.Addr
		for _, s := range ss {
			out = append(out, netip.MustParseAddr(s))
		}
		return out
	}

	cases := []struct {
		args   []string
		report doctor.Result
		want   doctor.Options
		code   int
	}{
		{[]string{"-c", good}, warning, doctor.Options{Config: good}, exitOK},
		{[]string{"-c", good}, problem, doctor.Options{Config: good}, exitFail},
		{[]string{"-c", good, "--listen", "5s"}, warning, doctor.Options{Config: good, Listen: 5 * time.Second}, exitOK},
		// Without -c, a real server gets no director checks.
		{[]string{"--real-server", "192.0.2.100"}, warning, doctor.Options{RealServer: addrs("192.0.2.100")}, exitOK},
		{[]string{"--real-server", "192.0.2.100,192.0.2.101", "--real-server", "192.0.2.102/32"}, problem,
			doctor.Options{RealServer: addrs("192.0.2.100", "192.0.2.101", "192.0.2.102")}, exitFail},
		// Both roles at once.
		{[]string{"-c", good, "--real-server", "192.0.2.100"}, problem, doctor.Options{Config: good, RealServer: addrs("192.0.2.100")}, exitFail},
	}
	for _, c := range cases {
		code, asked, _ := run(c.report, c.args...)
		if code != c.code {
			t.Errorf("lvsd doctor %v: exit %d, want %d", c.args, code, c.code)
		}
		if asked == nil || !reflect.DeepEqual(*asked, c.want) {
			t.Errorf("lvsd doctor %v: ran %+v, want %+v", c.args, asked, c.want)
		}
	}

	for _, args := range [][]string{
		{"--real-server", "not-an-ip"},
		{"extra"},
		{"--listen", "-1s", "-c", good},
	} {
		if code, asked, _ := run(warning, args...); code != exitUsage || asked != nil {
			t.Errorf("lvsd doctor %v: exit %d, ran %+v, want exit %d and no checks", args, code, asked, exitUsage)
		}
	}
	if _, err := os.Stat(DefaultConfig); errors.Is(err, os.ErrNotExist) {
		code, asked, errOut := run(warning)
		if code != exitUsage || asked != nil || !strings.Contains(errOut, "no configuration at "+DefaultConfig) {
			t.Errorf("no file: exit %d, %q", code, errOut)
		}
	}
}
