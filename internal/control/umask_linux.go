package control

import "syscall"

// umask sets the process's file mode mask and returns the previous one.
func umask(m int) int { return syscall.Umask(m) }
