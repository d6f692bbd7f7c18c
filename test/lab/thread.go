package lab

import (
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

// switched runs fn on a fresh goroutine locked to its OS thread, after
// enter has moved that thread into another network namespace.
//
// The namespace of a thread is per thread, not per process, so the thread
// is locked for the duration and moved back afterwards. A fresh goroutine,
// rather than the caller's, means the caller never runs in the wrong
// namespace, even when moving back fails: then the goroutine exits still
// locked and the Go runtime discards the thread instead of reusing it.
//
// Sockets opened and processes started by fn belong to the namespace fn
// ran in for their whole life. A panic in fn is re-raised in the caller,
// and runtime.Goexit (t.FailNow) is repeated in the caller, so t.Fatal
// inside fn behaves as it would on the test goroutine.
func switched(enter func() error, fn func() error) error {
	type result struct {
		err      error
		panicked bool
		panicVal any
		goexit   bool
	}
	done := make(chan result, 1)
	go func() {
		res := result{goexit: true} // cleared when fn returns or panics
		defer func() { done <- res }()

		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			res = result{err: fmt.Errorf("lab: get thread's network namespace: %w", err)}
			return
		}
		defer orig.Close()
		defer func() {
			if err := netns.Set(orig); err != nil {
				// Stay locked: the thread dies with this goroutine.
				res.err = fmt.Errorf("lab: restore thread's network namespace (thread discarded): %w; fn: %v", err, res.err)
				return
			}
			runtime.UnlockOSThread()
		}()
		if err := enter(); err != nil {
			res = result{err: err}
			return
		}
		func() {
			defer func() {
				// recover is nil during Goexit (panic(nil) is a
				// *runtime.PanicNilError), so this tells them apart.
				if r := recover(); r != nil {
					res = result{panicked: true, panicVal: r}
				}
			}()
			res.err = fn()
			res.goexit = false
		}()
	}()
	r := <-done
	if r.panicked {
		panic(r.panicVal)
	}
	if r.goexit {
		runtime.Goexit()
	}
	return r.err
}

// inNetns runs fn on a thread switched into ns; see switched.
func inNetns(ns netns.NsHandle, fn func() error) error {
	return switched(func() error {
		if err := netns.Set(ns); err != nil {
			return fmt.Errorf("lab: enter network namespace: %w", err)
		}
		return nil
	}, fn)
}
