package generate

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/shoplake/lakehouse/internal/duck"
	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/tasks"
)

// LedgerCheck compares what silver committed with the ledger of a generate run.
type LedgerCheck struct {
	// Expected counts ledger entries (quarantined and deduplicated) in the checked partitions.
	Expected int
	// Found counts expected entries that silver matched row by row.
	Found int
	// Versions counts the later versions of keys (status changes in a later
	// partition) the ledger expects in silver; VersionsFound those silver holds.
	Versions, VersionsFound int
	// Missing are ledger entries silver did not produce; Unexpected are quarantine
	// rows (or deduplications, or keys repeated across partitions) the ledger did
	// not predict. Both as "table partition key reason".
	Missing, Unexpected []string
}

// OK is true when silver matched the ledger exactly.
func (c *LedgerCheck) OK() bool { return len(c.Missing) == 0 && len(c.Unexpected) == 0 }

// String is a one-line summary.
func (c *LedgerCheck) String() string {
	return fmt.Sprintf("ledger: %d expected rejections, %d found in silver's quarantine and dedup, %d later versions, %d found in silver, %d missing, %d unexpected",
		c.Expected, c.Found, c.Versions, c.VersionsFound, len(c.Missing), len(c.Unexpected))
}

// CheckLedger compares, for the given partitions, every committed quarantine row
// (key and reason) with the ledger as multisets: quarantined rows by their reason,
// deduplicated rows by reason "deduplicated", as silver keeps them in quarantine.
// A deduplicated key must also appear once in silver, and every bronze row must be
// in silver or its quarantine. A key silver holds in two partitions must be a
// later version the ledger lists (a status change), and each such version must
// be in silver.
func CheckLedger(ctx context.Context, env *tasks.Env, partitions []string) (*LedgerCheck, error) {
	entries, err := ReadLedger(ctx, env.Lake)
	if err != nil {
		return nil, err
	}
	inRange := map[string]bool{}
	for _, p := range partitions {
		inRange[p] = true
	}
	expected := map[string]int{}
	dedupKeys := map[string]map[string]int{} // table/partition -> key -> count
	versions := map[string]map[string]bool{} // table/partition -> keys of later versions
	res := &LedgerCheck{}
	for _, e := range entries {
		if !inRange[e.Partition] {
			continue
		}
		if e.Outcome == OutcomeLaterVersion {
			tp := e.Table + " " + e.Partition
			if versions[tp] == nil {
				versions[tp] = map[string]bool{}
			}
			versions[tp][e.Key] = true
			res.Versions++
			continue
		}
		res.Expected++
		if e.Outcome == OutcomeDeduplicated {
			tp := e.Table + " " + e.Partition
			if dedupKeys[tp] == nil {
				dedupKeys[tp] = map[string]int{}
			}
			dedupKeys[tp][e.Key]++
		}
		// Silver's quarantine reason of a dedup loser is the ledger's, "deduplicated".
		expected[e.Table+" "+e.Partition+" "+e.Key+" "+e.Reason]++
	}

	work, err := env.TempDir("ledger-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	s, err := duck.Open(ctx, env.Duck)
	if err != nil {
		return nil, err
	}
	defer s.Close()

	found := map[string]int{}
	for _, t := range env.Spec.BaseSilver.Tables {
		// firstSeen holds, for a table with later versions, the partition each
		// silver key was first seen in, to tell a predicted version from a repeat.
		var firstSeen map[string]string
		for tp := range versions {
			if strings.HasPrefix(tp, t.Name+" ") {
				firstSeen = map[string]string{}
			}
		}
		pk := make([]string, len(t.PrimaryKey))
		for i, k := range t.PrimaryKey {
			pk[i] = "coalesce(CAST(" + duck.Ident(k) + " AS VARCHAR), '')"
		}
		key := "concat_ws('|', " + strings.Join(pk, ", ") + ")"
		for _, d := range partitions {
			q, err := lake.ReadCommitted(ctx, env.Lake, lake.Quarantine, t.Name, t.Key(), d)
			if err != nil {
				return nil, fmt.Errorf("ledger check: quarantine %s partition %s: %w", t.Name, d, err)
			}
			sv, err := lake.ReadCommitted(ctx, env.Lake, lake.Silver, t.Name, t.Key(), d)
			if err != nil {
				return nil, fmt.Errorf("ledger check: silver %s partition %s: %w", t.Name, d, err)
			}
			br, err := lake.ReadCommitted(ctx, env.Lake, lake.Bronze, t.Source, env.Spec.BronzeKey(), d)
			if err != nil {
				return nil, fmt.Errorf("ledger check: bronze %s partition %s: %w", t.Source, d, err)
			}
			rows, err := queryStrings(ctx, s, env, work, q, "SELECT "+key+" || ' ' || _reject_reason FROM data")
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				found[t.Name+" "+d+" "+r]++
			}

			tp := t.Name + " " + d
			if firstSeen != nil {
				keys, err := queryStrings(ctx, s, env, work, sv, "SELECT DISTINCT "+key+" FROM data ORDER BY 1")
				if err != nil {
					return nil, err
				}
				inSilver := map[string]bool{}
				for _, k := range keys {
					inSilver[k] = true
					if first, seen := firstSeen[k]; seen && !versions[tp][k] {
						res.Unexpected = append(res.Unexpected, fmt.Sprintf("%s %s is in silver partitions %s and %s, but no later version was generated", tp, k, first, d))
					} else if !seen {
						firstSeen[k] = d
					}
				}
				for k := range versions[tp] {
					if inSilver[k] {
						res.VersionsFound++
					} else {
						res.Missing = append(res.Missing, tp+" "+k+" "+ReasonLaterVersion)
					}
				}
			}
			if lost := br.Manifest.RowCount - sv.Manifest.RowCount - q.Manifest.RowCount; lost != 0 {
				res.Unexpected = append(res.Unexpected, fmt.Sprintf("%s: %d bronze rows are in neither silver nor its quarantine", tp, lost))
			}
			if len(dedupKeys[tp]) > 0 {
				counts, err := queryStrings(ctx, s, env, work, sv, "SELECT k || ' ' || count(*) FROM (SELECT "+key+" AS k FROM data) GROUP BY k")
				if err != nil {
					return nil, err
				}
				inSilver := map[string]string{}
				for _, c := range counts {
					i := strings.LastIndexByte(c, ' ')
					inSilver[c[:i]] = c[i+1:]
				}
				for k := range dedupKeys[tp] {
					if inSilver[k] != "1" {
						res.Unexpected = append(res.Unexpected, fmt.Sprintf("%s %s deduplicated, but silver holds it %s times", tp, k, orZero(inSilver[k])))
					}
				}
			}
		}
	}
	for k, n := range expected {
		m := min(n, found[k])
		res.Found += m
		for i := m; i < n; i++ {
			res.Missing = append(res.Missing, k)
		}
	}
	for k, n := range found {
		for i := expected[k]; i < n; i++ {
			res.Unexpected = append(res.Unexpected, k)
		}
	}
	sort.Strings(res.Missing)
	sort.Strings(res.Unexpected)
	return res, nil
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

// queryStrings runs q over a partition's files (as view "data") and returns one string per row.
func queryStrings(ctx context.Context, s *duck.Session, env *tasks.Env, work string, p *lake.Partition, q string) ([]string, error) {
	locals, err := lake.Localize(ctx, env.Lake, p.FilePaths(), work)
	if err != nil {
		return nil, err
	}
	if err := s.Exec(ctx, "CREATE OR REPLACE TEMP VIEW data AS SELECT * FROM read_parquet("+duck.StrList(locals)+", hive_partitioning = false)"); err != nil {
		return nil, err
	}
	rows, err := s.Conn.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
