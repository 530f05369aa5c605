// Command load is agentcore's load harness. It starts the server in-process
// on loopback (SQLite in a temporary file, or a fresh PostgreSQL database,
// optionally several replicas) or targets a running one, loads each
// credential operation from N connections with pre-serialized, SigV4-signed
// requests, measures each operation's floors in the same run with the same
// harness (a bare net/http handler returning the same bytes, the raw
// cryptography), repeats each at a fixed share of its peak open-loop, and
// compares vend latency with few and many stored tokens. It prints a
// Markdown report (or JSON) with the targets of issue 7.
//
//	go run ./bench/load                            # everything, 1M stored tokens
//	go run ./bench/load -rows 100000 -d 5s         # quicker
//	go run ./bench/load -store postgres -replicas 2
//	go run ./bench/load -endpoint http://127.0.0.1:8400 -credentials .agentcore/credentials
//
// A server loaded through -endpoint must run with
// --rate-limit-token-requests 0 --allow-private-network (the harness's
// identity provider listens on loopback).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/agentcore-identity/agentcore/bench/internal/loadgen"
	"github.com/agentcore-identity/agentcore/bench/internal/target"
	"github.com/agentcore-identity/agentcore/internal/cli/connect"
	"github.com/agentcore-identity/agentcore/internal/config"
	"github.com/agentcore-identity/agentcore/internal/server"
)

