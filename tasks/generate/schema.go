package generate

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/shoplake/lakehouse/internal/lake"
	"github.com/shoplake/lakehouse/internal/spec"
	"github.com/shoplake/lakehouse/internal/sqltext"
)

// tableDef is what the generator knows of one shop table: the columns it fills
// (generator column index = position in cols), its key and the parents its
// foreign keys can point at.
type tableDef struct {
	name    string
	cols    []string
	pk      []string
	parents []fkParent
}

type fkParent struct{ col, parent string }

// Generator column indexes, one block per table, in tableDef.cols order.
const (
	cuID = iota
	cuEmail
	cuFirst
	cuLast
	cuCountry
	cuSignup
	cuUpdated
)

const (
	prID = iota
	prSKU
	prName
	prCategory
	prPrice
	prActive
	prUpdated
)

const (
	orID = iota
	orCustomer
	orTS
	orStatus
	orTotal
	orCurrency
	orUpdated
)

const (
	oiOrder = iota
	oiLine
	oiProduct
	oiQty
	oiPrice
	oiDiscount
)

const (
	paID = iota
	paOrder
	paMethod
	paAmount
	paStatus
	paTS
)

const (
	shID = iota
	shOrder
	shCarrier
	shStatus
	shShipped
	shDelivered
)

const (
	reID = iota
	reOrder
	reProduct
	reQty
	reRefund
	reReason
	reTS
)

const (
	ceID = iota
	ceSession
	ceCustomer
	ceProduct
	ceType
	ceChannel
	ceTS
)

// Table names, in generation (dependency) order.
const (
	tCustomers  = "customers"
	tProducts   = "products"
	tOrders     = "orders"
	tOrderItems = "order_items"
	tPayments   = "payments"
	tShipments  = "shipments"
	tReturns    = "returns"
	tCartEvents = "cart_events"
)

// Positions of the tables in shopTables.
const (
	iCustomers = iota
	iProducts
	iOrders
	iOrderItems
	iPayments
	iShipments
	iReturns
	iCartEvents
)

var shopTables = []tableDef{
	{name: tCustomers, cols: []string{"customer_id", "email", "first_name", "last_name", "country", "signup_ts", "updated_at"},
		pk: []string{"customer_id"}},
	{name: tProducts, cols: []string{"product_id", "sku", "name", "category", "unit_price", "active", "updated_at"},
		pk: []string{"product_id"}},
	{name: tOrders, cols: []string{"order_id", "customer_id", "order_ts", "status", "total_amount", "currency", "updated_at"},
		pk: []string{"order_id"}, parents: []fkParent{{"customer_id", tCustomers}}},
	{name: tOrderItems, cols: []string{"order_id", "line_no", "product_id", "quantity", "unit_price", "discount_amount"},
		pk: []string{"order_id", "line_no"}, parents: []fkParent{{"order_id", tOrders}, {"product_id", tProducts}}},
	{name: tPayments, cols: []string{"payment_id", "order_id", "payment_method", "amount", "status", "paid_ts"},
		pk: []string{"payment_id"}, parents: []fkParent{{"order_id", tOrders}}},
	{name: tShipments, cols: []string{"shipment_id", "order_id", "carrier", "status", "shipped_ts", "delivered_ts"},
		pk: []string{"shipment_id"}, parents: []fkParent{{"order_id", tOrders}}},
	{name: tReturns, cols: []string{"return_id", "order_id", "product_id", "quantity", "refund_amount", "reason", "return_ts"},
		pk: []string{"return_id"}, parents: []fkParent{{"order_id", tOrders}, {"product_id", tProducts}}},
	{name: tCartEvents, cols: []string{"event_id", "session_id", "customer_id", "product_id", "event_type", "channel", "event_ts"},
		pk: []string{"event_id"}, parents: []fkParent{{"customer_id", tCustomers}, {"product_id", tProducts}}},
}

func (d *tableDef) col(name string) int { return slices.Index(d.cols, name) }

func (d *tableDef) parentOf(col string) string {
	for _, p := range d.parents {
		if p.col == col {
			return p.parent
		}
	}
	return ""
}

