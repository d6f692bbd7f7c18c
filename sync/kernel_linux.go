package sync

import (
	"errors"
	"fmt"
	"os"
	"slices"
	stdsync "sync"
	"syscall"

	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// procIPVS exists once the ip_vs module is loaded (in every namespace).
const procIPVS = "/proc/net/ip_vs"

// kernelTimeout bounds each send and receive, as a safety net only: the
// kernel answers before our sendto returns (see execute).
var kernelTimeout = unix.Timeval{Sec: 5}

// Kernel is the real Control: the sync daemons of one network namespace,
// over the generic netlink family "IPVS". moby/ipvs, which package ipvs
// uses, has no daemon commands, so these requests are built here
// (genl.go) and sent with vishvananda/netlink's socket.
type Kernel struct {
	family uint16

	mu   stdsync.Mutex // one request at a time; guards sock against Close
	sock *nl.NetlinkSocket
	seq  uint32
}

var _ Control = (*Kernel)(nil)

// OpenKernel connects to the sync daemons of the network namespace at
// netnsPath ("" = the caller's). It fails with ErrNoIPVS when the kernel
// has no IPVS; it never loads the module.
func OpenKernel(netnsPath string) (*Kernel, error) {
	// Not ipvs.CheckIPVS (sync imports no other domain package), and not
	// only the family lookup below: on a miss, that lookup makes the
	// kernel load a module that declares the family, ip_vs among them.
	if _, err := os.Stat(procIPVS); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("sync: %w: %s is absent: load the ip_vs module (modprobe ip_vs) or use a kernel built with IPVS", ErrNoIPVS, procIPVS)
	}
	s, err := socketAt(netnsPath)
	if err != nil {
		return nil, err
	}
	k := &Kernel{sock: s}
	if k.family, err = k.lookupFamily(); err != nil {
		k.Close()
		return nil, err
	}
	return k, nil
}

// socketAt opens a generic netlink socket in the namespace at path. The
// socket keeps its namespace for life, so later requests may come from
// any thread.
func socketAt(path string) (*nl.NetlinkSocket, error) {
	ns := netns.None()
	if path != "" {
		var err error
		if ns, err = netns.GetFromPath(path); err != nil {
			return nil, fmt.Errorf("sync: network namespace %s: %w", path, err)
		}
		defer ns.Close()
	}
	s, err := nl.GetNetlinkSocketAt(ns, netns.None(), unix.NETLINK_GENERIC)
	if err != nil {
		return nil, fmt.Errorf("sync: generic netlink socket%s: %w", where(path), err)
	}
	s.SetSendTimeout(&kernelTimeout)
	s.SetReceiveTimeout(&kernelTimeout)
	return s, nil
}

func where(path string) string {
	if path == "" {
		return ""
	}
	return " in " + path
}

// Close releases the socket.
func (k *Kernel) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.sock != nil {
		k.sock.Close()
		k.sock = nil
	}
	return nil
}

func (k *Kernel) lookupFamily() (uint16, error) {
	var id uint16
	var perr error
	err := k.execute(genlIDCtrl, 0, familyRequest(ipvsGenlName), func(msg []byte) {
		id, perr = parseFamilyID(msg)
	})
	if errors.Is(err, syscall.ENOENT) {
		return 0, fmt.Errorf("sync: %w: no generic netlink family %s: load the ip_vs module (modprobe ip_vs) or use a kernel built with IPVS", ErrNoIPVS, ipvsGenlName)
	}
	if err = errors.Join(err, perr); err != nil {
		return 0, fmt.Errorf("sync: look up generic netlink family %s: %w", ipvsGenlName, err)
	}
	return id, nil
}

// Start starts the daemon of state s (IPVS_CMD_NEW_DAEMON).
func (k *Kernel) Start(s State, c Config) error {
	if !s.Valid() {
		return fmt.Errorf("sync: start daemon: %w: %s is neither master nor backup", ErrInvalidConfig, s)
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("sync: start %s daemon: %w", s, err)
	}
	if err := k.execute(k.family, unix.NLM_F_ACK, newDaemonRequest(s, c), nil); err != nil {
		return startError(s, c, err)
	}
	return nil
}

