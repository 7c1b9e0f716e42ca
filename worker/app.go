package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shoplake/lakehouse/internal/audit"
	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/fail"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/logx"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/specs"
	"github.com/shoplake/lakehouse/tasks"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// run is the whole program: it builds the CLI on the given streams, runs it, prints
// a failure as one line on stderr and returns the exit code (DESIGN section 5).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := &globals{stdout: stdout, stderr: stderr, argv0: "worker"}
	if len(args) > 0 {
		g.argv0 = args[0]
	}
	app := newApp(g)
	err := app.RunContext(ctx, args)
	if err == nil {
		return fail.OK
	}
	code := fail.Code(err)
	if !g.actionStarted {
		// urfave/cli rejected the command line (unknown flag, missing required flag).
		code = fail.BadUsage
	}
	var specErrs spec.Errors
	// A failure about lines of an input file (a malformed CSV) lists them as
	// "file:line: cause" before its one summary line.
	var fileLines interface{ Lines() []string }
	switch {
	case errors.As(err, &specErrs):
		for _, e := range specErrs {
			fmt.Fprintln(stderr, e.Error())
		}
		fmt.Fprintf(stderr, "worker: the spec has %d error(s)\n", len(specErrs))
	case errors.As(err, &fileLines):
		for _, l := range fileLines.Lines() {
			fmt.Fprintln(stderr, l)
		}
		fmt.Fprintf(stderr, "worker: %s\n", oneLine(err.Error()))
	default:
		fmt.Fprintf(stderr, "worker: %s\n", oneLine(err.Error()))
	}
	return code
}

// oneLine keeps a failure on one line for log scrapers and people alike.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// globals carries what the global flags configure to the commands.
type globals struct {
	stdout, stderr io.Writer
	// argv0 is how the user invoked the worker, for the commands we suggest.
	argv0    string
	log      *slog.Logger
	terminal bool
	// actionStarted tells a command's own failure from a command-line error.
	actionStarted bool
	// xcomPath is where task commands leave their XCom summary ("" = nowhere).
	xcomPath string
}