// faultKind is one kind of bad row silver must catch.
type faultKind uint8

const (
	faultPKNull faultKind = iota
	faultCast
	faultNotNull
	faultAccepted
	faultCheck
	faultFK
	faultDup
	numFaultKinds
)

// mutation turns a clean row into one with exactly one row-rule or FK fault.
type mutation struct {
	col    int
	reason string
	values [][]byte // the bad values; a nil entry writes NULL
	parent string   // FK faults: the parent table an orphan key imitates
}

type fkRule struct {
	col    int
	reason string
}

// dupStyle is how a duplicate key is injected, following the spec's dedup policy.
type dupStyle uint8

const (
	dupNone      dupStyle = iota
	dupOlder              // dedup by updated_at desc: an older version of the row
	dupIdentical          // any other dedup policy: an identical redelivery, which ties
	dupConflict           // no dedup: a second row with the same key and other content
)

// tableRules is what silver will do with a table's rows, as far as the generator
// predicts it: derived from the spec's base_silver table.
type tableRules struct {
	pk    []int
	fks   []fkRule // in the spec's foreign_keys order
	muts  [numFaultKinds][]mutation
	kinds []faultKind // the kinds the spec lets this table carry
	dup   dupStyle
}

// boundTable is a shop table bound to the spec: output column order, schema, rules.
type boundTable struct {
	def    *tableDef
	perm   []int // output position -> generator column
	fields []lake.Field
	schema *parquet.Schema
	rules  tableRules
	silver *spec.SilverTable // nil when no base_silver table reads it
}

// bindSpec checks that s is a shop spec and binds every shop table to it.
func bindSpec(s *spec.Spec) ([]*boundTable, error) {
	if s == nil {
		return nil, errors.New("generate: no spec loaded")
	}
	var missing []string
	for _, d := range shopTables {
		if _, ok := s.BronzeTable(d.name); !ok {
			missing = append(missing, d.name)
		}
	}
	if len(missing) > 0 {
		names := make([]string, len(shopTables))
		for i, d := range shopTables {
			names[i] = d.name
		}
		return nil, fmt.Errorf("spec %s has no bronze table %s: the generator makes the shop domain's tables (%s); use the shop spec",
			specName(s), strings.Join(missing, ", "), strings.Join(names, ", "))
	}
	var errs []string
	out := make([]*boundTable, len(shopTables))
	for i := range shopTables {
		bt, err := bindTable(s, &shopTables[i])
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		out[i] = bt
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("spec %s does not match the shop generator: %s", specName(s), strings.Join(errs, "; "))
	}
	return out, nil
}

func specName(s *spec.Spec) string {
	if s.File != "" {
		return s.File
	}
	return s.Pipeline
}

func bindTable(s *spec.Spec, d *tableDef) (*boundTable, error) {
	bronze, _ := s.BronzeTable(d.name)
	bt := &boundTable{def: d}
	names := make([]string, 0, len(bronze.Columns))
	for _, c := range bronze.Columns {
		g := d.col(c.Name)
		if g < 0 {
			return nil, fmt.Errorf("bronze table %s: column %s is not one the generator fills (it fills %s)", d.name, c.Name, strings.Join(d.cols, ", "))
		}
		if slices.Contains(bt.perm, g) {
			return nil, fmt.Errorf("bronze table %s: column %s is listed twice", d.name, c.Name)
		}
		if !strings.EqualFold(c.Type, "VARCHAR") {
			return nil, fmt.Errorf("bronze table %s: column %s is %s, the generator writes every bronze column as VARCHAR", d.name, c.Name, c.Type)
		}
		bt.perm = append(bt.perm, g)
		bt.fields = append(bt.fields, lake.Field{Name: c.Name, Type: c.Type})
		names = append(names, c.Name)
	}
	if len(bt.perm) != len(d.cols) {
		return nil, fmt.Errorf("bronze table %s: the spec must list the columns %s", d.name, strings.Join(d.cols, ", "))
	}
	bt.schema = parquetSchema(d.name, names)
	for i := range s.BaseSilver.Tables {
		if s.BaseSilver.Tables[i].Source == d.name {
			bt.silver = &s.BaseSilver.Tables[i]
			break
		}
	}
	if bt.silver == nil {
		return bt, nil // nothing reads it into silver: inject no faults
	}
	rules, err := deriveRules(s, d, bt.silver)
	if err != nil {
		return nil, err
	}
	bt.rules = rules
	return bt, nil
}

