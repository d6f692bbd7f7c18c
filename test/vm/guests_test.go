//go:build vm

package vm_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/lvsd/lvsd/test/vm"
)

// runGuestTests boots k with the static guest test binary bin at guest and
// ipvsadm, runs all its tests, and fails unless it passed and printed a
// PASS line for every name in want: a green run with fewer tests (a
// rename, a skip) would prove less than it claims.
func runGuestTests(t *testing.T, k *vm.Kernel, bin, guest string, want []string) *vm.Result {
	t.Helper()
	res, err := vm.Run(t.Context(), vm.Spec{
		Kernel:       k,
		Files:        map[string]string{guest: bin},
		HostPrograms: []string{ipvsadmPath},
		Command:      []string{guest, "-test.v", "-test.count=1"},
		Console:      vm.LogFunc(t.Logf),
		Timeout:      5 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	logTimings(t, res)
	if !res.Passed {
		t.Fatalf("guest test failed with exit code %d (console above)", res.ExitCode)
	}
	for _, name := range want {
		if !regexp.MustCompile(`--- PASS: ` + regexp.QuoteMeta(name) + ` `).MatchString(res.Console) {
			t.Errorf("guest output has no PASS line for %s", name)
		}
	}
	return res
}
