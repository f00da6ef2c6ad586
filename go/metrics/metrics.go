package metrics

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/cudago/cudago/go/internal/capi"
)

// Options choose what a rendering holds.
type Options struct {
	// TritonNames adds Triton's series (nv_inference_*, microseconds, counters without _total;
	// nv_gpu_* and nv_energy_consumption with the label gpu_uuid) beside cudago's, for
	// dashboards and tools built for Triton.
	TritonNames bool
}

// Render returns the process's metrics in the Prometheus text exposition format (version
// 0.0.4).
func Render(o Options) ([]byte, error) { return capi.MetricsRender(o.TritonNames) }

// ContentType is the exposition's media type.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Handler serves Render's text (GET or HEAD; other methods get 405). A failed rendering is a
// 500 with the error, never a partial exposition.
func Handler(o Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		text, err := Render(o)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", ContentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(text)))
		if r.Method == http.MethodGet {
			w.Write(text)
		}
	})
}

// Type is a family's metric type.
type Type string

const (
	Counter   Type = "counter"
	Gauge     Type = "gauge"
	Histogram Type = "histogram"
)

// Sample is one line of a family: its full name (a histogram's carry _bucket, _sum or _count),
// labels and value.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Family is one metric with its samples.
type Family struct {
	Name, Help string
	Type       Type
	Samples    []Sample
}

// Snapshot is a typed view of one rendering.
type Snapshot struct {
	Families []Family
}

// Take renders the metrics and parses them into a Snapshot.
func Take(o Options) (*Snapshot, error) {
	text, err := Render(o)
	if err != nil {
		return nil, err
	}
	return Parse(text)
}

// Family returns the family of that name, or nil.
func (s *Snapshot) Family(name string) *Family {
	for i := range s.Families {
		if s.Families[i].Name == name {
			return &s.Families[i]
		}
	}
	return nil
}

// Value returns the value of the sample of that full name whose labels include every pair of
// match (the first such sample), and whether there is one.
func (s *Snapshot) Value(name string, match map[string]string) (float64, bool) {
	for _, f := range s.Families {
		for _, smp := range f.Samples {
			if smp.Name != name {
				continue
			}
			ok := true
			for k, v := range match {
				if smp.Labels[k] != v {
					ok = false
					break
				}
			}
			if ok {
				return smp.Value, true
			}
		}
	}
	return 0, false
}

// Sum returns the sum of the values of the samples of that full name whose labels include every
// pair of match.
func (s *Snapshot) Sum(name string, match map[string]string) float64 {
	var sum float64
	for _, f := range s.Families {
		for _, smp := range f.Samples {
			if smp.Name != name {
				continue
			}
			ok := true
			for k, v := range match {
				if smp.Labels[k] != v {
					ok = false
					break
				}
			}
			if ok {
				sum += smp.Value
			}
		}
	}
	return sum
}

// Parse reads the text exposition format (as Render writes it: HELP and TYPE before each
// family's samples, no timestamps) into a Snapshot.
func Parse(text []byte) (*Snapshot, error) {
	s := &Snapshot{}
	var cur *Family
	for n, line := range bytes.Split(text, []byte{'\n'}) {
		l := string(line)
		if l == "" {
			continue
		}
		bad := func(msg string) error { return fmt.Errorf("metrics: line %d: %s: %q", n+1, msg, l) }
		if strings.HasPrefix(l, "# HELP ") || strings.HasPrefix(l, "# TYPE ") {
			rest := l[7:]
			name, arg, _ := strings.Cut(rest, " ")
			if cur == nil || cur.Name != name {
				if s.Family(name) != nil {
					return nil, bad("family " + name + " appears twice")
				}
				s.Families = append(s.Families, Family{Name: name})
				cur = &s.Families[len(s.Families)-1]
			}
			if l[2] == 'H' {
				cur.Help = strings.NewReplacer(`\\`, `\`, `\n`, "\n").Replace(arg)
			} else {
				cur.Type = Type(arg)
			}
			continue
		}
		if strings.HasPrefix(l, "#") {
			continue
		}
		smp, err := parseSample(l)
		if err != nil {
			return nil, bad(err.Error())
		}
		if cur == nil || !belongs(smp.Name, cur) {
			return nil, bad("sample outside its family")
		}
		cur.Samples = append(cur.Samples, smp)
	}
	return s, nil
}

func belongs(name string, f *Family) bool {
	if name == f.Name {
		return true
	}
	if f.Type == Histogram {
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			if name == f.Name+suf {
				return true
			}
		}
	}
	return false
}

func parseSample(l string) (Sample, error) {
	smp := Sample{Labels: map[string]string{}}
	i := strings.IndexAny(l, "{ ")
	if i <= 0 {
		return smp, errors.New("no value")
	}
	smp.Name = l[:i]
	rest := l[i:]
	if rest[0] == '{' {
		rest = rest[1:]
		for {
			if strings.HasPrefix(rest, "}") {
				rest = rest[1:]
				break
			}
			eq := strings.Index(rest, `="`)
			if eq <= 0 {
				return smp, errors.New("bad label")
			}
			key := rest[:eq]
			rest = rest[eq+2:]
			var val strings.Builder
			closed := false
			for j := 0; j < len(rest); j++ {
				c := rest[j]
				if c == '\\' && j+1 < len(rest) {
					j++
					switch rest[j] {
					case 'n':
						val.WriteByte('\n')
					default:
						val.WriteByte(rest[j])
					}
					continue
				}
				if c == '"' {
					rest = rest[j+1:]
					closed = true
					break
				}
				val.WriteByte(c)
			}
			if !closed {
				return smp, errors.New("unterminated label value")
			}
			smp.Labels[key] = val.String()
			rest = strings.TrimPrefix(rest, ",")
		}
	}
	v := strings.TrimSpace(rest)
	switch v {
	case "+Inf":
		smp.Value = math.Inf(1)
	case "-Inf":
		smp.Value = math.Inf(-1)
	case "NaN":
		smp.Value = math.NaN()
	default:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return smp, errors.New("bad value")
		}
		smp.Value = f
	}
	return smp, nil
}
