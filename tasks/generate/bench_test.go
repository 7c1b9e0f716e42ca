package generate

import (
	"context"
	"testing"
)

// BenchmarkGenerateDay writes one day of the eight tables at scale 0.05
// (about 800k rows) into a local lake.
func BenchmarkGenerateDay(b *testing.B) {
	env := testEnv(b, b.TempDir())
	o := Options{Days: 1, Start: day0, Scale: 0.05, Seed: 1, FaultRate: 0.01}
	var rows int64
	for b.Loop() {
		res, err := Run(context.Background(), env, o)
		if err != nil {
			b.Fatal(err)
		}
		for _, t := range res.Tables {
			rows += t.Rows
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
