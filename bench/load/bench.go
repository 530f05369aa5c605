package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/agentcore-identity/agentcore/bench/internal/loadgen"
	"github.com/agentcore-identity/agentcore/bench/internal/target"
)

// Variants of a scenario's rows.
const (
	variantOurs = "agentcore"
	variantBare = "floor: bare net/http, same response bytes"
)

// bench is one harness run.
type bench struct {
	o   options
	tb  *tb
	rep *loadgen.Report
	log *log.Logger
	// sfx makes the names of created resources unique, so runs against
	// one external server do not collide.
	sfx string
	// idp is started on first use; idpErr remembers a failed start.
	idp    *identityProvider
	idpErr error
}

// site is a server under load and what the harness created on it.
type site struct {
	b      *bench
	env    *target.Env
	client *loadgen.Client
	conns  []*loadgen.Conn // one per worker
	setup  *loadgen.Conn   // set-up calls, never measured
	// Created on first use.
	workload, wat, apiKeyProvider, m2mProvider string
	// undo deletes what was created; it runs on external servers only
	// (an in-process server's store is thrown away whole).
	undo []func(context.Context)
}

func (b *bench) newSite(e *target.Env) *site {
	n := max(b.o.workers, b.o.pacedWorkers, b.o.sizeWorkers)
	c := e.Client(n)
	conns := make([]*loadgen.Conn, n)
	for i := range conns {
		conns[i] = c.Conn()
	}
	return &site{b: b, env: e, client: c, conns: conns, setup: c.Conn()}
}

func (s *site) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := len(s.undo) - 1; i >= 0 && s.env.Store == nil; i-- {
		s.undo[i](ctx)
	}
	s.client.Close()
	s.env.Close()
}

// identityProvider starts the OpenID provider once.
func (b *bench) identityProvider() (*identityProvider, error) {
	if b.idp == nil && b.idpErr == nil {
		b.idp, b.idpErr = startIdentityProvider(b.tb)
	}
	return b.idp, b.idpErr
}

// dataRequest is a restJson1 request of either AgentCore plane (they share
// the signing name).
func (s *site) dataRequest(path string, in any) (*loadgen.Request, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", path, err)
	}
	return loadgen.NewRequest(http.MethodPost, path, "application/json", "bedrock-agentcore", s.env.Region, body), nil
}

// call sends a set-up request and decodes its JSON answer into out.
func (s *site) call(ctx context.Context, req *loadgen.Request, out any) error {
	resp, err := s.setup.Do(ctx, req)
	if err != nil {
		return err
	}
	if err := loadgen.CheckOK(resp); err != nil {
		return fmt.Errorf("%s: %w", req.Path, err)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		return fmt.Errorf("%s: decode response: %w", req.Path, err)
	}
	return nil
}

// naError marks a scenario the server cannot run (yet).
type naError struct{ reason string }

func (e *naError) Error() string { return e.reason }

// notImplementedCodes are the answers of a server without the operation.
var notImplementedCodes = []string{"UnknownOperation", "InvalidAction", "UnrecognizedClient", "NotImplemented"}

// probe sends req once and returns a copy of its successful response. A
// server without the operation makes the scenario n/a.
func (s *site) probe(ctx context.Context, req *loadgen.Request) (loadgen.Response, error) {
	resp, err := s.setup.Do(ctx, req)
	if err != nil {
		return loadgen.Response{}, err
	}
	if err := loadgen.CheckOK(resp); err != nil {
		for _, code := range notImplementedCodes {
			if strings.Contains(err.Error(), code) {
				return loadgen.Response{}, &naError{"not implemented yet: " + code}
			}
		}
		return loadgen.Response{}, err
	}
	return loadgen.Response{Status: resp.Status, Header: resp.Header.Clone(), Body: bytes.Clone(resp.Body)}, nil
}

func naReason(err error) string {
	var na *naError
	if errors.As(err, &na) {
		return na.reason
	}
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return "set-up failed: " + msg
}

// request returns an Op sending req on the worker's own connection.
func request(conns []*loadgen.Conn, req *loadgen.Request) loadgen.Op {
	return func(ctx context.Context, w int) error {
		resp, err := conns[w].Do(ctx, req)
		if err != nil {
			return err
		}
		return loadgen.CheckOK(resp)
	}
}

func (b *bench) closed(workers int) loadgen.Config {
	return loadgen.Config{Workers: workers, Warmup: b.o.warmup, Duration: b.o.duration}
}

func (b *bench) paced(rate float64) loadgen.Config {
	return loadgen.Config{Workers: b.o.pacedWorkers, Warmup: b.o.warmup, Duration: b.o.duration, Rate: rate}
}

// measure runs op and logs the outcome on stderr.
func (b *bench) measure(ctx context.Context, label string, cfg loadgen.Config, op loadgen.Op) (*loadgen.Result, error) {
	b.log.Printf("%s: %s", label, describe(cfg))
	before := loadgen.ReadCPU()
	res, err := loadgen.Run(ctx, cfg, op)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	res.CPUSelf, res.CPUOthers = loadgen.Cores(before, loadgen.ReadCPU())
	b.log.Printf("%s: %s req/s, p50 %s, p99 %s, errors %d, CPU cores ours %.2f others %.2f", label,
		loadgen.Rate(res.Throughput), loadgen.Ms(res.Latency.P50), loadgen.Ms(res.Latency.P99), res.Errors, res.CPUSelf, res.CPUOthers)
	if res.FirstError != "" {
		b.log.Printf("%s: first error: %s", label, res.FirstError)
	}
	return &res, nil
}

func describe(cfg loadgen.Config) string {
	mode := "closed loop"
	if cfg.Rate > 0 {
		mode = "paced at " + loadgen.Rate(cfg.Rate) + " req/s"
	}
	return fmt.Sprintf("%s, %d workers, %v warm-up + %v", mode, cfg.Workers, cfg.Warmup, cfg.Duration)
}
