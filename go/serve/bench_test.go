//go:build cgo

package serve_test

import (
	"context"
	"testing"
	"time"

	"github.com/cudago/cudago/go/internal/testutil"
	"github.com/cudago/cudago/go/nn"
	"github.com/cudago/cudago/go/serve"
)

// BenchmarkInfer measures the cost of one request through the batcher from many goroutines
// (RunParallel, GOMAXPROCS×4 of them): a 1-item request of the smallest model (a ReLU over
// 13×13×11 values), with Request.Outputs given so that the result allocates nothing. ns/op is
// the wall time per request at saturation (the model's run is a few microseconds per batch);
// allocs/op what the Go layer allocates per request.
func BenchmarkInfer(b *testing.B) {
	backend := nn.Reference
	if n, _ := cudagoDevices(); n > 0 {
		backend = nn.GPU
	}
	m := loadModel(b, "relu_c13_13x11.onnx", backend, 64)
	srv, err := serve.New(m, serve.Config{MaxQueueDelay: 50 * time.Microsecond})
	testutil.Must(b, "serve.New", err)
	defer srv.Close()
	x := make([]float32, m.Inputs()[0].Len(1))
	b.SetParallelism(4)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req := &serve.Request{Inputs: []any{x}, Outputs: [][]float32{make([]float32, m.Outputs()[0].Len(1))}}
		ctx := context.Background()
		for pb.Next() {
			if _, err := srv.Do(ctx, req); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	st, _ := srv.Stats()
	if st.Batches > 0 {
		b.ReportMetric(float64(st.Inferences)/float64(st.Batches), "items/batch")
	}
}