func main() {
	o, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	for _, r := range []struct {
		path, what string
		start      func(io.Writer) error
		stop       func()
	}{
		{o.wholeProfile(), "cpu profile", pprof.StartCPUProfile, pprof.StopCPUProfile},
		{o.trace, "execution trace", trace.Start, trace.Stop},
	} {
		if r.path == "" {
			continue
		}
		stop, err := startRecording(r.path, r.what, r.start, r.stop)
		if err != nil {
			return err
		}
		defer stop()
	}
	sfx := make([]byte, 4)
	_, _ = rand.Read(sfx) // crypto/rand.Read never fails
	b := &bench{o: o, tb: &tb{}, sfx: hex.EncodeToString(sfx), log: log.New(stderr, "load: ", log.Ltime)}
	defer b.tb.close()

	var serverLog io.Writer
	if o.serverLog != "" {
		f, err := os.Create(o.serverLog)
		if err != nil {
			return err
		}
		defer f.Close()
		serverLog = f
	}
	// newEnv starts a fresh server under load (each call its own store).
	newEnv := func(ctx context.Context) (*target.Env, error) {
		if o.endpoint != "" {
			creds, err := o.creds()
			if err != nil {
				return nil, err
			}
			return target.External(o.endpoint, o.region, creds), nil
		}
		return target.StartLocal(ctx, target.Local{Backend: o.store, PostgresURL: o.postgresURL, Replicas: o.replicas,
			TmpDir: o.tmpDir, ServerLog: serverLog})
	}

	e, err := newEnv(ctx)
	if err != nil {
		return fmt.Errorf("start server: %w", err)
	}
	b.rep = newReport(o, e)
	startLoad := loadAverage()
	primary := b.newSite(e)
	for _, sc := range scenarios() {
		if !o.selected(sc.key) {
			continue
		}
		if err := b.runScenario(ctx, primary, sc); err != nil {
			primary.close()
			return err
		}
	}
	primary.close()
	if o.selected("size") {
		if o.endpoint != "" {
			b.storeSizeNA("needs the in-process server: the harness fills the store directly")
		} else {
			e, err := newEnv(ctx)
			if err != nil {
				return fmt.Errorf("start server for the store-size scenario: %w", err)
			}
			if err := b.storeSize(ctx, e); err != nil {
				return err
			}
		}
	}

	// Other work on the machine takes CPU from both sides of the loopback;
	// the load average lets readers judge a run's noise.
	b.rep.Machine = append(b.rep.Machine, loadgen.Field{Name: "load average 1/5/15 min (start → end)", Value: startLoad + " → " + loadAverage()})

	if o.out != "" {
		f, err := os.Create(o.out)
		if err != nil {
			return err
		}
		if err := b.rep.WriteMarkdown(f); err != nil {
			_ = f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	if o.json {
		return b.rep.WriteJSON(stdout)
	}
	return b.rep.WriteMarkdown(stdout)
}

// options are the command-line settings.
type options struct {
	workers, pacedWorkers, sizeWorkers int
	sizeRepeats                        int
	warmup, duration                   time.Duration
	pacedShare                         float64
	rows, smallRows                    int
	scenarios                          string
	store, postgresURL, tmpDir         string
	replicas                           int
	endpoint, region                   string
	accessKey, secretKey               string
	credentials, profile               string
	out                                string
	json                               bool
	cpuprofile, trace, serverLog       string
	profilePeak                        bool
}

// startRecording starts a recorder (a CPU profile, an execution trace)
// writing to a new file at path; the returned function stops it and
// closes the file.
func startRecording(path, what string, start func(io.Writer) error, stop func()) (func() error, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := start(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return func() error {
		stop()
		return f.Close()
	}, nil
}

// wholeProfile is the CPU profile of the whole run, if one is asked for.
func (o options) wholeProfile() string {
	if o.profilePeak {
		return ""
	}
	return o.cpuprofile
}

// allScenarios are the -scenarios names.
var allScenarios = []string{"apikey", "m2m", "wat", "jwt", "sts", "size"}

func (o options) selected(key string) bool {
	if o.scenarios == "all" {
		return true
	}
	for _, s := range strings.Split(o.scenarios, ",") {
		if strings.TrimSpace(s) == key {
			return true
		}
	}
	return false
}

func (o options) creds() (aws.Credentials, error) {
	if o.accessKey != "" || o.secretKey != "" {
		if o.accessKey == "" || o.secretKey == "" {
			return aws.Credentials{}, errors.New("-access-key and -secret-key go together")
		}
		return aws.Credentials{AccessKeyID: o.accessKey, SecretAccessKey: o.secretKey}, nil
	}
	return connect.ReadProfile(o.credentials, o.profile)
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.IntVar(&o.workers, "c", 16, "connections (workers) of the closed-loop runs")
	fs.IntVar(&o.pacedWorkers, "paced-c", 64, "most requests in flight during paced runs")
	fs.IntVar(&o.sizeWorkers, "size-c", 1, "connections of the store-size runs (1 = unloaded latency)")
	fs.IntVar(&o.sizeRepeats, "size-repeats", 3, "store-size windows are split into this many runs; the lowest p50 counts")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "warm-up before each measured window")
	fs.DurationVar(&o.duration, "d", 10*time.Second, "measured window of each run")
	fs.Float64Var(&o.pacedShare, "paced-share", 0.5, "offered load of the paced pass, as a share of the measured peak")
	fs.IntVar(&o.rows, "rows", 1_000_000, "stored token records of the large store-size run")
	fs.IntVar(&o.smallRows, "small-rows", 1000, "stored token records of the small store-size run")
	fs.StringVar(&o.scenarios, "scenarios", "all", "comma-separated subset of "+strings.Join(allScenarios, ","))
	fs.StringVar(&o.store, "store", config.StoreSQLite, "in-process store: sqlite (temporary file) or postgres (fresh database)")
	fs.StringVar(&o.postgresURL, "postgres-url", os.Getenv("AGENTCORE_TEST_POSTGRES_URL"), "admin postgres:// URL for -store postgres (default $AGENTCORE_TEST_POSTGRES_URL)")
	fs.StringVar(&o.tmpDir, "tmpdir", "", "parent of the temporary data directory (default the system's)")
	fs.IntVar(&o.replicas, "replicas", 1, "in-process replicas sharing the store; requests go round robin")
	fs.StringVar(&o.endpoint, "endpoint", "", "load a running server at this URL instead (start it with --rate-limit-token-requests 0 --allow-private-network)")
	fs.StringVar(&o.region, "region", config.Default().Region, "region of -endpoint")
	fs.StringVar(&o.accessKey, "access-key", "", "access key id for -endpoint")
	fs.StringVar(&o.secretKey, "secret-key", "", "secret access key for -endpoint")
	fs.StringVar(&o.credentials, "credentials", ".agentcore/credentials", "shared-credentials file for -endpoint (written by agentcore server)")
	fs.StringVar(&o.profile, "profile", server.CredentialsProfile, "profile in -credentials")
	fs.StringVar(&o.out, "out", "", "also write the Markdown report to this file")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON instead of Markdown")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the whole run (client and in-process server)")
	fs.BoolVar(&o.profilePeak, "profile-peak", false, "limit -cpuprofile to each scenario's closed-loop run against our server, one file per scenario (FILE.<scenario>)")
	fs.StringVar(&o.trace, "trace", "", "write a Go execution trace of the whole run (go tool trace); keep -d short")
	fs.StringVar(&o.serverLog, "server-log", "", "write the in-process server's request log here (default: discarded)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.workers < 1 || o.pacedWorkers < 1 || o.sizeWorkers < 1 || o.sizeRepeats < 1:
		return o, errors.New("-c, -paced-c, -size-c and -size-repeats must be at least 1")
	case o.duration <= 0 || o.warmup < 0:
		return o, errors.New("-d must be positive and -warmup not negative")
	case o.pacedShare <= 0 || o.pacedShare > 1:
		return o, errors.New("-paced-share must be in (0, 1]")
	case o.smallRows < 0 || o.rows < o.smallRows:
		return o, errors.New("-rows must be at least -small-rows")
	case o.store != config.StoreSQLite && o.store != config.StorePostgres:
		return o, fmt.Errorf("-store %q: sqlite or postgres", o.store)
	case o.replicas < 1:
		return o, errors.New("-replicas must be at least 1")
	case o.profilePeak && o.cpuprofile == "":
		return o, errors.New("-profile-peak needs -cpuprofile")
	}
	for _, s := range strings.Split(o.scenarios, ",") {
		if s = strings.TrimSpace(s); s != "all" && !slices.Contains(allScenarios, s) {
			return o, fmt.Errorf("-scenarios: unknown %q (have %s)", s, strings.Join(allScenarios, ","))
		}
	}
	return o, nil
}

// newReport starts the report with the machine and the settings.
func newReport(o options, e *target.Env) *loadgen.Report {
	serverDesc := fmt.Sprintf("in-process, loopback, %d replica(s), round robin per request", len(e.URLs))
	if o.endpoint != "" {
		serverDesc = "external endpoint " + o.endpoint
	}
	return &loadgen.Report{
		Title: "agentcore-identity load harness",
		Machine: []loadgen.Field{
			{Name: "CPU", Value: cpuModel()},
			{Name: "CPUs (runtime.NumCPU)", Value: fmt.Sprint(runtime.NumCPU())},
			{Name: "GOMAXPROCS", Value: fmt.Sprint(runtime.GOMAXPROCS(0))},
			{Name: "Go", Value: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH},
			{Name: "started", Value: time.Now().UTC().Format(time.RFC3339)},
		},
		Settings: []loadgen.Field{
			{Name: "server", Value: serverDesc},
			{Name: "store", Value: e.Backend},
			{Name: "closed-loop connections", Value: fmt.Sprintf("%d (CPU-bound in-process floors: GOMAXPROCS goroutines)", o.workers)},
			{Name: "paced pass", Value: fmt.Sprintf("%.0f%% of each peak, open loop, up to %d in flight", 100*o.pacedShare, o.pacedWorkers)},
			{Name: "warm-up + window per run", Value: fmt.Sprintf("%v + %v", o.warmup, o.duration)},
			{Name: "store-size runs", Value: fmt.Sprintf("%s vs %s token records, %d connection(s), closed loop, best p50 of %d runs of %v",
				thousands(o.smallRows), thousands(o.rows), o.sizeWorkers, o.sizeRepeats, o.duration/time.Duration(o.sizeRepeats))},
			{Name: "client", Value: "pre-serialized bodies, SigV4 (aws-sdk-go-v2 signer) with the current X-Amz-Date; a connection reuses its signature within the same second"},
		},
		Notes: []string{
			"Client and server share the machine's CPUs (loopback, one process); every floor is measured the same way in the same run, so ratios compare like with like. The CPU column is cores used by this process (client, in-process server, floors) and by everything else on the machine (other processes, PostgreSQL, an external server, hypervisor steal): a run whose others column is high was measured on a busy machine.",
			"Every credential vend appends a hash-chained audit event, committed to the store (together with concurrent vends' events) before the response is released; the component row prices that write alone.",
			"A vend reads its workload identity, provider and vault token from the server's read cache; the vault-read rows of the store-size table time the store read a cache miss makes instead, over random stored tokens.",
			"Throughput counts successful requests completed in the window; p50/p99 are nearest-rank over every successful request started (paced: due) in it, a uniform sample beyond 1M. Paced latency counts from each request's scheduled start, so queueing is not hidden (no coordinated omission), and achieved below offered means the server fell behind.",
			"The in-process server runs with the per-account token rate limit off and its request log discarded (-server-log to keep it).",
		},
	}
}

// loadAverage is /proc/loadavg's first three fields, or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

// cpuModel is the CPU's marketing name on Linux, else the architecture.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}
