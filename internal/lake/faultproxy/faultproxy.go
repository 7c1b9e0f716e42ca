// Package faultproxy is a fault-injecting HTTP reverse proxy for tests: put
// between the worker and the GCS emulator (STORAGE_EMULATOR_HOST names the
// proxy), it answers a seeded fraction of requests with a fault instead of the
// emulator's answer: 429 or 503, a reset connection (before or after the
// emulator acted on the request), a delayed answer, or a stall (an answer, or
// half a body, then nothing).
package faultproxy

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fault is what the proxy does to one request.
type Fault int

const (
	None        Fault = iota // forwarded untouched
	TooMany                  // 429 Too Many Requests, not forwarded
	Unavailable              // 503 Service Unavailable, not forwarded
	Reset                    // connection reset, not forwarded
	ResetAfter               // forwarded, then the connection reset: the answer is lost
	Delay                    // forwarded, answered after Config.Delay
	Stall                    // a read answers half its body, anything else nothing, until Config.Stall passes
)

var names = [...]string{"none", "429", "503", "reset", "reset-after", "delay", "stall"}

func (f Fault) String() string {
	if int(f) < len(names) {
		return names[f]
	}
	return fmt.Sprintf("fault(%d)", int(f))
}

// Transient is every fault a client should ride out by retrying.
var Transient = []Fault{TooMany, Unavailable, Reset, ResetAfter, Delay, Stall}

// Config says which requests get which fault.
type Config struct {
	Seed uint64
	// Rate is the fraction of requests that get a fault (0 to 1).
	Rate float64
	// Faults are drawn uniformly for a faulty request (default Transient).
	Faults []Fault
	// Delay is how late a Delay fault answers.
	Delay time.Duration
	// Stall is how long a Stall fault holds a request (longer than the client's
	// timeout); MaxStalls caps how many requests stall (0: none), since every
	// stall costs the client its timeout.
	Stall     time.Duration
	MaxStalls int
}

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	srv   *httptest.Server
	rp    *httputil.ReverseProxy
	mu    sync.Mutex
	cfg   Config
	rnd   *rand.Rand
	count map[Fault]int
	reqs  int
}

// Start runs a proxy to upstream (host:port) until the test ends.
func Start(t testing.TB, upstream string, cfg Config) *Proxy {
	t.Helper()
	target := &url.URL{Scheme: "http", Host: upstream}
	p := &Proxy{count: map[Fault]int{}}
	p.rp = httputil.NewSingleHostReverseProxy(target)
	// The Host header stays the proxy's: the emulator serves the XML API (reads)
	// for its public host whatever the port.
	p.rp.ErrorLog = log.New(io.Discard, "", 0)
	p.Configure(cfg)
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

// Addr is the proxy's host:port, for STORAGE_EMULATOR_HOST.
func (p *Proxy) Addr() string { return strings.TrimPrefix(p.srv.URL, "http://") }

// Configure replaces the configuration (a new seed restarts the sequence).
func (p *Proxy) Configure(cfg Config) {
	if len(cfg.Faults) == 0 {
		cfg.Faults = Transient
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cfg = cfg
	p.rnd = rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
}

// Counts reports how many requests got each fault, None included.
func (p *Proxy) Counts() map[Fault]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[Fault]int, len(p.count))
	for f, n := range p.count {
		out[f] = n
	}
	return out
}

// Faulted is how many requests got a fault other than None.
func (p *Proxy) Faulted() int {
	n := 0
	for f, c := range p.Counts() {
		if f != None {
			n += c
		}
	}
	return n
}

// pick draws the fault of the next request.
func (p *Proxy) pick() (Fault, Config) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reqs++
	f := None
	if p.rnd.Float64() < p.cfg.Rate {
		f = p.cfg.Faults[p.rnd.IntN(len(p.cfg.Faults))]
		if f == Stall && p.count[Stall] >= p.cfg.MaxStalls {
			f = None
		}
	}
	p.count[f]++
	return f, p.cfg
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	f, cfg := p.pick()
	switch f {
	case TooMany, Unavailable:
		_, _ = io.Copy(io.Discard, r.Body)
		code := http.StatusServiceUnavailable
		if f == TooMany {
			code = http.StatusTooManyRequests
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"error":{"code":%d,"message":"injected %s"}}`, code, f)
	case Reset:
		reset(w)
	case ResetAfter:
		rec := httptest.NewRecorder()
		p.rp.ServeHTTP(rec, r)
		reset(w)
	case Delay:
		select {
		case <-time.After(cfg.Delay):
		case <-r.Context().Done():
			return
		}
		p.rp.ServeHTTP(w, r)
	case Stall:
		p.stall(w, r, cfg.Stall)
	default:
		p.rp.ServeHTTP(w, r)
	}
}

// stall answers a read's headers and half its body, anything else nothing, then
// holds the connection for d or until the client gives up.
func (p *Proxy) stall(w http.ResponseWriter, r *http.Request, d time.Duration) {
	if r.Method == http.MethodGet {
		rec := httptest.NewRecorder()
		p.rp.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if rec.Code == http.StatusOK && len(body) >= 2 {
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = io.Copy(w, bytes.NewReader(body[:len(body)/2]))
			if fl, ok := w.(http.Flusher); ok {
				fl.Flush()
			}
		}
	} else {
		_, _ = io.Copy(io.Discard, r.Body)
	}
	select {
	case <-time.After(d):
	case <-r.Context().Done():
	}
	reset(w)
}

// reset closes the client's connection abruptly (RST, no answer).
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("faultproxy: response writer cannot be hijacked")
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	_ = buf.Flush()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
