package lab

import (
	"fmt"
	"os/exec"
	"runtime"
	"sync"

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

// spawner forks every process the lab starts, from one OS thread that stays
// locked for the life of the test process. PR_SET_PDEATHSIG fires when the
// *thread* that forked a child exits, not the process: a thread returned to
// the runtime's pool can be taken by any code that enters a namespace on a
// locked thread and then discards it on purpose (exiting locked), and its
// children would die with it. This thread never exits before the process.
var spawner struct {
	once sync.Once
	reqs chan spawnRequest
}

type spawnRequest struct {
	ns   netns.NsHandle
	cmd  *exec.Cmd
	done chan error
}

// spawn starts cmd in ns from the spawner thread.
func spawn(ns netns.NsHandle, cmd *exec.Cmd) error {
	spawner.once.Do(func() {
		spawner.reqs = make(chan spawnRequest)
		ready := make(chan error)
		go func() {
			runtime.LockOSThread() // never unlocked
			orig, err := netns.Get()
			ready <- err
			if err != nil {
				return
			}
			for r := range spawner.reqs {
				err := netns.Set(r.ns)
				if err == nil {
					err = r.cmd.Start()
					if rerr := netns.Set(orig); rerr != nil {
						// A spawner stuck in a lab namespace would start
						// everything after this in the wrong place.
						panic(fmt.Sprintf("lab: spawner cannot return to its namespace: %v", rerr))
					}
				}
				r.done <- err
			}
		}()
		if err := <-ready; err != nil {
			panic(fmt.Sprintf("lab: spawner: %v", err))
		}
	})
	done := make(chan error, 1)
	spawner.reqs <- spawnRequest{ns: ns, cmd: cmd, done: done}
	return <-done
}
