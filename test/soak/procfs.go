package soak

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Usage is what a daemon holds of the host: the figures a leak grows.
type Usage struct {
	FDs     int
	Threads int
	RSSKiB  int64
}

// ReadUsage reads process pid's open descriptors (/proc/PID/fd) and its
// threads and resident set (/proc/PID/status).
func ReadUsage(pid int) (Usage, error) {
	dir := "/proc/" + strconv.Itoa(pid)
	fds, err := os.ReadDir(dir + "/fd")
	if err != nil {
		return Usage{}, fmt.Errorf("open descriptors of %d: %w", pid, err)
	}
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return Usage{}, fmt.Errorf("status of %d: %w", pid, err)
	}
	u := Usage{FDs: len(fds)}
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(val)
		if len(fields) == 0 {
			continue
		}
		switch key {
		case "Threads":
			u.Threads, err = strconv.Atoi(fields[0])
		case "VmRSS": // "  13404 kB"
			u.RSSKiB, err = strconv.ParseInt(fields[0], 10, 64)
		default:
			continue
		}
		if err != nil {
			return Usage{}, fmt.Errorf("status of %d: %s: %w", pid, key, err)
		}
		found++
	}
	if found != 2 {
		return Usage{}, fmt.Errorf("status of %d: no Threads or VmRSS line", pid)
	}
	return u, nil
}

// Leak bounds, from a daemon's first reading to its last: a steady
// daemon's descriptors come back to where they were (a few in flight at a
// reading: a control connection, a netlink dump), the Go runtime keeps a
// few more threads after a burst of blocking calls, and its heap settles
// within a few megabytes.
const (
	leakFDs     = 5
	leakThreads = 10
	leakRSSKiB  = 32 << 10
)

// leaks says how usage grew past the bounds from start to end, or "".
func leaks(start, end Usage) string {
	var out []string
	if d := end.FDs - start.FDs; d > leakFDs {
		out = append(out, fmt.Sprintf("%d more open descriptors", d))
	}
	if d := end.Threads - start.Threads; d > leakThreads {
		out = append(out, fmt.Sprintf("%d more threads", d))
	}
	if d := end.RSSKiB - start.RSSKiB; d > leakRSSKiB {
		out = append(out, fmt.Sprintf("RSS %d MiB larger", d>>10))
	}
	return strings.Join(out, ", ")
}
