package script

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// waitExited blocks until the process pid has exited, without reaping
// it (WNOWAIT): the zombie keeps its pid, group and session ids from
// reuse until cmd.Wait reaps it.
func waitExited(pid int) {
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, syscall.EINTR) {
			return
		}
	}
}

// signalSession sends sig to the process group sid and, if whole, to
// every process of the session sid: the members that moved to another
// group (a shell's background job under set -m) are in the session
// still. Finding them reads /proc, a few milliseconds, so it is done
// only when something of the script may have left its group.
func signalSession(sid int, sig syscall.Signal, whole bool) {
	_ = syscall.Kill(-sid, sig)
	if !whole {
		return
	}
	for _, pid := range sessionMembers(sid) {
		_ = syscall.Kill(pid, sig)
	}
}

// sessionMembers lists the processes of session sid, from /proc.
func sessionMembers(sid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == sid {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp session …: comm may hold spaces
		// and parentheses, so fields count from the last ')'.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(b[i+1:])
		if len(f) < 4 {
			continue
		}
		if s, _ := strconv.Atoi(string(f[3])); s == sid {
			pids = append(pids, pid)
		}
	}
	return pids
}
