package generate

import (
	"math/rand/v2"
)

// Reason codes and outcomes the ledger uses besides the rule reasons
// (cast_failed:<col>, not_null:<col>, accepted_values:<col>, check:<col>,
// fk_orphan:<col>), which are silver's codes (DESIGN section 3).
const (
	ReasonPKNull        = "pk_null"
	ReasonPKDuplicate   = "pk_duplicate"
	ReasonDeduplicated  = "deduplicated"
	OutcomeQuarantined  = "quarantined"
	OutcomeDeduplicated = "deduplicated"
	// A later version of a key silver already holds from an earlier partition (an
	// order's status change one or two days after it was placed, a customer's or a
	// product's change): the ledger lists it so a check can tell cross-day versions
	// from keys silver should not repeat.
	ReasonLaterVersion  = "later_version"
	OutcomeLaterVersion = "later_version"
)

// tableGen writes one table's partition of one day, injecting faults and
// predicting, row by row, what silver will do with them.
type tableGen struct {
	bt     *boundTable
	pw     *partitionWriter
	frng   *rand.Rand // fault decisions: a stream of its own, so faults never change clean rows
	rate   float64
	next   int // round-robin position in the table's fault kinds
	day    *dayInfo
	ledger *ledgerChunk

	// older changes the content of an older version (dedup by updated_at).
	older func(r *rec)
	// vary changes a non-key, non-FK column of a conflicting duplicate, keeping it valid.
	vary func(r *rec)
}

func (g *tableGen) arena() *arena { return &g.pw.arena }

// boundary must be called before building each logical row (see arena).
func (g *tableGen) boundary() error { return g.pw.boundary() }

// emit writes the clean row r, maybe with one injected fault, and reports
// whether its key reaches silver. pres says, per FK column, whether the parent
// key of the clean value is in silver on or before the day (NULLs pass anyway).
func (g *tableGen) emit(r *rec, pres *[maxCols]bool) (bool, error) {
	rules := &g.bt.rules
	kind := numFaultKinds // no fault
	if g.rate > 0 && len(rules.kinds) > 0 && g.frng.Float64() < g.rate {
		if g.next == 0 {
			g.next = g.frng.IntN(len(rules.kinds)) + 1 // start the rotation anywhere
		}
		kind = rules.kinds[g.next%len(rules.kinds)]
		g.next++
	}
	switch kind {
	case faultPKNull:
		ok, err := g.plain(r, pres)
		if err != nil {
			return false, err
		}
		junk := *r
		if len(rules.pk) == 1 || g.frng.IntN(2) == 0 {
			for _, c := range rules.pk {
				junk.v[c] = nullish[g.frng.IntN(len(nullish))]
			}
		} else {
			junk.v[rules.pk[g.frng.IntN(len(rules.pk))]] = nullish[g.frng.IntN(len(nullish))]
		}
		g.record(&junk, ReasonPKNull)
		return ok, g.pw.emit(&junk)
	case faultCast, faultNotNull, faultAccepted, faultCheck:
		m := &rules.muts[kind][g.frng.IntN(len(rules.muts[kind]))]
		bad := *r
		bad.v[m.col] = m.values[g.frng.IntN(len(m.values))]
		g.record(&bad, m.reason)
		return false, g.pw.emit(&bad)
	case faultFK:
		m := &rules.muts[faultFK][g.frng.IntN(len(rules.muts[faultFK]))]
		bad := *r
		bad.v[m.col] = g.orphan(m.parent)
		g.record(&bad, g.fkReason(&bad, pres, m.col))
		return false, g.pw.emit(&bad)
	case faultDup:
		return g.duplicate(r, pres)
	}
	return g.plain(r, pres)
}

// plain writes r as it is: only a cascade (a parent missing from silver) rejects it.
func (g *tableGen) plain(r *rec, pres *[maxCols]bool) (bool, error) {
	if reason := g.fkReason(r, pres, -1); reason != "" {
		g.record(r, reason)
		return false, g.pw.emit(r)
	}
	return true, g.pw.emit(r)
}

// duplicate writes r and a second row with its key, as the dedup policy expects.
func (g *tableGen) duplicate(r *rec, pres *[maxCols]bool) (bool, error) {
	rules := &g.bt.rules
	reason := g.fkReason(r, pres, -1) // both rows share their FK values
	second := *r
	style := rules.dup
	if style == dupOlder && r.upd <= r.born {
		style = dupIdentical // no room for an older version: redeliver instead
	}
	switch style {
	case dupOlder:
		// An older version, delivered first as a CDC extract would.
		second.upd = r.upd - 1 - g.frng.Int32N(min(r.upd-r.born, 7200))
		a := g.arena()
		m := a.mark()
		a.b = appendTS(a.b, g.day.tsHead, second.upd)
		second.v[g.bt.def.col("updated_at")] = a.since(m)
		if g.older != nil {
			g.older(&second)
		}
		if err := g.pw.emit(&second); err != nil {
			return false, err
		}
		if err := g.pw.emit(r); err != nil {
			return false, err
		}
		if reason != "" {
			g.record(&second, reason)
			g.record(r, reason)
			return false, nil
		}
		g.record(&second, ReasonDeduplicated)
		return true, nil
	case dupIdentical:
		// An at-least-once redelivery: identical, so the first delivered stays.
		if err := g.pw.emit(r); err != nil {
			return false, err
		}
		if err := g.pw.emit(&second); err != nil {
			return false, err
		}
		if reason != "" {
			g.record(r, reason)
			g.record(&second, reason)
			return false, nil
		}
		g.record(&second, ReasonDeduplicated)
		return true, nil
	}
	// No dedup policy: two different rows for one key, neither can be chosen.
	g.vary(&second)
	if err := g.pw.emit(r); err != nil {
		return false, err
	}
	if err := g.pw.emit(&second); err != nil {
		return false, err
	}
	if reason == "" {
		reason = ReasonPKDuplicate
	}
	g.record(r, reason)
	g.record(&second, reason)
	return false, nil
}

// fkReason is the first foreign key, in spec order, whose parent is missing;
// orphanCol names a column holding a key that never existed.
func (g *tableGen) fkReason(r *rec, pres *[maxCols]bool, orphanCol int) string {
	for _, fk := range g.bt.rules.fks {
		if r.v[fk.col] == nil {
			continue // NULL passes the FK check (not_null is a row rule)
		}
		if fk.col == orphanCol || !pres[fk.col] {
			return fk.reason
		}
	}
	return ""
}

// orphan makes a key of parent that never existed.
func (g *tableGen) orphan(parent string) []byte {
	a := g.arena()
	m := a.mark()
	n := g.frng.Uint64()
	switch parent {
	case tCustomers:
		a.b = orphanCustomerID(a.b, n)
	case tProducts:
		a.b = orphanProductID(a.b, n)
	default:
		a.b = orphanOrderID(a.b, g.day.compact, n)
	}
	return a.since(m)
}

// record expects row r not to reach silver: quarantined for reason, or
// deduplicated (ReasonDeduplicated).
func (g *tableGen) record(r *rec, reason string) { g.ledger.add(g.bt.rules.pk, r, reason) }
