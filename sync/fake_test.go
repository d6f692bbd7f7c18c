package sync

import (
	"errors"
	"os"
	"syscall"
	"testing"
)

func TestFakeAnswersLikeTheKernel(t *testing.T) {
	f := NewFake()
	f.Interfaces = []string{"eth0"}
	c := Config{Interface: "eth0", SyncID: 1, MaxLen: 200}
	if err := f.Start(Master, c); err != nil {
		t.Fatal(err)
	}
	if err := f.Start(Master, c); !errors.Is(err, os.ErrExist) {
		t.Errorf("second master: %v, want os.ErrExist", err)
	}
	if err := f.Start(Backup, Config{Interface: "eth9"}); !errors.Is(err, ErrNoInterface) {
		t.Errorf("unknown interface: %v, want ErrNoInterface", err)
	}
	if err := f.Start(Backup, c); err != nil {
		t.Fatal(err)
	}
	ds, _ := f.Daemons()
	want := []Daemon{{Master, c.Effective(Master)}, {Backup, c.Effective(Backup)}}
	if len(ds) != 2 || ds[0] != want[0] || ds[1] != want[1] {
		t.Errorf("Daemons = %v, want %v (backup maxlen raised to 1024)", ds, want)
	}
	if err := f.Stop(Master); err != nil {
		t.Fatal(err)
	}
	if err := f.Stop(Master); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stop again: %v, want os.ErrNotExist", err)
	}
	f.Fail = func(c Call) error {
		if c.Op == OpStop {
			return syscall.EPERM
		}
		return nil
	}
	if err := f.Stop(Backup); !errors.Is(err, os.ErrPermission) {
		t.Errorf("injected EPERM: %v", err)
	}
	if got := len(f.Calls()); got != 7 {
		t.Errorf("%d calls recorded, want 7: %v", got, f.Calls())
	}
}