func newApp(g *globals) *cli.App {
	app := &cli.App{
		Name:           "worker",
		Usage:          "run the tasks of the spec-driven medallion lakehouse pipeline",
		Version:        version,
		Writer:         g.stdout,
		ErrWriter:      g.stderr,
		ExitErrHandler: func(*cli.Context, error) {}, // exit codes are decided in run
		OnUsageError: func(c *cli.Context, err error, isSub bool) error {
			return fail.Usage(err)
		},
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "specs", EnvVars: []string{"WORKER_SPECS"}, Usage: "spec folder (pipeline.yaml + sql/); default: the embedded reference specs"},
			&cli.StringFlag{Name: "lake", EnvVars: []string{"WORKER_LAKE"}, Value: "./lake", Usage: "lake root: a local directory or gs://bucket/prefix"},
			&cli.StringFlag{Name: "run-id", EnvVars: []string{"WORKER_RUN_ID"}, Usage: "run id (default: generated); other characters than [A-Za-z0-9_.-] become _"},
			&cli.StringFlag{Name: "log-format", EnvVars: []string{"WORKER_LOG_FORMAT"}, Value: logx.Auto, Usage: "auto (text on a terminal, JSON otherwise), text or json"},
			&cli.StringFlag{Name: "log-level", EnvVars: []string{"WORKER_LOG_LEVEL"}, Value: "info", Usage: "debug, info, warn or error (demo on a terminal defaults to warn: its progress lines say what runs)"},
			&cli.StringFlag{Name: "memory-limit", EnvVars: []string{"WORKER_MEMORY_LIMIT"}, Usage: "DuckDB memory_limit, e.g. 2GB (default: 60% of the cgroup or machine memory, at most 640MB)"},
			&cli.IntFlag{Name: "threads", EnvVars: []string{"WORKER_THREADS"}, Usage: "DuckDB threads (default: the CPU quota)"},
			&cli.StringFlag{Name: "work-dir", EnvVars: []string{"WORKER_WORK_DIR"}, Usage: "scratch folder for DuckDB spills and staged inputs (default: the OS temp dir)"},
			&cli.StringFlag{Name: "xcom-file", EnvVars: []string{"WORKER_XCOM_FILE"}, Usage: "write the task's XCom summary (status, row counts, audit URI) here; WORKER_XCOM=1 means " + audit.DefaultXComPath},
			&cli.StringFlag{Name: "work-dir-limit", EnvVars: []string{"WORKER_WORK_DIR_LIMIT"}, Usage: "most a task may stage into --work-dir (inputs downloaded from a GCS lake) and spill there (DuckDB), e.g. 20GB; default no limit"},
			&cli.IntFlag{Name: "io-retries", EnvVars: []string{"WORKER_IO_RETRIES"}, Value: lake.DefaultIORetries, Usage: "retries of one GCS or BigQuery call after its first attempt fails (429, 5xx, reset, timeout), with jittered exponential backoff; then the task exits 1"},
			&cli.DurationFlag{Name: "io-timeout", EnvVars: []string{"WORKER_IO_TIMEOUT"}, Value: lake.DefaultIOTimeout, Usage: "how long one GCS or BigQuery attempt may go without an answer (metadata calls, uploads) or a byte (reads) before it is retried"},
			&cli.StringFlag{Name: "now", EnvVars: []string{"WORKER_NOW"}, Usage: "pretend the time is this RFC 3339 instant (tests, replays)", Hidden: true},
			&cli.StringFlag{Name: "warehouse", EnvVars: []string{"WORKER_WAREHOUSE"}, Value: "duckdb", Usage: "gold warehouse: duckdb or bigquery"},
			&cli.StringFlag{Name: "warehouse-path", EnvVars: []string{"WORKER_WAREHOUSE_PATH"}, Usage: "DuckDB warehouse file (default <lake>/warehouse.duckdb for a local lake)"},
			&cli.StringFlag{Name: "bq-project", EnvVars: []string{"WORKER_BQ_PROJECT"}, Usage: "BigQuery project of the warehouse (datasets are named after the layers)"},
			&cli.StringFlag{Name: "bq-location", EnvVars: []string{"WORKER_BQ_LOCATION"}, Usage: "BigQuery location of the datasets and jobs, e.g. EU or us-central1"},
			&cli.StringFlag{Name: "bq-endpoint", EnvVars: []string{"WORKER_BQ_ENDPOINT"}, Usage: "BigQuery API endpoint (an emulator; no authentication)", Hidden: true},
		},
		Before: func(c *cli.Context) error {
			g.terminal = logx.IsTerminal(g.stderr)
			var level slog.Level
			if err := level.UnmarshalText([]byte(c.String("log-level"))); err != nil {
				return fail.Usage(fmt.Errorf("--log-level %q: want debug, info, warn or error", c.String("log-level")))
			}
			if g.terminal && !c.IsSet("log-level") && c.Args().First() == "demo" {
				level = slog.LevelWarn
			}
			log, err := logx.New(g.stderr, logx.Options{Format: c.String("log-format"), Terminal: g.terminal, Level: level})
			if err != nil {
				return fail.Usage(err)
			}
			g.log = log
			g.xcomPath = c.String("xcom-file")
			if g.xcomPath == "" && os.Getenv("WORKER_XCOM") != "" && os.Getenv("WORKER_XCOM") != "0" {
				g.xcomPath = audit.DefaultXComPath
			}
			return nil
		},
		Commands: []*cli.Command{
			demoCommand(g),
			runCommand(g),
			generateCommand(g),
			bronzeCommand(g),
			silverCommand(g),
			publishCommand(g),
			enrichedCommand(g),
			sqlCommand(g),
			dimsCommand(g),
			rollbackCommand(g),
			gcCommand(g),
			goldCommand(g),
			specsCommand(g),
			dagsCommand(g),
		},
	}
	return app
}

// action wraps a command so run can tell its errors from command-line errors.
func (g *globals) action(f func(*cli.Context) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		g.actionStarted = true
		return f(c)
	}
}

// loadSpec loads --specs, or the embedded reference spec.
func loadSpec(c *cli.Context) (*spec.Spec, error) {
	var s *spec.Spec
	var err error
	if dir := c.String("specs"); dir != "" {
		if st, serr := os.Stat(dir); serr != nil || !st.IsDir() {
			return nil, fail.Usage(fmt.Errorf("--specs %s: not a spec folder", dir))
		}
		s, err = spec.Load(os.DirFS(dir), strings.TrimSuffix(dir, "/"))
	} else {
		s, err = spec.Load(specs.Shop(), specs.ShopDisplay)
	}
	if err != nil {
		return nil, fail.Usage(err)
	}
	return s, nil
}

