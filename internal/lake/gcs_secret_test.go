package lake_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/api/option"

	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/lake/gcstest"
)

// TestGCSCredentialsNeverLeak: with a service-account key in
// GOOGLE_APPLICATION_CREDENTIALS, no URI, error or ObjectInfo carries any of it,
// whether the emulator is named by STORAGE_EMULATOR_HOST (the key is then not
// used) or the key is loaded and used against an explicit endpoint.
func TestGCSCredentialsNeverLeak(t *testing.T) {
	ctx := context.Background()
	endpoint, bucket, _ := gcstest.Start(t)
	key := newFakeServiceAccount(t)
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", key.file)

	t.Run("EmulatorHost", func(t *testing.T) {
		t.Setenv("STORAGE_EMULATOR_HOST", endpoint)
		l, err := lake.Open(ctx, "gs://"+bucket+"/leak1")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		seen := exercise(l)
		key.assertAbsent(t, seen)
		if !strings.Contains(strings.Join(seen, "\n"), "precondition failed") {
			t.Errorf("the failing operations did not fail as expected:\n%s", strings.Join(seen, "\n"))
		}
		if n := key.tokenRequests.Load(); n != 0 {
			t.Errorf("the key was used (%d token requests) although STORAGE_EMULATOR_HOST is set", n)
		}
	})
	t.Run("KeyInUse", func(t *testing.T) {
		t.Setenv("STORAGE_EMULATOR_HOST", "") // the client treats empty as unset
		l, err := lake.NewGCS(ctx, bucket, "leak2", option.WithEndpoint("http://"+endpoint+"/storage/v1/"))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		seen := exercise(l)
		key.assertAbsent(t, seen)
		// The key was really used, and the operations went through with it.
		if key.tokenRequests.Load() == 0 {
			t.Error("the client never asked for a token: the key was not used")
		}
		if !strings.Contains(strings.Join(seen, "\n"), "precondition failed") {
			t.Errorf("the failing operations did not fail as expected:\n%s", strings.Join(seen, "\n"))
		}
	})
}

// TestGCSCredentialsNeverLeakFromProcess: a process using the key, with the
// client library's debug logging switched on by the environment, prints none of
// it on stdout or stderr.
func TestGCSCredentialsNeverLeakFromProcess(t *testing.T) {
	endpoint, bucket, _ := gcstest.Start(t)
	key := newFakeServiceAccount(t)
	out, err := runHelper(t, "leak", endpoint, "gs://"+bucket+"/leak3", []string{
		"GOOGLE_APPLICATION_CREDENTIALS=" + key.file,
		"GOOGLE_SDK_GO_LOGGING_LEVEL=debug",
		"STORAGE_EMULATOR_HOST=", // the last value wins: use the key, not the emulator mode
		"LAKE_HELPER_ENDPOINT=http://" + endpoint + "/storage/v1/",
	})
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	seen := strings.Split(string(out), "\n")
	key.assertAbsent(t, seen)
	if key.tokenRequests.Load() == 0 || !strings.Contains(string(out), "precondition failed") {
		t.Errorf("the child did not use the key (%d token requests) or did not run:\n%s", key.tokenRequests.Load(), out)
	}
}

// exercise runs successful and failing operations and returns everything they
// said: URIs, errors and object infos, as text.
func exercise(l lake.Lake) []string {
	ctx := context.Background()
	var seen []string
	note := func(v ...any) {
		for _, x := range v {
			if x != nil {
				seen = append(seen, fmt.Sprintf("%+v", x))
			}
		}
	}
	note(l.URI("a/b.json"), l.URI("x"))
	note(lake.WriteBytes(ctx, l, "a/b.json", []byte("{}"), lake.Precondition{DoesNotExist: true}))
	note(lake.WriteBytes(ctx, l, "a/b.json", []byte("{}"), lake.Precondition{DoesNotExist: true}))
	note(lake.WriteBytes(ctx, l, "a/b.json", []byte("{}"), lake.Precondition{GenerationMatch: 1}))
	note(l.Stat(ctx, "a/b.json"))
	note(l.Stat(ctx, "missing"))
	_, err := l.Open(ctx, "missing")
	note(err)
	note(l.Copy(ctx, "missing", "c", lake.Precondition{DoesNotExist: true}))
	note(l.Copy(ctx, "a/b.json", "a/b.json", lake.Precondition{DoesNotExist: true}))
	note(lake.WriteBytes(ctx, l, "../escape", nil, lake.Precondition{}))
	note(l.List(ctx, "a/"))
	_, err = lake.Commit(ctx, l, lake.CommitRequest{Layer: "silver", Table: "t", Key: "dt", Value: "2026-11-20", RunID: "r"})
	note(err, l.Delete(ctx, "a/b.json"))
	return seen
}

type fakeServiceAccount struct {
	file          string
	secrets       []string // strings that must never show
	tokenRequests atomic.Int64
}

// newFakeServiceAccount writes a service-account key file with a real (fresh,
// worthless) RSA key, whose token endpoint is a local server granting a canary
// access token.
func newFakeServiceAccount(t *testing.T) *fakeServiceAccount {
	t.Helper()
	sa := &fakeServiceAccount{}
	accessToken := "ya29.LEAKCANARY-token-" + randomName()
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sa.tokenRequests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600}`, accessToken)
	}))
	t.Cleanup(tokens.Close)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	keyID := "LEAKCANARY-" + randomName()
	b, _ := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     "canary-project",
		"private_key_id": keyID,
		"private_key":    pemKey,
		"client_email":   "canary@canary-project.iam.gserviceaccount.com",
		"client_id":      "000000000000000000000",
		"auth_uri":       tokens.URL + "/auth",
		"token_uri":      tokens.URL + "/token",
	})
	sa.file = filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(sa.file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	body := strings.Split(pemKey, "\n")[1:4] // three lines of the key's base64
	sa.secrets = append([]string{keyID, accessToken, "LEAKCANARY"}, body...)
	return sa
}

func (sa *fakeServiceAccount) assertAbsent(t *testing.T, seen []string) {
	t.Helper()
	if len(seen) < 12 {
		t.Fatalf("only %d observations: %q", len(seen), seen)
	}
	for _, s := range seen {
		for _, secret := range sa.secrets {
			if strings.Contains(s, secret) {
				t.Errorf("credential material %q leaked into %q", secret, s)
			}
		}
	}
}
