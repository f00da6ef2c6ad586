package serve

import (
	"context"
	"time"

	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/internal/capi"
	"github.com/cudago/cudago/go/nn"
)

// Config holds the batcher's knobs, Triton's by another name. The zero value takes every
// default: batches up to the model's max batch, no queue delay, no preferred sizes, 1024
// queued requests, one priority level, no timeout, 1 GiB of staging, the model's device,
// 2 execution instances per GPU (1 on the reference executor).
type Config struct {
	// MaxBatchSize is the most items a batch may hold (at most the model's MaxBatch; 0: that).
	MaxBatchSize int
	// MaxQueueDelay is how long the oldest queued request may wait for others to join its
	// batch; 0 sends what is queued as soon as an instance is free.
	MaxQueueDelay time.Duration
	// PreferredBatchSizes: a batch of one of these sizes is sent at once.
	PreferredBatchSizes []int
	// MaxQueueSize is the most requests that may wait (0: 1024); past it, a request is refused
	// at once with cudago.ErrQueueFull.
	MaxQueueSize int
	// PriorityLevels (0: one): requests of level 1 run before those of level 2, and so on.
	PriorityLevels int
	// DefaultPriority is the level of a request that names none (0: the lowest).
	DefaultPriority int
	// DefaultTimeout is the deadline of a request whose context has none (0: none).
	DefaultTimeout time.Duration
	// PreserveOrdering delivers results in submission order.
	PreserveOrdering bool
	// MaxStagingBytes caps the staging memory (pinned on a GPU) held by queued and running
	// requests (0: 1 GiB); past it a request is refused with cudago.ErrQueueFull.
	MaxStagingBytes int64
	// Devices lists the GPUs to run on (nil: the model's), each with InstancesPerDevice
	// execution instances (0: 2 on a GPU, 1 on the reference executor).
	Devices            []int
	InstancesPerDevice int
	// ConcurrentCompute lets a GPU's instances run their batches side by side. Without it
	// (the default) they compute one batch at a time, in the order enqueued, while the others
	// copy inputs and outputs: large batches then keep the whole GPU and the copies hide
	// behind them.
	ConcurrentCompute bool
	// CaptureAllSizes makes every GPU instance capture the model's CUDA graph for every batch
	// size from 1 to MaxBatchSize when the server starts. Without it, the preferred sizes and
	// MaxBatchSize are captured at start and any other size at its first batch, which then
	// takes milliseconds longer.
	CaptureAllSizes bool
	// Name is the model's name in the metrics (the "model" label; "" means "model").
	Name string
}

// CloseReason says why a batch was closed and sent.
//
// Its methods (documented with the type it aliases):
//   - String() string
type CloseReason = capi.NNCloseReason

const (
	CloseNone      CloseReason = capi.NNCloseNone      // the request never ran
	CloseFull      CloseReason = capi.NNCloseFull      // max batch size reached (or the next would not fit)
	ClosePreferred CloseReason = capi.NNClosePreferred // a preferred batch size was formed
	CloseDelay     CloseReason = capi.NNCloseDelay     // the oldest request waited MaxQueueDelay
	CloseDeadline  CloseReason = capi.NNCloseDeadline  // a member's deadline would have passed
	CloseShutdown  CloseReason = capi.NNCloseShutdown  // the server was draining
)

// Stats is what a result says of its run.
type Stats = capi.NNServeStats

// Result is the outcome of one request: the outputs (one []float32 per model output, in its
// order) and its Stats, or Err.
type Result = capi.NNServeResult

// ServerStats counts a server's requests and batches, with its batch-size histogram.
type ServerStats = capi.NNServerStats

