package main

import "syscall"

// umask sets the process umask and returns the old one, so the control
// socket is never, even briefly, reachable by others.
func umask(m int) int { return syscall.Umask(m) }
