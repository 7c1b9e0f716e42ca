package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"google.golang.org/api/option"

	"github.com/shoplake/lakehouse/internal/lake"
)

// importRaceRounds is how many times TestBronzeImportRace races two imports per backend.
const importRaceRounds = 10

// TestBronzeImportRace runs two `worker bronze import` processes of different
// content into one partition at the same time, importRaceRounds times on a local
// lake and on the GCS emulator. Each round, exactly one exits 0 and the other 3
// with one clear line naming the conflict; the partition is the winner's, its
// manifest matches its files (`bronze validate` passes), and its folder holds
// nothing but the manifest and the files it names (the loser removed its own).
func TestBronzeImportRace(t *testing.T) {
	tmp := t.TempDir()
	header := "order_id,customer_id,order_ts,status,total_amount,currency,updated_at\n"
	row := func(i int) string {
		return fmt.Sprintf("o%d,c%d,2026-11-20T01:00:00Z,placed,%d.50,USD,2026-11-20T01:00:00Z\n", i, i%7, i)
	}
	contents := map[string]int{"a": 100, "b": 99} // rows: alike, so both reach the lake together
	files := map[string]string{}
	for who, n := range contents {
		var b strings.Builder
		b.WriteString(header)
		for i := 0; i < n; i++ {
			b.WriteString(row(i))
		}
		files[who] = filepath.Join(tmp, who+".csv")
		if err := os.WriteFile(files[who], []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	backends := map[string]func(t *testing.T) (url string, env []string, l lake.Lake){
		"local": func(t *testing.T) (string, []string, lake.Lake) {
			dir := filepath.Join(t.TempDir(), "lake")
			l, err := lake.NewLocal(dir)
			if err != nil {
				t.Fatal(err)
			}
			return dir, nil, l
		},
		"gcs": func(t *testing.T) (string, []string, lake.Lake) {
			emu := startGCS(t)
			l, err := lake.NewGCS(context.Background(), emu.bucket, "shop",
				option.WithEndpoint("http://"+emu.endpoint+"/storage/v1/"), option.WithoutAuthentication())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			return emu.lakeURL("shop"), emu.env(), l
		},
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			url, env, l := open(t)
			flags := []string{"--lake", url, "--work-dir", filepath.Join(t.TempDir(), "work")}
			wins := map[string]int{}
			atCommit := 0
			for round := 0; round < importRaceRounds; round++ {
				d := fmt.Sprintf("2026-12-%02d", round+1)
				type result struct {
					code   int
					stderr string
				}
				res := map[string]result{}
				var mu sync.Mutex
				var wg sync.WaitGroup
				for _, who := range []string{"a", "b"} {
					args := append(append([]string{}, flags...), "--run-id", fmt.Sprintf("%s%02d", who, round),
						"bronze", "import", "--table", "orders", "--partition", d, files[who])
					cmd, _, errb := gcsWorkerCmd(env, args...)
					if err := cmd.Start(); err != nil {
						t.Fatal(err)
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						err := cmd.Wait()
						mu.Lock()
						defer mu.Unlock()
						res[who] = result{code: gcsExitCode(t, err), stderr: errb.String()}
					}()
				}
				wg.Wait()

				var winner, loser string
				for _, who := range []string{"a", "b"} {
					switch res[who].code {
					case 0:
						winner = who
					case 3:
						loser = who
					}
				}
				if winner == "" || loser == "" {
					t.Fatalf("round %d: want exits 0 and 3, got a %d, b %d\na:\n%s\nb:\n%s", round,
						res["a"].code, res["b"].code, gcsTail(res["a"].stderr, 10), gcsTail(res["b"].stderr, 10))
				}
				wins[winner]++
				line := failureLine(t, res[loser].stderr)
				if strings.Contains(line, "another import committed the partition first") {
					atCommit++ // lost at its create-only manifest write, after uploading
				}
				mp := path.Join("bronze/orders/ingest_dt="+d, lake.ManifestFile)
				for _, want := range []string{"worker: bronze import orders partition " + d + ": ",
					"bronze partitions are immutable and " + l.URI(mp) + " already lists other files", "import into another partition"} {
					if !strings.Contains(line, want) {
						t.Errorf("round %d: the loser's failure line %q lacks %q", round, line, want)
					}
				}

				dir := path.Dir(mp)
				m, _, err := lake.ReadManifest(context.Background(), l, mp)
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				if m.RowCount != int64(contents[winner]) {
					t.Errorf("round %d: the manifest holds %d rows, the winner %s imported %d", round, m.RowCount, winner, contents[winner])
				}
				want := []string{mp}
				for _, f := range m.Files {
					want = append(want, path.Join(dir, f.Path))
				}
				sort.Strings(want)
				objs, err := l.List(context.Background(), dir+"/")
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, o := range objs {
					got = append(got, o.Path)
				}
				if strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("round %d: the partition holds %v, want the manifest and its files %v", round, got, want)
				}
				gcsMustRunEnv(t, env, 0, append(append([]string{}, flags...), "--run-id", fmt.Sprintf("gate%02d", round),
					"bronze", "validate", "--table", "orders", "--partition", d)...)
			}
			t.Logf("%d races: a won %d, b won %d; %d losers lost at their manifest write, the others found the manifest before uploading",
				importRaceRounds, wins["a"], wins["b"], atCommit)
		})
	}
}

// failureLine is the one line of a failed command's stderr that is not a JSON log line.
func failureLine(t *testing.T, stderr string) string {
	t.Helper()
	var plain []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.TrimSpace(l) == "" || json.Valid([]byte(l)) {
			continue
		}
		plain = append(plain, l)
	}
	if len(plain) != 1 {
		t.Errorf("stderr has %d lines besides the JSON logs, want 1:\n%s", len(plain), gcsTail(stderr, 10))
		return strings.Join(plain, "\n")
	}
	return plain[0]
}
