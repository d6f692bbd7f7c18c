package lab

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// namePrefix starts every namespace name the lab makes. Together with the
// rest of the scheme (see nsNamePattern) it is what Sweep matches on, so
// nothing that is not the lab's is ever removed.
const namePrefix = "lvl"

// Kinds of lab namespace.
const (
	kindHost    = 'h'
	kindNetwork = 'n'
)

// maxNameLen bounds host and network names; namespace names are files
// (no 15-character IFNAMSIZ limit) but should stay typeable.
const maxNameLen = 32

var (
	userNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)
	nsNamePattern   = regexp.MustCompile(`^` + namePrefix + `([0-9a-z]{1,13})-([0-9a-z]{1,13})-([hn])-([A-Za-z0-9][A-Za-z0-9_-]*)$`)
)

// nsID is a parsed lab namespace name.
type nsID struct {
	pid  int    // test process that made it
	seq  uint64 // lab number within that process
	kind byte   // kindHost or kindNetwork
	name string // the caller's host or network name
}

// labPrefix is the part of a namespace name shared by one lab.
func labPrefix(pid int, seq uint64) string {
	return namePrefix + strconv.FormatInt(int64(pid), 36) + "-" + strconv.FormatUint(seq, 36)
}

func (id nsID) prefix() string { return labPrefix(id.pid, id.seq) }

func (id nsID) String() string {
	return id.prefix() + "-" + string(id.kind) + "-" + id.name
}

// checkName validates a host or network name given by a test.
func checkName(name string) error {
	if len(name) == 0 || len(name) > maxNameLen || !userNamePattern.MatchString(name) {
		return fmt.Errorf("invalid name %q: want 1-%d of [A-Za-z0-9_-], not starting with _ or -", name, maxNameLen)
	}
	return nil
}

// parseNSName reports whether s is a lab namespace name, and its parts.
func parseNSName(s string) (nsID, bool) {
	m := nsNamePattern.FindStringSubmatch(s)
	if m == nil || len(m[4]) > maxNameLen {
		return nsID{}, false
	}
	pid, err := strconv.ParseInt(m[1], 36, 32)
	if err != nil || pid <= 0 {
		return nsID{}, false
	}
	seq, err := strconv.ParseUint(m[2], 36, 64)
	if err != nil {
		return nsID{}, false
	}
	// Reject non-canonical spellings (leading zeros) so that parse and
	// format agree and two names never denote the same lab.
	id := nsID{pid: int(pid), seq: seq, kind: m[3][0], name: m[4]}
	if id.String() != s {
		return nsID{}, false
	}
	return id, true
}

// isStale decides whether a lab namespace was left behind. A namespace of
// another process is stale when that process is gone; one of this process
// is stale when its lab is no longer open (its pid was reused, or a
// cleanup never ran). alive errs on the side of "alive": a reused pid only
// postpones the sweep, never removes a live lab.
func isStale(id nsID, self int, open func(prefix string) bool, alive func(pid int) bool) bool {
	if id.pid == self {
		return !open(id.prefix())
	}
	return !alive(id.pid)
}

// sysctlPath maps a sysctl key, dotted (net.ipv4.ip_forward) or slashed
// (net/ipv4/conf/eth0.100/rp_filter, needed when a component has a dot),
// to its file under /proc/sys. Only net.* keys are per namespace, so any
// other key is refused: writing it would change the whole machine.
func sysctlPath(key string) (string, error) {
	p := key
	if !strings.Contains(p, "/") {
		p = strings.ReplaceAll(p, ".", "/")
	}
	parts := strings.Split(p, "/")
	if len(parts) < 2 || parts[0] != "net" {
		return "", fmt.Errorf("sysctl %q: only per-namespace net.* keys are allowed", key)
	}
	for _, c := range parts {
		if c == "" || c == "." || c == ".." {
			return "", fmt.Errorf("sysctl %q: bad path component %q", key, c)
		}
	}
	return "/proc/sys/" + p, nil
}
