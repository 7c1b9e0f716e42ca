package tests

import (
	"bytes"
	"database/sql"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gcsLeakMarker is in every secret the credentials test plants; it must never show
// up in anything the worker writes.
const gcsLeakMarker = "LEAKCHECK"

// gcsFakeServiceAccount is a service-account key file whose secrets carry the
// marker. Its token_uri is a closed local port: nothing can reach Google.
const gcsFakeServiceAccount = `{
  "type": "service_account",
  "project_id": "worker-test-project",
  "private_key_id": "LEAKCHECK-1234567890",
  "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQLEAKCHECKsecretLEAKCHECK\nLEAKCHECKLEAKCHECKLEAKCHECKLEAKCHECKLEAKCHECKLEAKCHECKLEAKCHECK==\n-----END PRIVATE KEY-----\n",
  "client_email": "worker-test@worker-test-project.iam.gserviceaccount.com",
  "client_id": "109876543210987654321",
  "auth_uri": "http://127.0.0.1:1/auth",
  "token_uri": "http://127.0.0.1:1/token"
}
`

// TestGCSCredentialsNeverLeak runs generate and the whole pipeline (to gold) on
// the emulator with planted credentials in the environment (a service-account
// key file, an access token), with JSON and with text logs, plus two commands
// that fail; the marker in those secrets never appears on stdout or stderr, in
// any object of the bucket (raw bytes, and the rows of Parquet files), in the
// warehouse file (raw bytes, and the rows of every table) or under the work dir.
func TestGCSCredentialsNeverLeak(t *testing.T) {
	emu := startGCS(t)
	tmp := t.TempDir()
	keyFile := filepath.Join(tmp, "secrets", "sa.json")
	if err := os.MkdirAll(filepath.Dir(keyFile), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, []byte(gcsFakeServiceAccount), 0o600); err != nil {
		t.Fatal(err)
	}
	secrets := []string{
		"GOOGLE_APPLICATION_CREDENTIALS=" + keyFile,
		"GOOGLE_OAUTH_ACCESS_TOKEN=" + gcsLeakMarker + "-token",
		"CLOUDSDK_AUTH_ACCESS_TOKEN=" + gcsLeakMarker + "-cloudsdk-token",
		// Ask the client library for its debug logs (requests, responses): the
		// lake must keep them out of the worker's logs.
		"GOOGLE_SDK_GO_LOGGING_LEVEL=debug",
	}
	env := append(emu.env(), secrets...)
	wh := filepath.Join(tmp, "wh.duckdb")
	work := filepath.Join(tmp, "work")

	var streams []string // every stdout and stderr, labelled
	record := func(label, stdout, stderr string) {
		streams = append(streams, label+" stdout\x00"+stdout, label+" stderr\x00"+stderr)
	}
	for _, format := range []string{"json", "text"} {
		flags := []string{"--lake", emu.lakeURL("shop-" + format), "--warehouse-path", wh, "--work-dir", work,
			"--log-format", format, "--run-id", "leak-" + format, "--now", gcsNow}
		for _, args := range [][]string{
			{"generate", "--days", "1", "--start", day, "--scale", "0.0005", "--fault-rate", "0.01", "--seed", "9"},
			{"run", "--partition", day},
		} {
			stdout, stderr := gcsMustRunEnv(t, env, 0, append(flags, args...)...)
			record(format+" "+args[0], stdout, stderr)
		}
	}

	// Failures print their cause: it must not carry the secrets either. First a
	// bucket the emulator does not have.
	stdout, stderr, code := gcsRunWorkerEnv(t, env, "--lake", "gs://nonexistent-bucket-xyz/p", "--warehouse-path", wh,
		"--work-dir", work, "--run-id", "leak-fail", "run", "--partition", day)
	if code == 0 {
		t.Errorf("run on a bucket that does not exist exited 0\nstderr:\n%s", gcsTail(stderr, 20))
	}
	record("missing bucket", stdout, stderr)
	// Then without the emulator: the client library loads the key file and fails
	// to parse the key, before any request leaves the machine.
	ctx, cancel := beforeTestDeadline(t)
	defer cancel()
	cmd, out, errb := gcsWorkerCmdContext(ctx, secrets, "--lake", "gs://nonexistent-bucket-xyz/p", "--warehouse-path", wh,
		"--work-dir", work, "--run-id", "leak-auth", "silver", "build", "--table", "orders", "--partition", day)
	cmd.Env = gcsWithoutEnv(cmd.Env, "STORAGE_EMULATOR_HOST")
	code = gcsExitCode(t, cmd.Run())
	if ctx.Err() != nil {
		t.Fatalf("worker with an unparseable service-account key was still running at the test deadline")
	}
	if code == 0 {
		t.Errorf("silver build with an unusable key file exited 0\nstderr:\n%s", gcsTail(errb.String(), 20))
	}
	record("bad key", out.String(), errb.String())

	for _, s := range streams {
		label, text, _ := strings.Cut(s, "\x00")
		if i := strings.Index(text, gcsLeakMarker); i >= 0 {
			t.Errorf("%s carries a secret: ...%s...", label, gcsExcerpt(text, i))
		}
	}

	db := openDuck(t)
	// Every object of the bucket (both lakes): raw bytes, and Parquet rows, whose
	// pages are compressed.
	dl := filepath.Join(tmp, "download")
	var objects, parquet int
	for _, o := range emu.mustList(t, "") {
		b := emu.mustRead(t, o.name)
		objects++
		if i := bytes.Index(b, []byte(gcsLeakMarker)); i >= 0 {
			t.Errorf("gs://%s/%s carries a secret: ...%s...", emu.bucket, o.name, gcsExcerpt(string(b), i))
		}
		if strings.HasSuffix(o.name, ".parquet") {
			p := filepath.Join(dl, filepath.FromSlash(o.name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			parquet++
			if n := gcsLeakingRows(t, db, "read_parquet("+sqlStr(p)+", hive_partitioning = false)"); n > 0 {
				t.Errorf("gs://%s/%s: %d rows carry a secret", emu.bucket, o.name, n)
			}
		}
	}
	if parquet == 0 {
		t.Fatal("no Parquet object in the bucket: the scan is vacuous")
	}

	// The warehouse: raw bytes, and the rows of every table.
	b, err := os.ReadFile(wh)
	if err != nil {
		t.Fatalf("the GCS lake's warehouse: %v", err)
	}
	if i := bytes.Index(b, []byte(gcsLeakMarker)); i >= 0 {
		t.Errorf("%s carries a secret: ...%s...", wh, gcsExcerpt(string(b), i))
	}
	if _, err := db.Exec("ATTACH " + sqlStr(wh) + " AS wh (READ_ONLY)"); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query("SELECT table_schema, table_name FROM information_schema.tables WHERE table_catalog = 'wh' AND table_type = 'BASE TABLE'")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var s, n string
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, "wh."+gcsQuoteIdent(s)+"."+gcsQuoteIdent(n))
	}
	rows.Close()
	if len(tables) == 0 {
		t.Fatal("no table in the warehouse: the scan is vacuous")
	}
	for _, tb := range tables {
		if n := gcsLeakingRows(t, db, tb); n > 0 {
			t.Errorf("warehouse table %s: %d rows carry a secret", tb, n)
		}
	}

	// The work dir (scratch copies, spills), whatever is left there.
	var workFiles int
	err = filepath.WalkDir(work, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		workFiles++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if i := bytes.Index(b, []byte(gcsLeakMarker)); i >= 0 {
			t.Errorf("%s carries a secret: ...%s...", p, gcsExcerpt(string(b), i))
		}
		if strings.HasSuffix(p, ".parquet") {
			if n := gcsLeakingRows(t, db, "read_parquet("+sqlStr(p)+", hive_partitioning = false)"); n > 0 {
				t.Errorf("%s: %d rows carry a secret", p, n)
			}
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	t.Logf("scanned %d streams, %d objects (%d Parquet), %d warehouse tables, %d files in the work dir", len(streams), objects, parquet, len(tables), workFiles)
}

// gcsLeakingRows counts the rows of a relation whose text carries the marker.
func gcsLeakingRows(t *testing.T, db *sql.DB, relation string) int64 {
	t.Helper()
	var n int64
	q := "SELECT count(*) FROM " + relation + " AS r WHERE contains(r::VARCHAR, " + sqlStr(gcsLeakMarker) + ")"
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// gcsExcerpt is the text around index i, for a failure message.
func gcsExcerpt(s string, i int) string {
	from, to := max(0, i-80), min(len(s), i+80)
	return strings.ToValidUTF8(s[from:to], "?")
}

// gcsWithoutEnv drops the variable name from an environment.
func gcsWithoutEnv(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}
