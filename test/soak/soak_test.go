//go:build lab

package soak

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// TestSoak: the chaos soak of an lvsd pair (see the package doc). Every
// fault kind by default; no invariant broken, no daemon leaking.
func TestSoak(t *testing.T) { soakTest(t, PairLvsd) }

// TestSoakKeepalived: the same with keepalived as dir-b, the backup;
// the kinds only lvsd has hit dir-a.
func TestSoakKeepalived(t *testing.T) { soakTest(t, PairKeepalived) }

func soakTest(t *testing.T, v Variant) {
	s, err := FromEnv(os.Getenv, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	r := Run(t, v, s)
	fmt.Printf("\n%s\n", r.Table()) // the table alone, for make soak
	if r.Failed() {
		t.Errorf("%d invariant violations (each logged above with its replay), or a daemon leaking", len(r.Violations))
	}
}
