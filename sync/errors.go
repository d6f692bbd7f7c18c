package sync

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

var (
	// ErrNoIPVS means the running kernel has no IPVS: the ip_vs module is
	// not loaded (lvsd loads nothing) or not built.
	ErrNoIPVS = errors.New("the kernel has no IPVS")
	// ErrNoInterface means the daemon's interface does not exist in its
	// network namespace (ENODEV from start_sync_thread).
	ErrNoInterface = errors.New("no such interface")
	// ErrInvalidConfig means parameters that Validate or the kernel refuse.
	ErrInvalidConfig = errors.New("invalid sync daemon parameters")
)

// kernelError is an errno of the daemon commands with what it means here.
// It matches both its meaning (os.ErrExist, ErrNoIPVS, ...) and the errno.
type kernelError struct {
	msg  string
	errs []error
}

func (e *kernelError) Error() string   { return e.msg }
func (e *kernelError) Unwrap() []error { return e.errs }

// mapErrno translates the errnos of IPVS_CMD_NEW_DAEMON and
// IPVS_CMD_DEL_DAEMON (ip_vs_genl_set_daemon, start_sync_thread and
// stop_sync_thread in net/netfilter/ipvs) into errors.Is-able values.
func mapErrno(err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err
	}
	mean := func(what string, is error) error {
		errs := []error{err}
		if is != nil {
			errs = append(errs, is)
		}
		return &kernelError{msg: what + " (" + err.Error() + ")", errs: errs}
	}
	switch errno {
	case syscall.EEXIST: // start_sync_thread: ipvs->ms or backup_tinfo already set
		return mean("already running", os.ErrExist)
	case syscall.ESRCH: // stop_sync_thread: nothing to stop
		return mean("not running", os.ErrNotExist)
	case syscall.ENODEV: // __dev_get_by_name found no mcast_ifn
		return mean("no such interface", ErrNoInterface)
	case syscall.EPERM, syscall.EACCES: // GENL_ADMIN_PERM
		return mean("permission denied: needs CAP_NET_ADMIN in the namespace's user namespace", os.ErrPermission)
	case syscall.EINVAL:
		// Also the answer while the table has a destination of another
		// family than its service: the sync protocol cannot carry those
		// (mixed_address_family_dests in ip_vs_genl_new_daemon).
		return mean("the kernel refused the parameters, or the IPVS table mixes address families, which sync cannot carry", ErrInvalidConfig)
	case syscall.EAFNOSUPPORT: // an IPv6 group on a kernel without CONFIG_IP_VS_IPV6
		return mean("IPv6 sync is not supported by this kernel", errors.ErrUnsupported)
	case syscall.ENOPROTOOPT: // ip_vs_use_count_inc failed: the module is going away
		return mean("IPVS is being unloaded", ErrNoIPVS)
	}
	return err
}

func startError(s State, c Config, err error) error {
	return fmt.Errorf("sync: start %s daemon on %q: %w", s, c.Interface, mapErrno(err))
}

func stopError(s State, err error) error {
	return fmt.Errorf("sync: stop %s daemon: %w", s, mapErrno(err))
}
