package crash

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/logx"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/specs"
	"github.com/shoplake/lakehouse/tasks"
	"github.com/shoplake/lakehouse/tasks/publish"
)

// TestReadersNeverSeeAMix republishes one silver partition 50 times (50 staged
// runs, 3 silver files each, different sizes) while readers in other goroutines
// resolve it through its commit point over and over: every read names one run,
// every listed file exists under that run's folder, and the rows add up.
func TestReadersNeverSeeAMix(t *testing.T) {
	const runs, readers = 50, 4
	ctx := context.Background()
	l := newLake(t)
	s, err := spec.Load(specs.Shop(), specs.ShopDisplay)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]int64{}
	for i := 0; i < runs; i++ {
		run := fmt.Sprintf("run%02d", i)
		sr := stage(t, l, lake.Silver, "customers", silverPK, day, run,
			customersQuery(0, 1+i%7, run, day), customersQuery(100, 2+i%5, run, day), customersQuery(200, 1+i%3, run, day))
		qr := stage(t, l, lake.Quarantine, "customers", silverPK, day, run, customersQuery(0, 1+i%4, run+"-q", day))
		passReport(t, l, run, spec.TaskSilverValidate, "customers", day)
		want[run] = [2]int64{sr, qr}
	}

	var done atomic.Bool
	var reads atomic.Int64
	errs := make(chan error, readers*2)
	var wg sync.WaitGroup
	seen := make([]map[string]bool, readers)
	for r := 0; r < readers; r++ {
		seen[r] = map[string]bool{}
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			var existed [2]bool
			for !done.Load() {
				for li, layer := range []string{lake.Silver, lake.Quarantine} {
					v, err := read(ctx, l, layer, "customers", silverPK, day)
					if err != nil {
						errs <- fmt.Errorf("reader %d: %w", r, err)
						return
					}
					if !v.exists {
						if existed[li] {
							errs <- fmt.Errorf("reader %d: %s partition vanished between publishes", r, layer)
							return
						}
						continue // before the first publish
					}
					existed[li] = true
					if w, ok := want[v.run]; !ok || w[li] != v.rows {
						errs <- fmt.Errorf("reader %d: %s shows run %q with %d rows, staged %d", r, layer, v.run, v.rows, w[li])
						return
					}
					if layer == lake.Silver {
						seen[r][v.run] = true
					}
					reads.Add(1)
				}
			}
		}(r)
	}

	for i := 0; i < runs; i++ {
		env := &tasks.Env{Spec: s, Lake: l, Log: logx.Discard(), RunID: fmt.Sprintf("run%02d", i), Version: "test",
			WorkDir: t.TempDir(), Now: time.Now}
		if _, err := publish.Run(ctx, env, publish.Options{Layer: lake.Silver, Table: "customers", Partition: day}); err != nil {
			done.Store(true)
			wg.Wait()
			t.Fatalf("publish %d: %v", i, err)
		}
		time.Sleep(2 * time.Millisecond) // let readers see most runs
	}
	done.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	distinct := map[string]bool{}
	for _, m := range seen {
		for r := range m {
			distinct[r] = true
		}
	}
	t.Logf("%d reads saw %d of %d runs", reads.Load(), len(distinct), runs)
	if len(distinct) < 2 || reads.Load() < runs {
		t.Errorf("readers saw %d runs in %d reads: the test did not overlap reads with publishes", len(distinct), reads.Load())
	}
	if v, err := read(ctx, l, lake.Silver, "customers", silverPK, day); err != nil || v.run != "run49" {
		t.Errorf("final partition %+v, %v; want the last publish run49", v, err)
	}
}