// Request is one request with everything it may say. Inputs holds, per model input, a
// []float32 (or []byte for a uint8 image input), copied during the call; a
// *cudago.HostBuffer[float32] or *cudago.HostBuffer[uint8], read in place (zero-copy) when its
// batch runs, so it must not change until the result; or an nn.DeviceTensor, read in place.
// Outputs, when not nil, receive the results in place (one []float32 per model output, sized
// for the request's items), so the request allocates nothing for them.
type Request struct {
	Inputs   []any
	Outputs  [][]float32
	Priority int // 1 (highest) to Config.PriorityLevels; 0: Config.DefaultPriority
	Items    int // batch items; 0: from the inputs' lengths (needed for device inputs only)
}

// Server batches the requests of many goroutines onto a model. Its methods are safe for
// concurrent use. Close it when done.
type Server struct {
	c *capi.NNServer
}

// New starts a server for m. The server keeps the model alive: m may be closed before the
// server. Bad knobs are cudago.ErrInvalidArgument naming the field.
func New(m *nn.Model, cfg Config) (*Server, error) {
	c, err := capi.NewNNServer((*capi.NNModel)(m), capi.NNServerConfig(cfg))
	if err != nil {
		return nil, err
	}
	return &Server{c: c}, nil
}

// Infer runs one request of host inputs (one slice per model input; the item count follows from
// their lengths) and returns its outputs. ctx's deadline is the request's deadline: if it passes
// while the request waits in the queue, Infer returns at once an error matching
// cudago.ErrTimeout and context.DeadlineExceeded. Cancelling ctx removes a queued request
// (cudago.ErrCancelled, matching context.Canceled); one already running completes. A full
// queue is cudago.ErrQueueFull, a closed server cudago.ErrUnavailable, a bad request
// cudago.ErrInvalidArgument naming the input.
func (s *Server) Infer(ctx context.Context, inputs ...any) ([][]float32, error) {
	r, err := s.c.Infer(ctx, &capi.NNServeRequest{Inputs: inputs})
	return r.Outputs, err
}

// Do runs one request and returns its result, with the Stats of its run.
func (s *Server) Do(ctx context.Context, req *Request) (Result, error) {
	return s.c.Infer(ctx, internal(req))
}

// internal is req as the capi layer takes it: the public buffer types (cudago.HostBuffer,
// nn.DeviceTensor) are defined types of capi's, so they are converted (into a copy of the request:
// the caller's is left alone; requests of Go slices only are passed as they are).
func internal(req *Request) *capi.NNServeRequest {
	if req == nil {
		return nil
	}
	var conv []any
	for i, v := range req.Inputs {
		var c any
		switch t := v.(type) {
		case *cudago.HostBuffer[float32]:
			c = (*capi.HostBuffer[float32])(t)
		case *cudago.HostBuffer[uint8]:
			c = (*capi.HostBuffer[uint8])(t)
		case nn.DeviceTensor:
			c = capi.NNDeviceTensor(t)
		default:
			continue
		}
		if conv == nil {
			conv = append([]any(nil), req.Inputs...)
		}
		conv[i] = c
	}
	r := (*capi.NNServeRequest)(req)
	if conv != nil {
		cr := *r
		cr.Inputs = conv
		r = &cr
	}
	return r
}

// Submit queues one request and returns a channel that receives its result once (buffered:
// nobody needs to read it). A request refused at once gets its error on the channel.
func (s *Server) Submit(ctx context.Context, req *Request) <-chan Result {
	return s.c.Submit(ctx, internal(req))
}

// MaxBatchSize is the most items a batch (and so a request) may hold.
func (s *Server) MaxBatchSize() int { return s.c.MaxBatchSize() }

// Stats returns the server's counters and batch-size histogram.
func (s *Server) Stats() (ServerStats, error) { return s.c.Stats() }

// Shutdown stops intake (later requests fail with cudago.ErrUnavailable) and returns when
// every accepted request has its result; with cancelQueued the queued ones fail with
// cudago.ErrCancelled instead of running.
func (s *Server) Shutdown(cancelQueued bool) error { return s.c.Shutdown(cancelQueued) }

// Close drains the server (every accepted request gets its result, none is lost) and frees it.
// A second Close returns the first one's error.
func (s *Server) Close() error { return s.c.Close() }
