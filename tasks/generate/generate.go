// Package generate makes the shop domain's bronze data (DESIGN sections 8 and 9):
// eight tables partitioned by day, deterministic from a seed at any scale, with
// an optional fraction of bad rows of every kind silver must catch, and a ledger
// that predicts, row by row, what silver does with each of them.
package generate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/shoplake/lakehouse/tasks"
)

// Source is the bronze manifests' source.
const Source = "shop-generator"

// extractedAfterMidnight: a day's extract runs at 01:00 UTC the next day.
const extractedAfterMidnight = time.Hour

// Options are the flags of `worker generate`.
type Options struct {
	// Days is how many daily partitions to write, from Start on.
	Days int
	// Start is the first day (a UTC date).
	Start time.Time
	// Scale multiplies the reference volumes (1.0: about 1M orders a day).
	Scale float64
	// Seed makes the data: the same seed and options give the same bytes.
	Seed int64
	// FaultRate is the fraction of each table's rows per day that get one fault.
	FaultRate float64
}

// TableResult summarises what was written for one table.
type TableResult struct {
	Table      string `json:"table"`
	Partitions int    `json:"partitions"`
	Rows       int64  `json:"rows"`
	Files      int    `json:"files"`
	Bytes      int64  `json:"bytes"`
	// Expected is how many of the rows the ledger expects not to reach silver.
	Expected int `json:"expected_rejects"`
}

// Result summarises a generate run.
type Result struct {
	Start  string        `json:"start"`
	End    string        `json:"end"`
	Tables []TableResult `json:"tables"`
	// LedgerPath is the lake path of the ledger of expected silver outcomes.
	LedgerPath    string `json:"ledger_path"`
	LedgerEntries int    `json:"ledger_entries"`
}

// config holds the knobs tests turn; Run uses the defaults.
type config struct {
	maxFileRows  int64
	rowGroupRows int64
}

var defaultConfig = config{maxFileRows: 1_000_000, rowGroupRows: 128 << 10}

// Validate checks the options; its errors are the caller's usage errors.
func (o Options) Validate() error {
	var errs []error
	if o.Days < 1 {
		errs = append(errs, fmt.Errorf("days must be at least 1, got %d", o.Days))
	}
	if o.Start.IsZero() {
		errs = append(errs, errors.New("start date is required (YYYY-MM-DD)"))
	} else if s := o.Start.UTC(); s.Hour() != 0 || s.Minute() != 0 || s.Second() != 0 || s.Nanosecond() != 0 {
		errs = append(errs, fmt.Errorf("start must be a date (midnight UTC), got %s", o.Start.Format(time.RFC3339)))
	}
	if !(o.Scale > 0) || math.IsInf(o.Scale, 0) {
		errs = append(errs, fmt.Errorf("scale must be a number above 0, got %v", o.Scale))
	}
	if !(o.FaultRate >= 0 && o.FaultRate <= 0.5) {
		errs = append(errs, fmt.Errorf("fault rate must be between 0 and 0.5, got %v", o.FaultRate))
	}
	return errors.Join(errs...)
}

// Run writes Days daily partitions of the eight shop bronze tables into the
// lake, each partition's _MANIFEST.json after its files, and then the ledger
// (_generated/ledger.json).
func Run(ctx context.Context, env *tasks.Env, o Options) (*Result, error) {
	return run(ctx, env, o, defaultConfig)
}

func run(ctx context.Context, env *tasks.Env, o Options, cfg config) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if env == nil || env.Lake == nil {
		return nil, errors.New("generate: no lake to write to")
	}
	tables, err := bindSpec(env.Spec)
	if err != nil {
		return nil, err
	}
	log := env.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("task", "generate", "run_id", env.RunID)
	start := o.Start.UTC()
	w, err := newWorld(o, tables)
	if err != nil {
		return nil, err
	}
	res := &Result{
		Start:      start.Format(time.DateOnly),
		End:        start.AddDate(0, 0, o.Days-1).Format(time.DateOnly),
		LedgerPath: LedgerPath,
		Tables:     make([]TableResult, len(tables)),
	}
	for i, bt := range tables {
		res.Tables[i].Table = bt.def.name
	}
	for i := range o.Days {
		di := newDayInfo(start, i)
		w.heads, w.compacts = append(w.heads, di.tsHead), append(w.compacts, di.compact)
	}
	g := &generator{ctx: ctx, env: env, o: o, cfg: cfg, tables: tables, w: w, res: res, log: log}
	began := time.Now() // for the log line only, never in the data
	for i := range o.Days {
		d := newDayInfo(start, i)
		if err := g.day(&d); err != nil {
			return nil, err
		}
	}
	up := startUpload(ctx, env.Lake, LedgerPath)
	if _, _, err := up.finish(writeLedger(up, g.ledger)); err != nil {
		return nil, fmt.Errorf("write ledger %s: %w", LedgerPath, err)
	}
	for _, c := range g.ledger {
		res.LedgerEntries += len(c.rows)
	}
	var rows int64
	for _, t := range res.Tables {
		rows += t.Rows
	}
	log.Info("generated bronze data", "start", res.Start, "end", res.End, "rows", rows,
		"ledger_entries", res.LedgerEntries, "duration_ms", time.Since(began).Milliseconds())
	return res, nil
}

