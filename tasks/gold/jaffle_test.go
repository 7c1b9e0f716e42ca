package gold_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/tasks/bronze"
	"github.com/shoplake/lakehouse/tasks/gold"
	"github.com/shoplake/lakehouse/tasks/publish"
	"github.com/shoplake/lakehouse/tasks/silver"
)

// jaffleData is dbt's jaffle_shop seed, vendored with its licence.
const jaffleData = "../../specs/jaffle_shop/seeds"

// TestJaffleShopMarts runs the jaffle_shop spec from the raw CSVs to its gold marts
// (bronze import, silver, publish, gold load, gold build) and checks values worked
// out by hand from the CSVs (amounts there are cents; silver and gold carry dollars).
func TestJaffleShopMarts(t *testing.T) {
	if _, err := os.Stat(filepath.Join(jaffleData, "raw_orders.csv")); err != nil {
		t.Fatalf("jaffle_shop seed not found: %v", err)
	}
	s, err := spec.Load(os.DirFS("../../specs/jaffle_shop"), "specs/jaffle_shop")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	env := newEnv(t, s, "jaffle1")
	const d = "2018-04-09"
	for _, tbl := range []string{"customers", "orders", "payments"} {
		if _, err := bronze.Import(ctx, env, bronze.ImportOptions{Table: tbl, Partition: d,
			Files: []string{filepath.Join(jaffleData, "raw_"+tbl+".csv")}}); err != nil {
			t.Fatalf("import %s: %v", tbl, err)
		}
	}
	for _, tbl := range []string{"customers", "orders", "payments"} { // FK parents first
		if _, err := silver.Build(ctx, env, silver.Options{Table: tbl, Partition: d}); err != nil {
			t.Fatalf("silver build %s: %v", tbl, err)
		}
		if _, _, err := silver.Validate(ctx, env, silver.Options{Table: tbl, Partition: d}); err != nil {
			t.Fatalf("silver validate %s: %v", tbl, err)
		}
		if _, err := publish.Run(ctx, env, publish.Options{Layer: "silver", Table: tbl, Partition: d}); err != nil {
			t.Fatalf("publish %s: %v", tbl, err)
		}
		rec, err := gold.Load(ctx, env, gold.LoadOptions{Table: "silver." + tbl, Partition: d})
		if err != nil {
			t.Fatalf("gold load %s: %v", tbl, err)
		}
		if rec.RowsIn != rec.RowsOut || rec.RowsOut == 0 {
			t.Errorf("gold load %s: rows in %d, out %d", tbl, rec.RowsIn, rec.RowsOut)
		}
	}
	for _, m := range []string{"customers", "orders"} {
		rec, err := gold.Build(ctx, env, gold.BuildOptions{Mart: m, Partition: d})
		if err != nil {
			t.Fatalf("gold build %s: %v", m, err)
		}
		if want := map[string]int64{"customers": 100, "orders": 99}[m]; rec.RowsOut != want {
			t.Errorf("mart %s: %d rows, want %d", m, rec.RowsOut, want)
		}
	}

	w := openWarehouse(t, env)
	// Customer 1 (Michael P.): orders 1 (2018-01-01, $10 by card) and 37
	// (2018-02-10, $23 by card). Customer 3 (Kathleen P.): orders 2, 24, 69 paid
	// $20 + $26 (coupon) + $19. Customer 10 (Henry W.) never ordered.
	got := rowsOf(t, w, `SELECT customer_id, first_name, last_name, CAST(first_order AS STRING), CAST(most_recent_order AS STRING),
		number_of_orders, customer_lifetime_value FROM "gold"."customers" WHERE as_of_date = DATE '2018-04-09' AND customer_id IN (1, 3, 10) ORDER BY 1`)
	want := "[1 Michael P. 2018-01-01 2018-02-10 2 33]\n[3 Kathleen P. 2018-01-02 2018-03-11 3 65]\n[10 Henry W. <nil> <nil> <nil> <nil>]"
	if got != want {
		t.Errorf("customers:\n%s\nwant:\n%s", got, want)
	}
	// Every payment belongs to an order, so the lifetime values add up to all
	// payments: 167,200 cents.
	if got := rowsOf(t, w, `SELECT SUM(customer_lifetime_value), COUNT(*) FROM "gold"."customers"`); got != "[1672 100]" {
		t.Errorf("total lifetime value and customers = %s, want [1672 100]", got)
	}
	// Order 25 (customer 51) was paid by bank transfer $20, card $22 and coupon $16;
	// order 9 (customer 53) by gift card $23 and a $0 bank transfer; order 1 by card.
	got = rowsOf(t, w, `SELECT order_id, customer_id, CAST(order_date AS STRING), status, credit_card_amount, coupon_amount,
		bank_transfer_amount, gift_card_amount, amount FROM "gold"."orders" WHERE order_id IN (1, 9, 25) ORDER BY 1`)
	want = "[1 1 2018-01-01 returned 10 0 0 0 10]\n[9 53 2018-01-12 completed 0 0 0 23 23]\n[25 51 2018-01-28 completed 22 16 20 0 58]"
	if got != want {
		t.Errorf("orders:\n%s\nwant:\n%s", got, want)
	}

	// Rebuilding the partition leaves one copy with the same checksum.
	sum := `SELECT COUNT(*), SUM(customer_lifetime_value), SUM(number_of_orders) FROM "gold"."customers"`
	before := rowsOf(t, w, sum)
	w.Close()
	for i := 0; i < 2; i++ {
		if _, err := gold.Build(ctx, env, gold.BuildOptions{Mart: "customers", Partition: d}); err != nil {
			t.Fatal(err)
		}
	}
	w = openWarehouse(t, env)
	if after := rowsOf(t, w, sum); after != before {
		t.Errorf("after rebuilding twice: %s, before %s", after, before)
	}
	w.Close()
}
