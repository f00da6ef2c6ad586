// Package serve batches inference requests from many goroutines onto a model: the C++ core's
// dynamic batcher and request queue, with Triton's knobs (max batch size, max queue delay,
// preferred batch sizes, max queue size, priority levels, timeouts, ordering), execution
// instances per GPU (a stream and pinned staging each, so copies and compute of successive
// batches overlap; each captures the model's CUDA graphs for its batch sizes when the server
// starts: see Config.CaptureAllSizes), and results handed to Go by one goroutine that blocks in a single C call
// and takes many results per crossing (nothing on a core or CUDA thread calls into Go).
//
//	m, _ := nn.Load("resnet50.onnx", nn.Options{MaxBatch: 64})
//	srv, _ := serve.New(m, serve.Config{MaxQueueDelay: 2 * time.Millisecond})
//	defer srv.Close()
//	out, err := srv.Infer(ctx, image) // from as many goroutines as you like
//
// Requests carry one or more batch items; requests whose items have the same shape share a
// batch (a model's inputs have one item shape, so any other is a bad request, refused alone).
// Every result says why its batch closed (full, preferred size, delay, deadline) and its queue,
// copy and compute times (Stats); Server.Stats has the counters and the batch-size histogram.
//
// Memory and back-pressure: Go slices are copied once, during the call, into staging memory
// (pinned on a GPU) that is bounded (Config.MaxStagingBytes), as is the queue
// (Config.MaxQueueSize): past either a request is refused at once with cudago.ErrQueueFull,
// never queued without bound. Pinned cudago.HostBuffer inputs are read in place (zero-copy).
//
// Deadlines: a context deadline becomes the request's deadline; a queued request whose deadline
// passes fails at that moment (a timer, not a check when its batch would run), even while every
// instance is busy. Shutdown and Close stop intake and finish every accepted request: each gets a
// result or an error, none is lost.
package serve
