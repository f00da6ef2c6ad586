package cudago

import (
	"context"
	"github.com/cudago/cudago/go/internal/capi"
)

// Worker is one device's share of a [Spread]: its device and the non-blocking stream that
// Spread created for it. A worker runs one job at a time, on one goroutine.
type Worker capi.Worker

// Device returns the worker's device.
func (w Worker) Device() Device {
	r0 := capi.Worker(w).Device()
	return Device(r0)
}

// Stream returns the worker's stream, on Device(). Spread closes it before it returns: do not
// keep it.
func (w Worker) Stream() *Stream {
	r0 := capi.Worker(w).Stream()
	return (*Stream)(r0)
}

// Index returns the worker's position in the devices given to Spread.
func (w Worker) Index() int {
	return capi.Worker(w).Index()
}

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
func Spread(ctx context.Context, devices []Device, jobs int, fn func(ctx context.Context, w Worker, job int) error) (err error) {
	var run func(ctx context.Context, w capi.Worker, job int) error
	if fn != nil { // a nil fn stays nil, for Spread's own check
		run = func(ctx context.Context, w capi.Worker, job int) error { return fn(ctx, Worker(w), job) }
	}
	return capi.Spread(ctx, capi.CastSlice[Device, capi.Device](devices), jobs, run)
}
