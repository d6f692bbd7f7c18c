package conf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScriptSecurity: a script that another user could change is refused
// with the reason and the fix, as keepalived's script security does.
func TestScriptSecurity(t *testing.T) {
	dir, err := os.MkdirTemp("/var/tmp", "lvsd-script-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	script := filepath.Join(dir, "check")
	os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755)
	if err := (ThisHost{}).Executable(script); err != nil {
		t.Fatalf("a root-owned 0755 script under root-only directories: %v", err)
	}
	os.Chmod(script, 0o777)
	if os.Geteuid() != 0 {
		// lvsd not running as root runs scripts as itself: nothing to protect.
		if err := (ThisHost{}).Executable(script); err != nil {
			t.Errorf("as non-root, a writable script: %v", err)
		}
		return
	}
	if err := (ThisHost{}).Executable(script); err == nil || !strings.Contains(err.Error(), "writable by group or others") || !strings.Contains(err.Error(), "chmod go-w "+script) {
		t.Errorf("world-writable script: %v", err)
	}
	os.Chmod(script, 0o755)
	os.Chmod(dir, 0o777)
	if err := (ThisHost{}).Executable(script); err == nil || !strings.Contains(err.Error(), dir+" is writable") {
		t.Errorf("script in a world-writable directory: %v", err)
	}
	os.Chmod(dir, 0o755)
	os.Chown(script, 65534, 65534)
	if err := (ThisHost{}).Executable(script); err == nil || !strings.Contains(err.Error(), "owned by uid 65534") {
		t.Errorf("script owned by nobody: %v", err)
	}
	if err := (ThisHost{}).Executable("true"); err != nil {
		t.Errorf("a bare name found in PATH: %v", err)
	}
}
