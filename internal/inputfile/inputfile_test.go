package inputfile

import "testing"

func TestDetect(t *testing.T) {
	for _, tt := range []struct {
		name       string
		want       Format
		compressed bool
		bad        bool
	}{
		{"a.csv", CSV, false, false},
		{"dir/A.CSV.gz", CSV, true, false},
		{"x.csv.zst", CSV, true, false},
		{"p.parquet", Parquet, false, false},
		{"p.parquet.gz", 0, false, true}, // Parquet compresses inside
		{"e.ndjson", NDJSON, false, false},
		{"e.jsonl.gz", NDJSON, true, false},
		{"e.json", JSON, false, false},
		{"notes.txt", 0, false, true},
		{"csv", 0, false, true},
	} {
		f, c, err := Detect(tt.name)
		if (err != nil) != tt.bad || f != tt.want || c != tt.compressed {
			t.Errorf("Detect(%q) = %v, %v, %v; want %v, %v, error %v", tt.name, f, c, err, tt.want, tt.compressed, tt.bad)
		}
	}
}
