package generate

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/specs"
	"github.com/shoplake/lakehouse/tasks"
)

func shopSpec(t testing.TB) *spec.Spec {
	t.Helper()
	s, err := spec.Load(specs.Shop(), specs.ShopDisplay)
	if err != nil {
		t.Fatalf("load shop spec: %v", err)
	}
	return s
}

func testEnv(t testing.TB, dir string) *tasks.Env {
	t.Helper()
	l, err := lake.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &tasks.Env{
		Spec:  shopSpec(t),
		Lake:  l,
		Log:   slog.New(slog.DiscardHandler),
		RunID: "test",
		Now:   func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) },
	}
}

var day0 = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

func generate(t testing.TB, dir string, o Options) *Result {
	t.Helper()
	res, err := Run(context.Background(), testEnv(t, dir), o)
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	return res
}

type (
	specBronzeTable = spec.BronzeTable
	specColumn      = spec.Column
)
