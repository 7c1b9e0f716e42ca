package silver_test

import (
	"context"
	"strings"
	"testing"

	"github.com/shoplake/lakehouse/internal/lake"
)

// nullsSpec imitates nycflights13, where R wrote NA for every missing value:
// flights names its own tokens, planes says none at all, airports inherits bronze's.
const nullsSpec = `pipeline: t
bronze:
  null_values: ["", "NA"]
  tables:
    - name: flights
      null_values: ["", "NA", "999"]
      columns:
        - {name: flight_id, type: VARCHAR}
        - {name: year, type: BIGINT}
        - {name: dep_time, type: VARCHAR}
        - {name: dep_delay, type: VARCHAR}
        - {name: arr_delay, type: VARCHAR}
        - {name: tailnum, type: VARCHAR}
    - name: planes
      null_values: []
      columns:
        - {name: tailnum, type: VARCHAR}
        - {name: model, type: VARCHAR}
        - {name: seats, type: VARCHAR}
    - name: airports
      columns:
        - {name: faa, type: VARCHAR}
        - {name: alt, type: VARCHAR}
base_silver:
  tables:
    - name: flights
      source: flights
      primary_key: [flight_id]
      columns:
        - {name: flight_id, type: VARCHAR}
        - {name: year, type: BIGINT}
        - {name: dep_time, type: INTEGER}
        - {name: dep_delay, type: DOUBLE, check: "dep_delay > -100"}
        - {name: arr_delay, type: DOUBLE, expr: "TRY_CAST(arr_delay AS DOUBLE) * 60"}
        - {name: tailnum, type: VARCHAR, not_null: true}
      thresholds: {max_quarantine_rate: 1, max_row_loss: 1}
    - name: planes
      source: planes
      primary_key: [tailnum]
      columns:
        - {name: tailnum, type: VARCHAR}
        - {name: model, type: VARCHAR}
        - {name: seats, type: INTEGER}
      thresholds: {max_quarantine_rate: 1, max_row_loss: 1}
    - name: airports
      source: airports
      primary_key: [faa]
      columns:
        - {name: faa, type: VARCHAR}
        - {name: alt, type: INTEGER}
      thresholds: {max_quarantine_rate: 1, max_row_loss: 1}
`

// TestNullTokens checks that null tokens become NULL before casts, exprs and rules
// in text and typed silver columns, compared after trimming and case-sensitively;
// that they leave typed bronze columns alone; and what [] and the default mean.
func TestNullTokens(t *testing.T) {
	env := newEnv(t, nullsSpec, "run1")
	writeBronze(t, env, "flights", day, [][]any{
		{"F1", int64(2013), "517", "2", "11", "N14228"},
		{"F2", int64(2013), "NA", " NA ", "NA", "N24211"}, // typed silver columns, expr and check: NULL, never cast_failed
		{"F3", int64(999), "999", "999", "1", "N619AA"},   // a token in text; 999 in the typed bronze column stays
		{"F4", int64(2013), "na", "1", "1", "N804JB"},     // case-sensitive: na is no token
		{"F5", int64(2013), "600", "1", "1", "NA"},        // a text column: NULL, so not_null catches it
		{"NA", int64(2013), "600", "1", "1", "N1"},        // a NULL key
	})
	writeBronze(t, env, "planes", day, [][]any{
		{"N1", "", "100"},
		{"N2", "A320", ""}, // no tokens: '' is not NULL, so the cast fails
		{"N3", "NA", "NA"}, // no tokens: NA is text, and no INTEGER
	})
	writeBronze(t, env, "airports", day, [][]any{
		{"EWR", "18"},
		{"JFK", ""},
		{"LGA", "NA"},
	})
	ctx := context.Background()
	for _, tc := range []struct {
		table            string
		silver, rejected []string
	}{
		{"flights",
			[]string{"F1|2013|517|2.0|660.0|N14228", "F2|2013|NULL|NULL|NULL|N24211", "F3|999|NULL|NULL|60.0|N619AA"},
			[]string{"F4|cast_failed:dep_time", "F5|not_null:tailnum", "NA|pk_null"}},
		{"planes",
			[]string{"N1||100"},
			[]string{"N2|cast_failed:seats", "N3|cast_failed:seats"}},
		{"airports",
			[]string{"EWR|18", "JFK|NULL", "LGA|NULL"},
			nil},
	} {
		t.Run(tc.table, func(t *testing.T) {
			buildValidatePublish(t, env, tc.table)
			bt, _ := env.Spec.BronzeTable(tc.table)
			st, _ := env.Spec.SilverTable(tc.table)
			var cols []string
			for _, c := range st.Columns {
				cols = append(cols, "coalesce(CAST("+c.Name+" AS VARCHAR), 'NULL')")
			}
			s, err := lake.ReadCommitted(ctx, env.Lake, lake.Silver, tc.table, "ingestion_dt", day)
			if err != nil {
				t.Fatal(err)
			}
			got := query(t, s, env, "SELECT concat_ws('|', "+strings.Join(cols, ", ")+") FROM t ORDER BY 1")
			if strings.Join(got, ",") != strings.Join(tc.silver, ",") {
				t.Errorf("silver =\n %v\nwant\n %v", got, tc.silver)
			}
			q, err := lake.ReadCommitted(ctx, env.Lake, lake.Quarantine, tc.table, "ingestion_dt", day)
			if err != nil {
				t.Fatal(err)
			}
			// Quarantine keeps the raw bronze value: the token as it arrived.
			got = query(t, q, env, "SELECT concat_ws('|', "+bt.Columns[0].Name+", _reject_reason) FROM t ORDER BY 1")
			if strings.Join(got, ",") != strings.Join(tc.rejected, ",") {
				t.Errorf("quarantine = %v, want %v", got, tc.rejected)
			}
		})
	}
}
