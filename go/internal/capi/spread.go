//go:build cgo

package capi

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
)

// Worker is one device's share of a [Spread]: its device and the non-blocking stream that
// Spread created for it. A worker runs one job at a time, on one goroutine.
type Worker struct {
	index  int
	dev    Device
	stream *Stream
}

// Device returns the worker's device.
func (w Worker) Device() Device { return w.dev }

// Stream returns the worker's stream, on Device(). Spread closes it before it returns: do not
// keep it.
func (w Worker) Stream() *Stream { return w.stream }

// Index returns the worker's position in the devices given to Spread.
func (w Worker) Index() int { return w.index }

// Spread runs fn for each job in [0, jobs) over the given devices: one goroutine and one
// non-blocking stream per entry of devices (a device listed twice gets two workers), jobs handed
// out dynamically from a shared counter so that faster devices take more of them. Use
// [Devices] for every device of the host.
//
// fn should queue its GPU work on w.Stream(), with buffers of w.Device(). Work it leaves queued
// is synchronised when all jobs are done, before Spread returns; a job that reads results back
// (a synchronous copy, Stream.Synchronize) sees them at once. The first error returned by a job
// stops the handing out of further jobs (jobs already running finish) and is returned, wrapped
// with the job and device (errors.Is and errors.As see through it); otherwise the first error
// of the final synchronisation is returned. In every case all streams are synchronised and
// closed before Spread returns. A panic in fn is re-raised in the caller after that clean-up.
//
// ctx bounds the whole: once it is done no further job starts, the final synchronisation stops
// waiting (the streams are closed; work already queued on them still completes) and ctx's
// error is returned unless a job failed first. The context given to fn is cancelled at the first error,
// so that long jobs can stop early.
func Spread(ctx context.Context, devices []Device, jobs int,
	fn func(ctx context.Context, w Worker, job int) error) (err error) {
	const op = "spread"
	if err := ready(); err != nil {
		return err
	}
	if len(devices) == 0 {
		return errArg(op, "no devices")
	}
	if jobs < 0 {
		return errArg(op, "negative job count "+strconv.Itoa(jobs))
	}
	if fn == nil {
		return errArg(op, "nil job function")
	}
	if ctx == nil {
		return errArg(op, "nil context")
	}
	jobCtx, cancelJobs := context.WithCancel(ctx)
	defer cancelJobs()
	workers := make([]Worker, 0, len(devices))
	defer func() {
		for _, w := range workers {
			if cerr := w.stream.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}
	}()
	for i, d := range devices {
		s, err := NewStream(d, StreamOptions{NonBlocking: true})
		if err != nil {
			return err
		}
		workers = append(workers, Worker{index: i, dev: d, stream: s})
	}

	var (
		next     atomic.Int64
		stop     atomic.Bool
		mu       sync.Mutex
		firstErr error
		panicked any
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		stop.Store(true)
		cancelJobs()
	}
	for _, w := range workers {
		wg.Add(1)
		go func(w Worker) {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					mu.Lock()
					if panicked == nil {
						panicked = p
					}
					mu.Unlock()
					stop.Store(true)
				}
			}()
			for !stop.Load() {
				if err := ctx.Err(); err != nil {
					fail(fmt.Errorf("spread: %w", err))
					return
				}
				j := next.Add(1) - 1
				if j >= int64(jobs) {
					return
				}
				if err := fn(jobCtx, w, int(j)); err != nil {
					fail(fmt.Errorf("spread: job %d on %v: %w", j, w.dev, err))
					return
				}
			}
		}(w)
	}
	wg.Wait()
	for _, w := range workers {
		if err := w.stream.Wait(ctx); err != nil {
			fail(fmt.Errorf("spread: synchronize %v: %w", w.dev, err))
		}
	}
	if panicked != nil {
		panic(panicked) // the deferred clean-up closes the streams first
	}
	return firstErr
}
