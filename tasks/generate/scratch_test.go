package generate

import (
	"encoding/json"
	"os"
	"strconv"
	"testing"
	"time"
)

func TestScratch(t *testing.T) {
	dir := os.Getenv("SCRATCH_DIR")
	if dir == "" {
		t.Skip()
	}
	scale, _ := strconv.ParseFloat(os.Getenv("SCRATCH_SCALE"), 64)
	days, _ := strconv.Atoi(os.Getenv("SCRATCH_DAYS"))
	fr, _ := strconv.ParseFloat(os.Getenv("SCRATCH_FAULT"), 64)
	st := time.Now()
	res := generate(t, dir, Options{Days: days, Start: day0, Scale: scale, Seed: 1, FaultRate: fr})
	b, _ := json.Marshal(res)
	t.Log(string(b), time.Since(st))
}