// env builds the task environment from the global flags.
func (g *globals) env(c *cli.Context) (*tasks.Env, error) {
	s, err := loadSpec(c)
	if err != nil {
		return nil, err
	}
	now := func() time.Time { return time.Now().UTC() }
	if v := c.String("now"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, fail.Usage(fmt.Errorf("--now %q: want an RFC 3339 time such as 2026-11-21T03:00:00Z", v))
		}
		offset := time.Since(t)
		now = func() time.Time { return time.Now().Add(-offset).UTC() }
	}
	runID := c.String("run-id")
	if runID == "" {
		runID = lake.NewRunID(now())
	} else if lake.CheckRunID(runID) != nil {
		safe := lake.SafeRunID(runID)
		g.log.Info("run id made safe", "given", runID, "run_id", safe)
		runID = safe
	}
	retry, err := ioRetry(c)
	if err != nil {
		return nil, err
	}
	l, err := lake.OpenWith(c.Context, c.String("lake"), lake.Options{Retry: retry})
	var pathErr *fs.PathError
	switch {
	case errors.As(err, &pathErr):
		// The folder cannot be made (a read-only or full file system, no
		// permission): the machine's problem, not the flag's.
		return nil, err
	case err != nil:
		return nil, fail.Usage(err)
	}
	duckOpts := duck.Options{MemoryLimit: c.String("memory-limit"), Threads: c.Int("threads")}
	if v := c.String("work-dir-limit"); v != "" {
		limit, err := lake.ParseSize(v)
		if err != nil {
			return nil, fail.Usage(fmt.Errorf("--work-dir-limit: %w", err))
		}
		l = lake.WithBudget(l, limit)
		duckOpts.MaxTempSize = fmt.Sprintf("%dKiB", max(limit/1024, 1))
	}
	if wd := c.String("work-dir"); wd != "" {
		if err := os.MkdirAll(wd, 0o755); err != nil {
			return nil, fmt.Errorf("--work-dir %s: %w", wd, err)
		}
	}
	wh := warehouseConfig(c)
	wh.Retry = retry
	return &tasks.Env{
		Spec:      s,
		Lake:      l,
		Log:       g.log,
		RunID:     runID,
		Now:       now,
		Duck:      duckOpts,
		WorkDir:   c.String("work-dir"),
		Version:   version,
		Warehouse: wh,
	}, nil
}

// ioRetry is the budget of --io-retries and --io-timeout.
func ioRetry(c *cli.Context) (lake.Retry, error) {
	if n := c.Int("io-retries"); n < 0 || n > 100 {
		return lake.Retry{}, fail.Usage(fmt.Errorf("--io-retries %d: want 0 to 100", n))
	}
	if d := c.Duration("io-timeout"); d < 100*time.Millisecond {
		return lake.Retry{}, fail.Usage(fmt.Errorf("--io-timeout %s: want at least 100ms", d))
	}
	return lake.Retry{Attempts: c.Int("io-retries") + 1, Timeout: c.Duration("io-timeout")}, nil
}

// tablePartitionFlags are the flags most task commands share.
func tablePartitionFlags(tableUsage string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "table", Required: true, Usage: tableUsage},
		&cli.StringFlag{Name: "partition", Required: true, Usage: "partition date, YYYY-MM-DD"},
	}
}

// usageErr is a usage error (exit 2) with a message.
func usageErr(msg string) error { return fail.Usage(errors.New(msg)) }

// done finishes a task command: it leaves the XCom summary for Airflow when asked
// (--xcom-file, or WORKER_XCOM=1 for KubernetesPodOperator's /airflow/xcom/return.json),
// then returns the task's error unchanged so the exit code still says what happened.
func (g *globals) done(env *tasks.Env, rec *audit.Record, err error) error {
	if g.xcomPath == "" || rec == nil {
		return err
	}
	uri := env.Lake.URI(audit.AuditPath(rec.Partition, rec.RunID, rec.Task, rec.Table))
	if werr := audit.WriteXCom(g.xcomPath, audit.SummaryOf(rec, uri)); werr != nil {
		g.log.Error("xcom summary not written", "path", g.xcomPath, "error", werr)
		if err == nil {
			return werr
		}
	}
	return err
}
