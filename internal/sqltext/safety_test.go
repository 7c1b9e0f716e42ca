package sqltext

import (
	"strings"
	"testing"
)

func TestReaching(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want []string // substrings of the findings' messages, in order
	}{
		{"SELECT a FROM silver.orders WHERE a > 0", nil},
		{"SELECT a FROM silver.orders;", nil},
		{"SELECT unnest(generate_series(1, 3)), range(2), 'glob(x)' AS s -- read_text(y)", nil},
		{"SELECT extract(year FROM ts), trim(BOTH 'x' FROM s) FROM silver.orders", nil},
		{"SELECT * FROM read_text('/etc/passwd')", []string{"calls read_text(), which reads files"}},
		{"SELECT * FROM READ_CSV_AUTO('x.csv')", []string{"calls READ_CSV_AUTO(), which reads files"}},
		{`SELECT * FROM "read_parquet"('x')`, []string{"calls read_parquet(), which reads files"}},
		{"SELECT * FROM '/etc/passwd'", []string{"reads the file '/etc/passwd' by name"}},
		{`SELECT * FROM a JOIN "secrets/key.json" USING (k)`, []string{`reads "secrets/key.json", a name DuckDB takes for a file`}},
		{"SELECT * FROM query('SELECT 1')", []string{"runs SQL from a string"}},
		{"SELECT current_setting('s3_secret_access_key')", []string{"reads the pod's environment"}},
		{"SELECT * FROM sqlite_scan('x.db', 't')", []string{"reaches another database"}},
		{"COPY t TO 'x.csv'", []string{"is not a query: it starts with COPY"}},
		{"install httpfs", []string{"is not a query: it starts with INSTALL"}},
		{"SELECT 1; LOAD httpfs", []string{`holds a second statement after ";"`}},
		{"SELECT 1;;", []string{`holds a second statement`}},
	} {
		toks, err := Scan(tc.src, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		got := Reaching(toks)
		if len(got) != len(tc.want) {
			t.Errorf("%s: findings %+v, want %d", tc.src, got, len(tc.want))
			continue
		}
		for i, w := range tc.want {
			if !strings.Contains(got[i].Msg, w) {
				t.Errorf("%s: finding %q does not say %q", tc.src, got[i].Msg, w)
			}
		}
	}
}
