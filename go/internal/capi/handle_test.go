//go:build cgo

package capi

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The use-after-free guard, without a GPU: users acquire and release concurrently while one of
// several closers wins; after the winner's close returns no user may still be inside, and no
// acquire may succeed any more.
func TestLifeCloseWaitsForUsers(t *testing.T) {
	rounds := 200
	if testing.Short() {
		rounds = 20
	}
	for r := 0; r < rounds; r++ {
		var l life
		l.init()
		var inside atomic.Int32
		var freed atomic.Bool
		var stop atomic.Bool
		var wg sync.WaitGroup
		for u := 0; u < 8; u++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					if !l.acquire() {
						return // closed: it stays closed
					}
					inside.Add(1)
					if freed.Load() {
						t.Errorf("a user acquired the handle after it was freed")
					}
					// Nested acquire, as Add(s, a, a, c) does: must never block.
					if l.acquire() {
						l.release()
					}
					time.Sleep(time.Microsecond)
					inside.Add(-1)
					l.release()
				}
			}()
		}
		time.Sleep(time.Duration(r%5) * 100 * time.Microsecond)
		var winners atomic.Int32
		var cwg sync.WaitGroup
		for c := 0; c < 3; c++ {
			cwg.Add(1)
			go func() {
				defer cwg.Done()
				if l.close() {
					winners.Add(1)
					if n := inside.Load(); n != 0 {
						t.Errorf("close returned with %d users inside", n)
					}
					freed.Store(true)
				}
			}()
		}
		cwg.Wait()
		if winners.Load() != 1 {
			t.Fatalf("%d closers won, want 1", winners.Load())
		}
		if l.acquire() {
			t.Fatalf("acquire succeeded after close")
		}
		if !l.isClosed() {
			t.Fatalf("isClosed() = false after close")
		}
		stop.Store(true)
		wg.Wait()
	}
}

func TestLifeCloseWithoutUsers(t *testing.T) {
	var l life
	l.init()
	if !l.acquire() {
		t.Fatal("acquire on a fresh handle failed")
	}
	l.release()
	done := make(chan bool)
	go func() { done <- l.close() }()
	select {
	case ok := <-done:
		if !ok {
			t.Fatal("first close returned false")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("close blocked with no users")
	}
	if l.close() {
		t.Fatal("second close returned true")
	}
}

// A finalizer hands its C destroy, which may wait for the GPU, to reclaim: reclaim must return
// while the destroy is still blocked (Go's finalizers share one goroutine), and the destroy must
// still run.
func TestReclaimNeverBlocksTheFinalizer(t *testing.T) {
	release, destroyed, returned := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		reclaim(func() {
			<-release
			close(destroyed)
		})
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("reclaim waited for its destroy")
	}
	close(release)
	select {
	case <-destroyed:
	case <-time.After(10 * time.Second):
		t.Fatal("the destroy never ran")
	}
}
