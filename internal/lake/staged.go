package lake

import (
	"context"
	"path"
	"sort"
	"strings"
	"time"
)

// StagedPartition is one partition a run staged: a staged _MANIFEST.json at
// _staging/<run>/<layer>/<table>/<key>=<value>/. Builds write that manifest after
// the files it lists, so a listed partition is complete.
type StagedPartition struct {
	Run, Layer, Table, Key, Value string
	// Updated is when the staged manifest was written.
	Updated time.Time
}

// StagedPartitions lists the partitions run staged, or every run's when run is
// empty, sorted by run, layer, table and value. Only staged manifests are listed.
func StagedPartitions(ctx context.Context, l Lake, run string) ([]StagedPartition, error) {
	prefix := StagingRoot + "/"
	if run != "" {
		if err := CheckRunID(run); err != nil {
			return nil, err
		}
		prefix = path.Join(StagingRoot, run) + "/"
	}
	objs, err := l.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	var out []StagedPartition
	for _, o := range objs {
		// _staging / run / layer / table / key=value / _MANIFEST.json
		segs := strings.Split(o.Path, "/")
		if len(segs) != 6 || segs[0] != StagingRoot || segs[5] != ManifestFile {
			continue
		}
		key, value, ok := strings.Cut(segs[4], "=")
		if !ok || key == "" || value == "" {
			continue
		}
		out = append(out, StagedPartition{Run: segs[1], Layer: segs[2], Table: segs[3], Key: key, Value: value, Updated: o.Updated})
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Run != b.Run {
			return a.Run < b.Run
		}
		if a.Layer != b.Layer {
			return a.Layer < b.Layer
		}
		if a.Table != b.Table {
			return a.Table < b.Table
		}
		return a.Value < b.Value
	})
	return out, nil
}