func newWorld(o Options, tables []*boundTable) (*world, error) {
	w := &world{seed: o.Seed, scale: o.Scale}
	type list struct {
		dst        *[][]byte
		table      int
		col        string
		def        []string
		meaningful bool
	}
	lists := []list{
		{&w.categories, iProducts, "category", defaultCategories, false},
		{&w.orderSt, iOrders, "status", orderStatuses, true},
		{&w.currencies, iOrders, "currency", defaultCurrencies, false},
		{&w.methods, iPayments, "payment_method", defaultMethods, false},
		{&w.paymentSt, iPayments, "status", paymentStatuses, true},
		{&w.carriers, iShipments, "carrier", defaultCarriers, false},
		{&w.shipmentSt, iShipments, "status", shipmentStatuses, true},
		{&w.reasons, iReturns, "reason", defaultReasons, false},
		{&w.eventTy, iCartEvents, "event_type", eventTypes, true},
		{&w.channels, iCartEvents, "channel", defaultChannels, false},
	}
	var errs []string
	for _, l := range lists {
		v, err := enum(tables[l.table], l.col, l.def, l.meaningful)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		*l.dst = v
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("spec does not match the shop generator: %s", strings.Join(errs, "; "))
	}
	for _, c := range w.categories {
		code := strings.ToUpper(string(c))
		code = code[:min(3, len(code))]
		w.catCodes = append(w.catCodes, []byte(code))
	}
	return w, nil
}

// generator runs the days in order, carrying the world and the ledger.
type generator struct {
	ctx    context.Context
	env    *tasks.Env
	o      Options
	cfg    config
	tables []*boundTable
	w      *world
	res    *Result
	log    *slog.Logger
	ledger []*ledgerChunk
}

func (g *generator) newTable(i int, d *dayInfo) *tableGen {
	bt := g.tables[i]
	return &tableGen{
		bt:     bt,
		pw:     newPartitionWriter(g.ctx, g.env.Lake, bt, g.env.Spec.BronzeKey(), d, g.cfg),
		frng:   g.w.rng(bt.def.name+"#faults", d),
		rate:   g.o.FaultRate,
		day:    d,
		ledger: &ledgerChunk{table: bt.def.name, day: d.iso},
	}
}

// day writes one day's eight partitions. Customers, products and the order book
// come first (everything else refers to them); then cart events are written
// alongside the order tables, each table by one goroutine, so row order and
// bytes never depend on scheduling.
func (g *generator) day(d *dayInfo) error {
	gens := make([]*tableGen, len(g.tables))
	for i := range g.tables {
		gens[i] = g.newTable(i, d)
	}
	if err := g.writeDay(d, gens); err != nil {
		for _, tg := range gens {
			tg.pw.abort(err) // stop streaming half-written files; no manifest names them
		}
		return err
	}
	for i, tg := range gens {
		g.res.Tables[i].Expected += tg.ledger.rejects()
		g.ledger = append(g.ledger, tg.ledger)
	}
	g.log.Info("generated bronze day", "partition", d.iso)
	return nil
}

func (g *generator) writeDay(d *dayInfo, gens []*tableGen) error {
	// table generates one partition and closes it, naming it in errors.
	table := func(i int, gen func(*tableGen) error) error {
		if err := gen(gens[i]); err != nil {
			return fmt.Errorf("generate bronze %s partition %s: %w", g.tables[i].def.name, d.iso, err)
		}
		return g.finish(gens[i])
	}
	w := g.w
	if err := table(iCustomers, func(tg *tableGen) error { return w.genCustomers(tg, d) }); err != nil {
		return err
	}
	if err := table(iProducts, func(tg *tableGen) error { return w.genProducts(tg, d) }); err != nil {
		return err
	}
	book := w.orderBook(d)

	var cartErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		cartErr = table(iCartEvents, func(tg *tableGen) error { return w.genCartEvents(tg, book) })
	})
	err := func() error {
		for _, step := range []struct {
			i   int
			gen func(*tableGen) error
		}{
			{iOrders, func(tg *tableGen) error { return w.genOrders(tg, book) }},
			{iOrderItems, func(tg *tableGen) error { return w.genOrderItems(tg, book) }},
			{iPayments, func(tg *tableGen) error { return w.genPayments(tg, book) }},
			{iShipments, func(tg *tableGen) error { return w.genShipments(tg, book) }},
			{iReturns, func(tg *tableGen) error { return w.genReturns(tg, d, book) }},
		} {
			if err := table(step.i, step.gen); err != nil {
				return err
			}
		}
		return nil
	}()
	wg.Wait()
	if err := errors.Join(err, cartErr); err != nil {
		return err
	}
	w.prev = book
	w.scheduleVersions(book)
	return nil
}

// finish closes a table's partition: last file, then the manifest.
func (g *generator) finish(tg *tableGen) error {
	m, err := tg.pw.finish()
	if err != nil {
		return fmt.Errorf("write bronze %s partition %s: %w", tg.bt.def.name, tg.day.iso, err)
	}
	t := &g.res.Tables[slices.Index(g.tables, tg.bt)]
	t.Partitions++
	t.Rows += m.RowCount
	t.Files += len(m.Files)
	t.Bytes += tg.pw.bytes
	g.log.Debug("wrote bronze partition", "table", tg.bt.def.name, "partition", tg.day.iso,
		"rows", m.RowCount, "files", len(m.Files), "expected_rejects", tg.ledger.rejects())
	return nil
}

// PrintResult writes what was generated: one row per table, then where the ledger is.
func PrintResult(w io.Writer, res *Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "table\tpartitions\trows\tfiles\tbytes\texpected_rejects\t")
	for _, t := range res.Tables {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t\n", t.Table, t.Partitions, t.Rows, t.Files, t.Bytes, t.Expected)
	}
	tw.Flush()
	fmt.Fprintf(w, "bronze %s..%s written; ledger of %d expected outcomes at %s\n", res.Start, res.End, res.LedgerEntries, res.LedgerPath)
}