// Stop stops the daemon of state s (IPVS_CMD_DEL_DAEMON).
func (k *Kernel) Stop(s State) error {
	if !s.Valid() {
		return fmt.Errorf("sync: stop daemon: %w: %s is neither master nor backup", ErrInvalidConfig, s)
	}
	err := k.execute(k.family, unix.NLM_F_ACK, delDaemonRequest(s), nil)
	if errors.Is(err, errNoAnswer) {
		// Stopping a daemon whose thread has not run yet (a stop right
		// after a start) makes kthread_stop return -EINTR, which
		// stop_sync_thread passes on after stopping everything, and
		// netlink_rcv_skb sends no ack for -EINTR. Ask what runs instead.
		ds, derr := k.Daemons()
		if derr == nil && !slices.ContainsFunc(ds, func(d Daemon) bool { return d.State == s }) {
			return nil
		}
	}
	if err != nil {
		return stopError(s, err)
	}
	return nil
}

// Daemons lists the running daemons (IPVS_CMD_GET_DAEMON dump), master
// first as the kernel dumps them.
func (k *Kernel) Daemons() ([]Daemon, error) {
	var out []Daemon
	var perr error
	err := k.execute(k.family, unix.NLM_F_DUMP, getDaemonRequest(), func(msg []byte) {
		d, err := parseDaemon(msg)
		if err != nil {
			perr = errors.Join(perr, err)
			return
		}
		out = append(out, d)
	})
	if err != nil {
		return nil, fmt.Errorf("sync: list daemons: %w", mapErrno(err))
	}
	if perr != nil {
		return nil, fmt.Errorf("sync: list daemons: %w", perr)
	}
	return out, nil
}

// errNoAnswer is a request the kernel handled without answering.
var errNoAnswer = errors.New("the kernel sent no answer")

// execute sends one request of family with payload (generic netlink
// header included) and hands each reply payload to each. Kernel errors
// come back as syscall.Errno.
//
// The kernel handles the request inside our sendto and queues every
// answer (the ack, a reply, the first part of a dump; later parts are made
// inside our recvmsg) before sendto returns. So an empty socket right
// after sending means no answer will come: errNoAnswer, at once, instead
// of a timeout.
func (k *Kernel) execute(family uint16, flags int, payload []byte, each func([]byte)) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.sock == nil {
		return errors.New("sync: kernel control is closed")
	}
	s := k.sock
	k.seq++
	seq := k.seq
	req := nl.NewNetlinkRequest(int(family), flags)
	req.Seq = seq
	req.AddRawData(payload)
	if err := s.Send(req); err != nil {
		return err
	}
	if !pending(s.GetFd()) {
		return errNoAnswer
	}
	pid, err := s.GetPid()
	if err != nil {
		return err
	}
	for {
		msgs, from, err := s.Receive()
		if err != nil {
			return err
		}
		if from.Pid != 0 {
			continue // not from the kernel
		}
		for _, m := range msgs {
			if m.Header.Seq != seq || m.Header.Pid != pid {
				continue // an answer to an earlier request that gave up
			}
			switch m.Header.Type {
			case unix.NLMSG_DONE, unix.NLMSG_ERROR:
				if len(m.Data) < 4 {
					return nil
				}
				if errno := -int32(ne.Uint32(m.Data)); errno != 0 {
					return syscall.Errno(errno)
				}
				return nil
			case family:
				if each != nil {
					each(m.Data)
				}
			}
			if m.Header.Flags&unix.NLM_F_MULTI == 0 && flags&unix.NLM_F_ACK == 0 {
				return nil // a single reply, and no ack asked for
			}
		}
	}
}

// pending reports whether the socket has something to read, without
// waiting or consuming it. An error to read is something too: Receive
// returns it.
func pending(fd int) bool {
	var b [1]byte
	_, _, err := unix.Recvfrom(fd, b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
	return !errors.Is(err, unix.EAGAIN)
}
