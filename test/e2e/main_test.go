//go:build lab || bench

package e2e

import (
	"fmt"
	"os"
	"testing"

	"github.com/lvsd/lvsd/test/lvsdtest"
)

func TestMain(m *testing.M) {
	// Built before the tests, so that no test's timing pays for it.
	var err error
	if lvsdBin, err = lvsdtest.Binary(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}