// deriveRules reads the silver table's key, foreign keys and column rules, and
// lists the faults that break exactly one of them.
func deriveRules(s *spec.Spec, d *tableDef, st *spec.SilverTable) (tableRules, error) {
	var r tableRules
	if !slices.Equal(st.PrimaryKey, d.pk) {
		return r, fmt.Errorf("silver table %s: primary key [%s], the generator's keys are [%s]",
			st.Name, strings.Join(st.PrimaryKey, ", "), strings.Join(d.pk, ", "))
	}
	for _, c := range d.pk {
		r.pk = append(r.pk, d.col(c))
	}
	for _, fk := range st.ForeignKeys {
		parent := d.parentOf(fk.Column)
		pt, ok := s.SilverTable(fk.ParentTable())
		// Only one-column keys that quarantine their orphans: the ledger predicts a
		// quarantine row for every orphan it injects.
		if fk.Column == "" || fk.Warns() || parent == "" || !ok || pt.Source != parent || len(pt.PrimaryKey) != 1 || pt.PrimaryKey[0] != fk.ParentColumn() {
			return r, fmt.Errorf("silver table %s: foreign key %s -> %s is not one the generator models", st.Name, fk.Name(), fk.References)
		}
		reason := fk.Reason()
		r.fks = append(r.fks, fkRule{col: d.col(fk.Column), reason: reason})
		r.muts[faultFK] = append(r.muts[faultFK], mutation{col: d.col(fk.Column), reason: reason, parent: parent})
	}
	for _, c := range st.Columns {
		g := d.col(c.Name)
		if g < 0 || slices.Contains(r.pk, g) {
			continue // computed columns and key columns get no row faults
		}
		if bad := castFailures(c); bad != nil {
			r.muts[faultCast] = append(r.muts[faultCast], mutation{col: g, reason: "cast_failed:" + c.Name, values: bad})
		}
		if c.NotNull {
			r.muts[faultNotNull] = append(r.muts[faultNotNull], mutation{col: g, reason: "not_null:" + c.Name, values: nullish})
		}
		if len(c.AcceptedValues) > 0 {
			r.muts[faultAccepted] = append(r.muts[faultAccepted], mutation{col: g, reason: "accepted_values:" + c.Name, values: outsideOf(c.AcceptedValues)})
		}
		if bad := checkViolations(c); bad != nil {
			r.muts[faultCheck] = append(r.muts[faultCheck], mutation{col: g, reason: "check:" + c.Name, values: bad})
		}
	}
	switch {
	case st.Dedup != nil && len(st.Dedup.OrderBy) == 1 && normalize(st.Dedup.OrderBy[0]) == "updated_at desc" && d.col("updated_at") >= 0:
		r.dup = dupOlder
	case st.Dedup != nil:
		r.dup = dupIdentical
	default:
		r.dup = dupConflict
	}
	if len(r.pk) > 0 {
		r.kinds = append(r.kinds, faultPKNull)
	}
	for k := faultCast; k <= faultFK; k++ {
		if len(r.muts[k]) > 0 {
			r.kinds = append(r.kinds, k)
		}
	}
	r.kinds = append(r.kinds, faultDup)
	return r, nil
}

