package daemon

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lvsd/lvsd/internal/control"
)

// Lock makes this process the one daemon of the control socket, before it
// touches anything: an exclusive flock on socket+".lock" (mode 0600),
// with this process's pid written in it. A second `lvsd run` fails here
// with control.ErrRunning naming the running daemon's pid and socket, so
// it opens no VRRP socket and changes no VIP, IPVS table or sync daemon.
// The kernel drops a flock when its holder dies, so the socket or lock
// file of a killed daemon never blocks a start. unlock empties the file
// and releases the lock; the file stays, since removing it would let a
// starter that opened it just before lock a file no longer in the folder
// while a third locks a new one.
func Lock(socket string) (unlock func(), err error) {
	path := socket + ".lock"
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// O_CLOEXEC (Go's default): a notify script's child that outlives the
	// daemon must not hold the lock after it.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: pid %s holds its control socket %s (lock %s)", control.ErrRunning, holder(f), socket, path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// A file left by an older run may carry another mode or a dead pid.
	err = f.Chmod(0o600)
	if err == nil {
		err = f.Truncate(0)
	}
	if err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		f.Truncate(0)
		f.Close() // releases the flock
	}, nil
}

// holder reads the pid the running daemon wrote into the lock file. It
// writes it right after it locks, so an empty file is read again briefly.
func holder(f *os.File) string {
	for range 20 {
		b, _ := io.ReadAll(io.NewSectionReader(f, 0, 32))
		if pid := strings.TrimSpace(string(b)); pid != "" {
			return pid
		}
		time.Sleep(5 * time.Millisecond)
	}
	return "(unknown)"
}
