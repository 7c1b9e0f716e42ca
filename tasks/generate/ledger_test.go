package generate

import (
	"context"
	"database/sql"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
)

func TestNoFaultsNoLedger(t *testing.T) {
	dir := t.TempDir()
	env := testEnv(t, dir)
	res, err := Run(context.Background(), env, Options{Days: 2, Start: day0, Scale: 0.001, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := ReadLedger(context.Background(), env.Lake)
	if err != nil {
		t.Fatal(err)
	}
	// Without faults the ledger holds only later versions, of day 1's keys on day 2.
	var versions int
	byTable := map[string]int{}
	for _, e := range entries {
		if e.Outcome != OutcomeLaterVersion || e.Partition != "2026-11-21" || e.Table == "orders" && !strings.HasPrefix(e.Key, "O20261120-") {
			t.Fatalf("fault rate 0 gave ledger entry %+v, want only later versions on day 2", e)
		}
		versions++
		byTable[e.Table]++
	}
	for _, table := range []string{"orders", "customers", "products"} {
		if byTable[table] == 0 {
			t.Errorf("fault rate 0: no later versions of %s on day 2", table)
		}
	}
	if versions == 0 || res.LedgerEntries != versions {
		t.Fatalf("fault rate 0: %d later versions in the ledger, result counts %d entries", versions, res.LedgerEntries)
	}
	for _, tr := range res.Tables {
		if tr.Expected != 0 {
			t.Errorf("fault rate 0: %s expects %d rejects", tr.Table, tr.Expected)
		}
	}
	// Clean data passes silver's rules as the re-derivation applies them, which
	// finds the same later versions.
	got := silverOutcomes(t, env.Spec, dir, []string{"2026-11-20", "2026-11-21"})
	slices.SortFunc(got, compareEntries)
	if !slices.Equal(got, entries) {
		t.Fatalf("clean data: silver's rules give %d outcomes (%v), the ledger %d", len(got), got[:min(5, len(got))], len(entries))
	}
}

// reasonKind is a reason without its column: cast_failed:order_ts -> cast_failed.
func reasonKind(r string) string { k, _, _ := strings.Cut(r, ":"); return k }

func TestFaultsCoverEveryReason(t *testing.T) {
	dir := t.TempDir()
	env := testEnv(t, dir)
	if _, err := Run(context.Background(), env, Options{Days: 2, Start: day0, Scale: 0.01, Seed: 5, FaultRate: 0.05}); err != nil {
		t.Fatal(err)
	}
	entries, err := ReadLedger(context.Background(), env.Lake)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSortedFunc(entries, compareEntries) {
		t.Error("ledger is not sorted")
	}
	kinds := map[string]map[string]bool{}
	for _, e := range entries {
		if kinds[e.Table] == nil {
			kinds[e.Table] = map[string]bool{}
		}
		kinds[e.Table][reasonKind(e.Reason)] = true
		wantOutcome := OutcomeQuarantined
		switch e.Reason {
		case ReasonDeduplicated:
			wantOutcome = OutcomeDeduplicated
		case ReasonLaterVersion:
			wantOutcome = OutcomeLaterVersion
		}
		if e.Outcome != wantOutcome {
			t.Errorf("%+v: outcome %s, want %s", e, e.Outcome, wantOutcome)
		}
	}
	// Every kind the spec's rules allow, per table.
	all := []string{"pk_null", "cast_failed", "not_null", "accepted_values", "check", "fk_orphan"}
	want := map[string][]string{
		"customers":   {"pk_null", "cast_failed", "not_null", "check", "deduplicated", "later_version"},
		"products":    {"pk_null", "cast_failed", "not_null", "accepted_values", "check", "deduplicated", "later_version"},
		"orders":      append(slices.Clone(all), "deduplicated", "later_version"),
		"order_items": {"pk_null", "cast_failed", "not_null", "check", "fk_orphan", "pk_duplicate"},
		"payments":    append(slices.Clone(all), "pk_duplicate"),
		"shipments":   {"pk_null", "cast_failed", "not_null", "accepted_values", "fk_orphan", "pk_duplicate"},
		"returns":     append(slices.Clone(all), "pk_duplicate"),
		"cart_events": {"pk_null", "cast_failed", "not_null", "accepted_values", "fk_orphan", "deduplicated"},
	}
	for table, ks := range want {
		for _, k := range ks {
			if !kinds[table][k] {
				t.Errorf("%s: no %s rows in the ledger", table, k)
			}
		}
		for k := range kinds[table] {
			if !slices.Contains(ks, k) {
				t.Errorf("%s: unexpected %s rows in the ledger", table, k)
			}
		}
	}
}

func TestLedgerMatchesSilverRules(t *testing.T) {
	dir := t.TempDir()
	env := testEnv(t, dir)
	// Small files: duplicates and ties also straddle file boundaries.
	days := []string{"2026-11-20", "2026-11-21", "2026-11-22"}
	if _, err := run(context.Background(), env, Options{Days: len(days), Start: day0, Scale: 0.002, Seed: 9, FaultRate: 0.08},
		config{maxFileRows: 1000, rowGroupRows: 256}); err != nil {
		t.Fatal(err)
	}
	entries, err := ReadLedger(context.Background(), env.Lake)
	if err != nil {
		t.Fatal(err)
	}
	got := silverOutcomes(t, env.Spec, dir, days)
	slices.SortFunc(got, compareEntries)
	if len(entries) < 500 {
		t.Fatalf("only %d ledger entries", len(entries))
	}
	if slices.Equal(entries, got) {
		return
	}
	// Show the differences as two multisets.
	count := map[LedgerEntry]int{}
	for _, e := range entries {
		count[e]++
	}
	for _, e := range got {
		count[e]--
	}
	shown := 0
	for _, e := range append(entries, got...) {
		if c := count[e]; c != 0 && shown < 20 {
			side := "only in the ledger"
			if c < 0 {
				side = "only in the re-derivation"
			}
			t.Errorf("%s: %+v", side, e)
			count[e] = 0
			shown++
		}
	}
	t.Fatalf("ledger has %d entries, silver's rules give %d", len(entries), len(got))
}

// silverOutcomes applies DESIGN section 3's silver rules to the generated bronze
// with DuckDB, independently of the generator, and lists every row that does not
// reach silver in the ledger's form.
func silverOutcomes(t *testing.T, s *spec.Spec, root string, days []string) []LedgerEntry {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	exec("SET TimeZone = 'UTC'")
	exec("CREATE TEMP TABLE silver_keys (tbl VARCHAR, k VARCHAR, day DATE)")
	l, err := lake.NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	var out []LedgerEntry
	for _, day := range days {
		for _, def := range shopTables {
			var st *spec.SilverTable
			for i := range s.BaseSilver.Tables {
				if s.BaseSilver.Tables[i].Source == def.name {
					st = &s.BaseSilver.Tables[i]
				}
			}
			bt, _ := s.BronzeTable(def.name)
			dir := lake.PartitionDir(lake.Bronze, def.name, s.BronzeKey(), day)
			m, _, err := lake.ReadManifest(ctx, l, path.Join(dir, lake.ManifestFile))
			if err != nil {
				t.Fatal(err)
			}
			var files []string
			for _, f := range m.Files {
				files = append(files, filepath.Join(root, dir, f.Path))
			}
			exec("CREATE OR REPLACE TEMP TABLE raw AS SELECT * FROM read_parquet(" + duck.StrList(files) + ", filename = true, file_row_number = true)")

			var clean, typed []string
			for _, c := range bt.Columns {
				q := duck.Ident(c.Name)
				clean = append(clean, "NULLIF(TRIM("+q+"), '') AS "+q, q+" AS "+duck.Ident("_raw_"+c.Name))
				typed = append(typed, q+" AS "+duck.Ident("_src_"+c.Name), duck.Ident("_raw_"+c.Name))
			}
			var cases []string
			var pkNull, key, pk []string
			for _, c := range st.PrimaryKey {
				pkNull = append(pkNull, duck.Ident("_src_"+c)+" IS NULL")
				key = append(key, "COALESCE("+duck.Ident("_raw_"+c)+", '')")
				pk = append(pk, duck.Ident(c))
			}
			cases = append(cases, "WHEN "+strings.Join(pkNull, " OR ")+" THEN 'pk_null'")
			for _, c := range st.Columns {
				e := "TRY_CAST(" + duck.Ident(c.Name) + " AS " + c.Type + ")"
				if c.Expr != "" {
					e = c.Expr
				}
				typed = append(typed, "("+e+") AS "+duck.Ident(c.Name))
				if _, ok := bt.Column(c.Name); ok {
					cases = append(cases, fmt.Sprintf("WHEN %s IS NOT NULL AND %s IS NULL THEN 'cast_failed:%s'", duck.Ident("_src_"+c.Name), duck.Ident(c.Name), c.Name))
				}
			}
			for _, c := range st.Columns {
				if c.NotNull {
					cases = append(cases, fmt.Sprintf("WHEN %s IS NULL THEN 'not_null:%s'", duck.Ident(c.Name), c.Name))
				}
			}
			for _, c := range st.Columns {
				if len(c.AcceptedValues) > 0 {
					cases = append(cases, fmt.Sprintf("WHEN %s IS NOT NULL AND %s NOT IN %s THEN 'accepted_values:%s'", duck.Ident(c.Name), duck.Ident(c.Name), duck.StrList(c.AcceptedValues), c.Name))
				}
			}
			for _, c := range st.Columns {
				if c.Check != "" {
					cases = append(cases, fmt.Sprintf("WHEN NOT COALESCE((%s), TRUE) THEN 'check:%s'", c.Check, c.Name))
				}
			}
			for _, fk := range st.ForeignKeys {
				cases = append(cases, fmt.Sprintf("WHEN %s IS NOT NULL AND %s NOT IN (SELECT k FROM silver_keys WHERE tbl = %s AND day <= DATE %s) THEN 'fk_orphan:%s'",
					duck.Ident(fk.Column), duck.Ident(fk.Column), duck.Str(fk.ParentTable()), duck.Str(day), fk.Column))
			}
			exec(fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE judged AS
				SELECT *, CASE %s END AS _reason, %s AS _key
				FROM (SELECT %s, filename, file_row_number FROM (SELECT %s, filename, file_row_number FROM raw))`,
				strings.Join(cases, "\n"), "concat_ws('|', "+strings.Join(key, ", ")+")", strings.Join(typed, ", "), strings.Join(clean, ", ")))

			dup := "COUNT(*) OVER (PARTITION BY " + strings.Join(pk, ", ") + ") > 1"
			dupReason, dupOutcome := ReasonPKDuplicate, OutcomeQuarantined
			if st.Dedup != nil {
				dup = "ROW_NUMBER() OVER (PARTITION BY " + strings.Join(pk, ", ") + " ORDER BY " + strings.Join(st.Dedup.OrderBy, ", ") + ", filename, file_row_number) > 1"
				dupReason, dupOutcome = ReasonDeduplicated, OutcomeDeduplicated
			}
			exec("CREATE OR REPLACE TEMP TABLE survivors AS SELECT *, " + dup + " AS _dup FROM judged WHERE _reason IS NULL")
			if len(st.PrimaryKey) == 1 {
				exec(fmt.Sprintf("INSERT INTO silver_keys SELECT %s, %s, DATE %s FROM survivors WHERE NOT _dup",
					duck.Str(st.Name), duck.Ident(st.PrimaryKey[0]), duck.Str(day)))
			}
			// A surviving key silver already holds from an earlier day is a later version.
			later := "false"
			if len(st.PrimaryKey) == 1 {
				later = fmt.Sprintf("%s IN (SELECT k FROM silver_keys WHERE tbl = %s AND day < DATE %s)",
					duck.Ident(st.PrimaryKey[0]), duck.Str(st.Name), duck.Str(day))
			}
			rows, err := conn.QueryContext(ctx, fmt.Sprintf(`
				SELECT _key, _reason, %s FROM judged WHERE _reason IS NOT NULL
				UNION ALL SELECT _key, %s, %s FROM survivors WHERE _dup
				UNION ALL SELECT _key, %s, %s FROM survivors WHERE NOT _dup AND %s`,
				duck.Str(OutcomeQuarantined), duck.Str(dupReason), duck.Str(dupOutcome),
				duck.Str(ReasonLaterVersion), duck.Str(OutcomeLaterVersion), later))
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				e := LedgerEntry{Table: def.name, Partition: day}
				if err := rows.Scan(&e.Key, &e.Reason, &e.Outcome); err != nil {
					t.Fatal(err)
				}
				out = append(out, e)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			rows.Close()
		}
	}
	return out
}
