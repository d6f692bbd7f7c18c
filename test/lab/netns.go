package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// netnsDir is where named namespaces live, as with `ip netns`.
const netnsDir = "/run/netns"

var netnsDirOnce struct {
	sync.Mutex
	done bool
}

// prepareNetnsDir creates /run/netns and makes it a shared mount point,
// exactly as `ip netns add` does, so that unmounting a namespace here also
// unmounts it in other mount namespaces and the two tools agree.
func prepareNetnsDir() error {
	netnsDirOnce.Lock()
	defer netnsDirOnce.Unlock()
	if netnsDirOnce.done {
		return nil
	}
	if err := os.MkdirAll(netnsDir, 0o755); err != nil {
		return fmt.Errorf("lab: create %s: %w", netnsDir, err)
	}
	for madeMountPoint := false; ; madeMountPoint = true {
		err := unix.Mount("", netnsDir, "none", unix.MS_SHARED|unix.MS_REC, "")
		if err == nil {
			break
		}
		// EINVAL: not a mount point yet; make it one by binding it onto
		// itself, then retry once.
		if !errors.Is(err, unix.EINVAL) || madeMountPoint {
			return fmt.Errorf("lab: make %s a shared mount: %w", netnsDir, err)
		}
		if err := unix.Mount(netnsDir, netnsDir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("lab: bind %s onto itself: %w", netnsDir, err)
		}
	}
	netnsDirOnce.done = true
	return nil
}

// createNetns makes a new network namespace, bind-mounts it at
// /run/netns/name and returns an open handle to it. The creating thread
// is moved back to its namespace (see switched).
func createNetns(name string) (netns.NsHandle, error) {
	path := filepath.Join(netnsDir, name)
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return netns.None(), fmt.Errorf("lab: create namespace file: %w", err)
	}
	f.Close()
	err = switched(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("lab: unshare network namespace: %w", err)
		}
		return nil
	}, func() error {
		if err := unix.Mount("/proc/thread-self/ns/net", path, "none", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("lab: bind-mount namespace at %s: %w", path, err)
		}
		return nil
	})
	if err != nil {
		os.Remove(path)
		return netns.None(), err
	}
	h, err := netns.GetFromPath(path)
	if err != nil {
		removeNetnsFile(path)
		return netns.None(), fmt.Errorf("lab: open namespace %s: %w", path, err)
	}
	return h, nil
}

// removeNetnsFile unmounts and deletes a /run/netns entry. The kernel
// frees the namespace, and every interface in it, once nothing else
// (process, open fd, socket) refers to it.
func removeNetnsFile(path string) error {
	// MNT_DETACH: a concurrent opener must not make this fail. EINVAL:
	// not mounted (a file left between create and mount).
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("lab: unmount %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("lab: remove %s: %w", path, err)
	}
	return nil
}

// netnsInode returns the namespace inode behind a /run/netns entry, or 0
// if the entry is not a mounted namespace.
func netnsInode(path string) (uint64, error) {
	var fs unix.Statfs_t
	if err := unix.Statfs(path, &fs); err != nil {
		return 0, fmt.Errorf("lab: statfs %s: %w", path, err)
	}
	if fs.Type != unix.NSFS_MAGIC {
		return 0, nil
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, fmt.Errorf("lab: stat %s: %w", path, err)
	}
	return st.Ino, nil
}

// procNetns returns the network namespace inode of process pid, or 0 if
// it has none (gone, zombie) or cannot be read.
func procNetns(pid int) uint64 {
	link, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/net")
	if err != nil {
		return 0
	}
	// "net:[4026531840]"
	s, ok := strings.CutPrefix(link, "net:[")
	if !ok {
		return 0
	}
	ino, err := strconv.ParseUint(strings.TrimSuffix(s, "]"), 10, 64)
	if err != nil {
		return 0
	}
	return ino
}

// procsIn lists the processes (other than this one) whose network
// namespace is one of inodes.
func procsIn(inodes map[uint64]bool) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("lab: list processes: %w", err)
	}
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self || pid == 1 {
			continue
		}
		if ino := procNetns(pid); ino != 0 && inodes[ino] {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// killProcsIn SIGKILLs every process inside the given namespaces and
// waits (bounded) until none is left, so a namespace is not kept alive by
// a daemon that escaped its process group (setsid, double fork).
func killProcsIn(inodes map[uint64]bool) error {
	if len(inodes) == 0 {
		return nil
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		pids, err := procsIn(inodes)
		if err != nil {
			return err
		}
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("lab: processes %v still in lab namespaces after SIGKILL", pids)
		}
		for _, pid := range pids {
			killIfIn(pid, inodes)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// killIfIn SIGKILLs pid if it is still inside one of inodes. The pidfd
// pins the process first, so a pid that died and was reused by an
// unrelated process after the scan is never signalled.
func killIfIn(pid int, inodes map[uint64]bool) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return // gone
	}
	defer unix.Close(fd)
	if !inodes[procNetns(pid)] {
		return
	}
	unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
}