func normalize(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// Bad values. Cleaning trims values and turns empty strings into NULL, so blanks count as NULL.
var (
	nullish       = [][]byte{nil, empty, []byte("   ")}
	badTimestamps = [][]byte{[]byte("2026-13-45T99:00:00Z"), []byte("yesterday"), []byte("20/11/2026 10:15")}
	badNumbers    = [][]byte{[]byte("N/A"), []byte("12,5x"), []byte("twelve")}
	badBooleans   = [][]byte{[]byte("maybe"), []byte("perhaps")}
)

var strptimeExpr = regexp.MustCompile(`^\s*try_strptime\(\s*(\w+)\s*,`)

// castFailures are values the column's cast (or strptime expr) turns into NULL.
func castFailures(c spec.Column) [][]byte {
	if c.Expr != "" {
		m := strptimeExpr.FindStringSubmatch(c.Expr)
		if m == nil || m[1] != c.Name {
			return nil // an expression the generator cannot predict
		}
		return badTimestamps
	}
	switch typeFamily(c.Type) {
	case "timestamp":
		return badTimestamps
	case "decimal", "integer", "unsigned":
		return badNumbers
	case "boolean":
		return badBooleans
	}
	return nil
}

func typeFamily(t string) string {
	typ, _ := sqltext.ParseType(t)
	switch typ.Family() {
	case sqltext.Timestamp, sqltext.Date:
		return "timestamp"
	case sqltext.Decimal, sqltext.Float:
		return "decimal"
	case sqltext.Integer:
		if strings.HasPrefix(typ.Name, "U") {
			return "unsigned" // a negative value fails its cast, not its check
		}
		return "integer"
	case sqltext.Boolean:
		return "boolean"
	}
	return "varchar"
}

// outsideOf gives a value that is not in the accepted set.
func outsideOf(accepted []string) [][]byte {
	for _, v := range []string{"lost_in_space", "unknown_value", "zz_other"} {
		if !slices.Contains(accepted, v) {
			return [][]byte{[]byte(v)}
		}
	}
	return [][]byte{[]byte("zz_" + strings.Join(accepted, "_"))}
}

var (
	signCheck     = regexp.MustCompile(`^\s*(\w+)\s*(>=|>)\s*0\s*$`)
	containsCheck = regexp.MustCompile(`^\s*contains\(\s*(\w+)\s*,\s*'([^'\\]+)'\s*\)\s*$`)
)

// checkViolations are values that cast cleanly but fail the column's check; only
// the check shapes the generator understands get any.
func checkViolations(c spec.Column) [][]byte {
	if c.Check == "" {
		return nil
	}
	fam := typeFamily(c.Type)
	if m := signCheck.FindStringSubmatch(c.Check); m != nil && m[1] == c.Name && c.Expr == "" {
		switch {
		case fam == "decimal" && m[2] == ">=":
			return [][]byte{[]byte("-12.50"), []byte("-0.01")}
		case fam == "decimal":
			return [][]byte{[]byte("0.00"), []byte("-5.00")}
		case fam == "integer" && m[2] == ">=":
			return [][]byte{[]byte("-1"), []byte("-3")}
		case fam == "integer":
			return [][]byte{[]byte("0"), []byte("-2")}
		}
	}
	if m := containsCheck.FindStringSubmatch(c.Check); m != nil && m[1] == c.Name && fam == "varchar" && c.Expr == "" {
		v := strings.ReplaceAll("jane.doe.example.com", m[2], "")
		if v != "" && !strings.Contains(v, m[2]) {
			return [][]byte{[]byte(v)}
		}
	}
	return nil
}

// enum is the value list of a column: the spec's accepted_values when it has
// them, else def. Values the generator gives a meaning to must all be accepted.
func enum(bt *boundTable, col string, def []string, meaningful bool) ([][]byte, error) {
	vals := def
	if bt.silver != nil {
		if c, ok := bt.silver.Column(col); ok && len(c.AcceptedValues) > 0 {
			if meaningful {
				for _, v := range def {
					if !slices.Contains(c.AcceptedValues, v) {
						return nil, fmt.Errorf("silver table %s: %s must accept %q (the generator's values are %s)",
							bt.silver.Name, col, v, strings.Join(def, ", "))
					}
				}
			} else {
				vals = c.AcceptedValues
			}
		}
	}
	out := make([][]byte, len(vals))
	for i, v := range vals {
		out[i] = []byte(v)
	}
	return out, nil
}
