package generate

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Reference volumes per day at scale 1 (DESIGN section 8); counts scale linearly.
const (
	ordersPerDay       = 1_000_000
	newCustomersPerDay = 50_000
	catalogSize        = 20_000
	customerUpdateRate = 0.02  // of the existing customers
	productChangeRate  = 0.005 // of the reference catalog: updates and additions
	returnRate         = 0.05  // of the orders
	retryRate          = 0.05  // orders whose payment failed once before the final attempt
	anonSessionRate    = 0.7   // anonymous (non-converting) sessions per order
	lostShipmentRate   = 0.02
	// laterVersionRate: orders whose status changes after their day (placed -> paid or
	// cancelled, paid -> shipped, shipped -> delivered), as a new version in the bronze
	// orders partition of one or two days later.
	laterVersionRate = 0.1
)

// MaxVersionLag is how many days after its first version an order's last version
// lands; the reference spec promises versions_within 3d, a day of margin.
const MaxVersionLag = 2

// Smallest counts per day, so tiny scales still give every table a few rows.
const (
	minOrders         = 20
	minNewCustomers   = 5
	minCatalog        = 20
	minProductChanges = 2
	minReturns        = 3
)

// Timestamps of orders stay clear of the day's edges, so later events
// (updated_at, payments) and earlier versions still fall inside the day.
const (
	minSec       = 60
	maxOrderSec  = secondsPerDay - 120
	lastSecOfDay = secondsPerDay - 1
)

// Order statuses, payment statuses, shipment statuses and event types carry
// meaning here; the spec must accept each of them.
var (
	orderStatuses    = []string{"placed", "paid", "shipped", "delivered", "cancelled"}
	paymentStatuses  = []string{"authorized", "captured", "failed", "refunded"}
	shipmentStatuses = []string{"label_created", "in_transit", "delivered", "lost"}
	eventTypes       = []string{"page_view", "product_view", "add_to_cart", "remove_from_cart", "checkout_started"}
)

const (
	osPlaced = iota
	osPaid
	osShipped
	osDelivered
	osCancelled
)

const (
	psAuthorized = iota
	psCaptured
	psFailed
	psRefunded
)

const (
	ssLabelCreated = iota
	ssInTransit
	ssDelivered
	ssLost
)

const (
	etPageView = iota
	etProductView
	etAddToCart
	etRemoveFromCart
	etCheckoutStarted
)

// Weights of order statuses (placed, paid, shipped, delivered, cancelled) and of
// the number of items per order (1..6, mean 3.0).
var (
	statusWeights = []int{4, 6, 45, 40, 5}
	itemWeights   = []int{20, 25, 20, 15, 10, 10}
	qtyWeights    = []int{70, 20, 7, 2, 1}
)

// Default value lists where the spec accepts anything.
var (
	defaultCategories = []string{"apparel", "electronics", "home", "beauty", "sports", "toys", "books"}
	defaultCurrencies = []string{"USD", "EUR", "GBP"}
	defaultMethods    = []string{"card", "paypal", "gift_card", "bank_transfer"}
	defaultCarriers   = []string{"ups", "dhl", "fedex", "usps"}
	defaultReasons    = []string{"damaged", "wrong_size", "not_as_described", "changed_mind", "late_delivery"}
	defaultChannels   = []string{"direct", "organic_search", "paid_search", "email", "social", "affiliate"}
)

var (
	firstNames = []string{"Emma", "Liam", "Olivia", "Noah", "Ava", "Elijah", "Sophia", "Lucas", "Mia", "Mateo", "Isabella", "Leo",
		"Amelia", "Hugo", "Chloe", "Arjun", "Yuki", "Sofia", "Lena", "Jonas", "Maya", "Omar", "Zoe", "Ethan",
		"Nora", "Felix", "Clara", "Ivan", "Priya", "Diego", "Hannah", "Kenji"}
	lastNames = []string{"Smith", "Johnson", "Williams", "Brown", "Garcia", "Miller", "Davis", "Martinez", "Lopez", "Wilson",
		"Anderson", "Taylor", "Thomas", "Moore", "Martin", "Lee", "Walker", "Young", "King", "Wright",
		"Schmidt", "Rossi", "Dubois", "Novak", "Kowalski", "Tanaka", "Silva", "Kim", "Nguyen", "Patel", "Jensen", "O'Brien"}
	countries    = []string{"US", "GB", "DE", "FR", "ES", "IT", "NL", "SE", "PL", "CA", "AU", "JP", "BR", "IE"}
	emailDomains = []string{"example.com", "mail.example", "inbox.example.org", "shopper.example.net"}
	adjectives   = []string{"Classic", "Cozy", "Smart", "Compact", "Deluxe", "Eco", "Vintage", "Ultra", "Mini", "Pro", "Soft", "Bold"}
	nouns        = map[string][]string{
		"apparel":     {"Hoodie", "T-Shirt", "Jacket", "Jeans", "Sneakers", "Scarf"},
		"electronics": {"Headphones", "Charger", "Speaker", "Keyboard", "Smartwatch", "Webcam"},
		"home":        {"Lamp", "Mug", "Blanket", "Vase", "Pillow", "Kettle"},
		"beauty":      {"Lipstick", "Serum", "Shampoo", "Perfume", "Face Mask", "Lotion"},
		"sports":      {"Yoga Mat", "Dumbbell", "Water Bottle", "Racket", "Jump Rope", "Backpack"},
		"toys":        {"Puzzle", "Robot", "Plush Bear", "Board Game", "Kite", "Blocks"},
		"books":       {"Cookbook", "Novel", "Atlas", "Journal", "Comic", "Guide"},
	}
	genericNouns = []string{"Item", "Gadget", "Kit", "Set"}
)

type product struct {
	cat    int32
	price  int32 // cents
	active bool
}

// order and item are the compact in-memory model of one day's orders; the
// Parquet rows of orders, items, payments, shipments, returns and cart events
// are all rendered from it.
type order struct {
	cust   int32
	ts     int32 // order_ts, seconds into the day
	upd    int32 // updated_at
	status int8
	cur    int8
	nItems int8
	first  int32 // index of its first item
	total  int64 // cents
}

// laterVersion is a status change of an order placed on an earlier day, landing
// in the bronze orders partition of day.
type laterVersion struct {
	day    int   // index of the day whose partition carries it
	origin int   // index of the day the order was placed
	seq    int   // the order's position in its day
	upd    int32 // updated_at, seconds into day
	status int8
	o      order // the order as placed (customer, order_ts, currency, total)
	// inSilver, shared by an order's versions, says whether silver holds the key yet.
	inSilver *bool
}

type item struct {
	prod  int32
	qty   int32
	price int32
	disc  int32
}

type orderBook struct {
	day    *dayInfo
	orders []order
	items  []item
	// rejected marks the orders whose key does not reach silver.
	rejected []bool
}

// world is the state carried from day to day.
type world struct {
	seed     int64
	scale    float64
	heads    []string // timestamp prefix of every generated day
	compacts []string // yyyymmdd of every generated day, inside ids

	custCum []int32 // customers existing after each day
	custFS  []int32 // day a customer first reached silver, -1 never
	prods   []product
	prodFS  []int32 // day a product first reached silver, -1 never
	active  []int32
	prev    *orderBook
	// later are the orders' versions still to land, in the order they were drawn.
	later []laterVersion

	categories, currencies, methods, carriers, reasons, channels [][]byte
	orderSt, paymentSt, shipmentSt, eventTy                      [][]byte
	catCodes                                                     [][]byte
}

func (w *world) scaled(base float64, least int) int {
	return max(least, int(math.Round(base*w.scale)))
}

// rng is the random stream of one (table, day), independent of every other.
func (w *world) rng(stream string, d *dayInfo) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(stream))
	h.Write([]byte{0})
	h.Write([]byte(d.iso))
	k := h.Sum64()
	return rand.New(rand.NewPCG(splitmix(uint64(w.seed)^k), splitmix(k+0x9e3779b97f4a7c15)))
}

// hash derives stable attributes of an entity (a customer's name) from the seed.
func (w *world) hash(kind, a, b uint64) uint64 {
	return splitmix(splitmix(uint64(w.seed)^kind*0xbf58476d1ce4e5b9) ^ splitmix(a) ^ b*0x94d049bb133111eb)
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func weighted(rng *rand.Rand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := rng.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

// sampleDistinct picks k distinct values of [0, n), sorted.
func sampleDistinct(rng *rand.Rand, n int32, k int) []int32 {
	seen := make(map[int32]struct{}, k)
	out := make([]int32, 0, k)
	for len(out) < k {
		v := rng.Int32N(n)
		if _, dup := seen[v]; dup {
			continue
		}
		seen[v] = struct{}{}
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

func clampSec(s int32) int32 { return min(max(s, 0), lastSecOfDay) }

// put appends a value built by fn to the arena and returns it.
func put(a *arena, fn func(b []byte) []byte) []byte {
	m := a.mark()
	a.b = fn(a.b)
	return a.since(m)
}

func putTS(a *arena, head string, sec int32) []byte {
	m := a.mark()
	a.b = appendTS(a.b, head, sec)
	return a.since(m)
}

func putMoney(a *arena, cents int64) []byte {
	m := a.mark()
	a.b = appendMoney(a.b, cents)
	return a.since(m)
}

func putInt(a *arena, n int64) []byte {
	m := a.mark()
	a.b = strconv.AppendInt(a.b, n, 10)
	return a.since(m)
}

var (
	trueBytes  = []byte("true")
	falseBytes = []byte("false")
)

// ---- customers ----

const hashCustomer, hashCustomerUpdate, hashProduct = 1, 2, 3

func (w *world) signupSec(idx int32) int32 {
	h := w.hash(hashCustomer, uint64(idx), 0)
	return minSec + int32((h>>40)%uint64(secondsPerDay-3600))
}

// createdDay is the day a customer signed up.
func (w *world) createdDay(idx int32) int {
	return sort.Search(len(w.custCum), func(j int) bool { return w.custCum[j] > idx })
}

func (w *world) genCustomers(g *tableGen, d *dayInfo) error {
	rng := w.rng(tCustomers, d)
	var before int32
	if d.index > 0 {
		before = w.custCum[d.index-1]
	}
	nNew := w.scaled(newCustomersPerDay, minNewCustomers)
	var updates []int32
	if before > 0 {
		n := min(int(before), max(1, int(math.Round(float64(before)*customerUpdateRate))))
		updates = sampleDistinct(rng, before, n)
	}
	var pres [maxCols]bool
	// Changes to existing customers, then the day's sign-ups.
	for _, idx := range updates {
		if err := g.boundary(); err != nil {
			return err
		}
		r := w.customerRow(g, d, idx, minSec+rng.Int32N(lastSecOfDay-minSec))
		ok, err := g.emit(&r, &pres)
		if err != nil {
			return err
		}
		switch {
		case ok && w.custFS[idx] >= 0:
			g.record(&r, ReasonLaterVersion)
		case ok:
			w.custFS[idx] = int32(d.index)
		}
	}
	w.custCum = append(w.custCum, before+int32(nNew))
	for k := range nNew {
		if err := g.boundary(); err != nil {
			return err
		}
		idx := before + int32(k)
		w.custFS = append(w.custFS, -1)
		r := w.customerRow(g, d, idx, -1)
		ok, err := g.emit(&r, &pres)
		if err != nil {
			return err
		}
		if ok {
			w.custFS[idx] = int32(d.index)
		}
	}
	return nil
}

// customerRow renders a customer as of day d: a sign-up (upd < 0) or a change
// at upd seconds into the day (a new e-mail address, sometimes a move abroad).
func (w *world) customerRow(g *tableGen, d *dayInfo, idx, upd int32) rec {
	a := g.arena()
	h := w.hash(hashCustomer, uint64(idx), 0)
	first, last := firstNames[h%uint64(len(firstNames))], lastNames[(h>>8)%uint64(len(lastNames))]
	country := countries[(h>>16)%uint64(len(countries))]
	domain := emailDomains[(h>>24)%uint64(len(emailDomains))]
	signup := w.signupSec(idx)
	created := d.index
	if upd >= 0 {
		created = w.createdDay(idx)
		u := w.hash(hashCustomerUpdate, uint64(idx), uint64(d.index))
		domain = emailDomains[u%uint64(len(emailDomains))]
		if (u>>8)%10 == 0 {
			country = countries[(u>>16)%uint64(len(countries))]
		}
	}
	var r rec
	if upd < 0 {
		// A sign-up: the row is the version of a few minutes later (profile completed).
		upd = min(signup+int32(w.hash(hashCustomerUpdate, uint64(idx), 1<<20)%600), lastSecOfDay)
		r.born = signup
	}
	r.upd = upd
	r.v[cuID] = put(a, func(b []byte) []byte { return appendCustomerID(b, idx) })
	r.v[cuEmail] = put(a, func(b []byte) []byte {
		b = append(b, strings.ToLower(first)...)
		b = append(b, '.')
		b = append(b, strings.ToLower(strings.ReplaceAll(last, "'", ""))...)
		b = strconv.AppendInt(b, int64(idx)+1, 10)
		b = append(b, '@')
		return append(b, domain...)
	})
	r.v[cuFirst] = []byte(first)
	r.v[cuLast] = []byte(last)
	r.v[cuCountry] = []byte(country)
	r.v[cuSignup] = putTS(a, w.heads[created], signup)
	r.v[cuUpdated] = putTS(a, d.tsHead, upd)
	return r
}

// ---- products ----

func randomPrice(rng *rand.Rand) int32 {
	lo, hi := math.Log(299), math.Log(49999)
	c := int32(math.Exp(lo + rng.Float64()*(hi-lo)))
	return c/100*100 + 99
}

func (w *world) genProducts(g *tableGen, d *dayInfo) error {
	rng := w.rng(tProducts, d)
	var pres [maxCols]bool
	adds := w.scaled(catalogSize, minCatalog)
	if d.index > 0 {
		changes := w.scaled(catalogSize*productChangeRate, minProductChanges)
		adds = max(1, changes*2/5)
		upds := min(len(w.prods), max(1, changes-adds))
		for _, idx := range sampleDistinct(rng, int32(len(w.prods)), upds) {
			if err := g.boundary(); err != nil {
				return err
			}
			p := &w.prods[idx]
			if rng.IntN(4) == 0 {
				p.active = !p.active
			} else {
				f := 0.85 + 0.3*rng.Float64()
				p.price = max(99, int32(float64(p.price)*f)/100*100+99)
			}
			r := w.productRow(g, d, idx, minSec+rng.Int32N(lastSecOfDay-minSec))
			ok, err := g.emit(&r, &pres)
			if err != nil {
				return err
			}
			switch {
			case ok && w.prodFS[idx] >= 0:
				g.record(&r, ReasonLaterVersion)
			case ok:
				w.prodFS[idx] = int32(d.index)
			}
		}
	}
	for range adds {
		if err := g.boundary(); err != nil {
			return err
		}
		idx := int32(len(w.prods))
		w.prods = append(w.prods, product{cat: rng.Int32N(int32(len(w.categories))), price: randomPrice(rng), active: rng.IntN(100) < 97})
		w.prodFS = append(w.prodFS, -1)
		r := w.productRow(g, d, idx, minSec+rng.Int32N(lastSecOfDay-minSec))
		ok, err := g.emit(&r, &pres)
		if err != nil {
			return err
		}
		if ok {
			w.prodFS[idx] = int32(d.index)
		}
	}
	w.active = w.active[:0]
	for i, p := range w.prods {
		if p.active {
			w.active = append(w.active, int32(i))
		}
	}
	if len(w.active) == 0 {
		for i := range w.prods {
			w.active = append(w.active, int32(i))
		}
	}
	return nil
}

func (w *world) productRow(g *tableGen, d *dayInfo, idx, upd int32) rec {
	a := g.arena()
	p := w.prods[idx]
	cat := w.categories[p.cat]
	h := w.hash(hashProduct, uint64(idx), 0)
	ns := nouns[string(cat)]
	if ns == nil {
		ns = genericNouns
	}
	var r rec
	r.upd = upd
	r.v[prID] = put(a, func(b []byte) []byte { return appendProductID(b, idx) })
	r.v[prSKU] = put(a, func(b []byte) []byte {
		b = append(b, "SKU-"...)
		b = append(b, w.catCodes[p.cat]...)
		return appendID(b, "-", int64(idx)+1, 5)
	})
	r.v[prName] = put(a, func(b []byte) []byte {
		b = append(b, adjectives[h%uint64(len(adjectives))]...)
		b = append(b, ' ')
		return append(b, ns[(h>>8)%uint64(len(ns))]...)
	})
	r.v[prCategory] = cat
	r.v[prPrice] = putMoney(a, int64(p.price))
	r.v[prActive] = falseBytes
	if p.active {
		r.v[prActive] = trueBytes
	}
	r.v[prUpdated] = putTS(a, d.tsHead, upd)
	return r
}

// ---- orders and their items ----

// orderBook draws the day's orders and items: customers signed up by the order
// time, active products at today's prices, total = sum(qty * price - discount).
func (w *world) orderBook(d *dayInfo) *orderBook {
	orng, irng := w.rng(tOrders, d), w.rng(tOrderItems, d)
	n := w.scaled(ordersPerDay, minOrders)
	custN := w.custCum[d.index]
	var newFrom int32
	if d.index > 0 {
		newFrom = w.custCum[d.index-1]
	}
	b := &orderBook{day: d, orders: make([]order, n), items: make([]item, 0, n*3+n/8), rejected: make([]bool, n)}
	for s := range b.orders {
		o := &b.orders[s]
		o.cust = orng.Int32N(custN)
		lo := int32(minSec)
		if o.cust >= newFrom {
			lo = w.signupSec(o.cust) + 60
		}
		o.ts = lo + orng.Int32N(maxOrderSec-lo+1)
		o.upd = o.ts + 60 + orng.Int32N(min(7200, lastSecOfDay-o.ts-60)+1)
		o.status = int8(weighted(orng, statusWeights))
		o.cur = int8(orng.IntN(len(w.currencies)))
		o.nItems = int8(weighted(irng, itemWeights) + 1)
		o.first = int32(len(b.items))
		for range o.nItems {
			p := w.active[irng.IntN(len(w.active))]
			it := item{prod: p, qty: int32(weighted(irng, qtyWeights) + 1), price: w.prods[p].price}
			if irng.IntN(5) == 0 {
				it.disc = int32(int64(it.qty) * int64(it.price) * int64(5+irng.IntN(16)) / 100)
			}
			o.total += int64(it.qty)*int64(it.price) - int64(it.disc)
			b.items = append(b.items, it)
		}
	}
	return b
}

func (w *world) putOrderID(a *arena, d *dayInfo, seq int) []byte {
	m := a.mark()
	a.b = appendDayID(a.b, orderPrefix, d.compact, int64(seq)+1, orderWidth)
	return a.since(m)
}

func (w *world) genOrders(g *tableGen, b *orderBook) error {
	var pres [maxCols]bool
	g.older = func(r *rec) { r.v[orStatus] = w.orderSt[osPlaced] }
	for s := range b.orders {
		if err := g.boundary(); err != nil {
			return err
		}
		o := &b.orders[s]
		a := g.arena()
		var r rec
		r.upd, r.born = o.upd, o.ts
		r.v[orID] = w.putOrderID(a, b.day, s)
		r.v[orCustomer] = put(a, func(x []byte) []byte { return appendCustomerID(x, o.cust) })
		r.v[orTS] = putTS(a, b.day.tsHead, o.ts)
		r.v[orStatus] = w.orderSt[o.status]
		r.v[orTotal] = putMoney(a, o.total)
		r.v[orCurrency] = w.currencies[o.cur]
		r.v[orUpdated] = putTS(a, b.day.tsHead, o.upd)
		pres[orCustomer] = w.custFS[o.cust] >= 0
		ok, err := g.emit(&r, &pres)
		if err != nil {
			return err
		}
		b.rejected[s] = !ok
	}
	return w.genLaterVersions(g, b.day, &pres)
}

// nextStatus is the status an order moves to after st, or -1 when st is final.
func nextStatus(rng *rand.Rand, st int8) int8 {
	switch st {
	case osPlaced:
		if rng.IntN(10) < 3 {
			return osCancelled
		}
		return osPaid
	case osPaid:
		return osShipped
	case osShipped:
		return osDelivered
	}
	return -1
}

// scheduleVersions draws the later versions of a day's orders: a tenth of those
// not yet delivered or cancelled change status one or two days later, and a third
// of those changed the next day change again the day after (placed -> paid ->
// shipped). A stream of its own, so the day's other rows do not change with it.
func (w *world) scheduleVersions(b *orderBook) {
	rng := w.rng(tOrders+"#versions", b.day)
	for s := range b.orders {
		o := &b.orders[s]
		st := nextStatus(rng, o.status)
		if st < 0 || rng.Float64() >= laterVersionRate {
			continue
		}
		lag := 1 + rng.IntN(MaxVersionLag)
		inSilver := new(bool)
		*inSilver = !b.rejected[s]
		for {
			w.later = append(w.later, laterVersion{day: b.day.index + lag, origin: b.day.index, seq: s,
				upd: minSec + rng.Int32N(maxOrderSec-minSec), status: st, o: *o, inSilver: inSilver})
			next := nextStatus(rng, st)
			if lag >= MaxVersionLag || next < 0 || rng.IntN(3) != 0 {
				break
			}
			st, lag = next, lag+1
		}
	}
}

// genLaterVersions writes the versions due on day d of orders placed earlier,
// after the day's own orders, and forgets them.
func (w *world) genLaterVersions(g *tableGen, d *dayInfo, pres *[maxCols]bool) error {
	keep := w.later[:0]
	var due []laterVersion
	for _, v := range w.later {
		if v.day == d.index {
			due = append(due, v)
		} else {
			keep = append(keep, v)
		}
	}
	w.later = keep
	for _, v := range due {
		if err := g.boundary(); err != nil {
			return err
		}
		a := g.arena()
		var r rec
		// born 0: an older duplicate of this version (a fault) stays inside day d.
		r.upd = v.upd
		r.v[orID] = put(a, func(x []byte) []byte {
			return appendDayID(x, orderPrefix, w.compacts[v.origin], int64(v.seq)+1, orderWidth)
		})
		r.v[orCustomer] = put(a, func(x []byte) []byte { return appendCustomerID(x, v.o.cust) })
		r.v[orTS] = putTS(a, w.heads[v.origin], v.o.ts)
		r.v[orStatus] = w.orderSt[v.status]
		r.v[orTotal] = putMoney(a, v.o.total)
		r.v[orCurrency] = w.currencies[v.o.cur]
		r.v[orUpdated] = putTS(a, d.tsHead, v.upd)
		pres[orCustomer] = w.custFS[v.o.cust] >= 0
		ok, err := g.emit(&r, pres)
		if err != nil {
			return err
		}
		if ok && *v.inSilver {
			g.record(&r, ReasonLaterVersion)
		}
		*v.inSilver = *v.inSilver || ok
	}
	return nil
}

var qtyOne, qtyTwo = []byte("1"), []byte("2")

func (w *world) genOrderItems(g *tableGen, b *orderBook) error {
	var pres [maxCols]bool
	g.vary = func(r *rec) {
		if string(r.v[oiQty]) == "1" {
			r.v[oiQty] = qtyTwo
		} else {
			r.v[oiQty] = qtyOne
		}
	}
	for s := range b.orders {
		o := &b.orders[s]
		for k := range int32(o.nItems) {
			if err := g.boundary(); err != nil {
				return err
			}
			it := &b.items[o.first+k]
			a := g.arena()
			var r rec
			r.v[oiOrder] = w.putOrderID(a, b.day, s)
			r.v[oiLine] = putInt(a, int64(k)+1)
			r.v[oiProduct] = put(a, func(x []byte) []byte { return appendProductID(x, it.prod) })
			r.v[oiQty] = putInt(a, int64(it.qty))
			r.v[oiPrice] = putMoney(a, int64(it.price))
			r.v[oiDiscount] = putMoney(a, int64(it.disc))
			pres[oiOrder] = !b.rejected[s]
			pres[oiProduct] = w.prodFS[it.prod] >= 0
			if _, err := g.emit(&r, &pres); err != nil {
				return err
			}
		}
	}
	return nil
}

// ---- payments, shipments, returns ----

func (w *world) genPayments(g *tableGen, b *orderBook) error {
	rng := w.rng(tPayments, b.day)
	var pres [maxCols]bool
	g.vary = func(r *rec) { // another paid_ts, a minute off
		t := r.upd + 61
		if t > lastSecOfDay {
			t = r.upd - 61
		}
		r.v[paTS] = putTS(g.arena(), b.day.tsHead, t)
	}
	seq := 0
	for s := range b.orders {
		o := &b.orders[s]
		t := clampSec(o.ts + 5 + rng.Int32N(120))
		final := int8(psCaptured)
		switch o.status {
		case osPlaced:
			final = psAuthorized
		case osCancelled:
			final = psRefunded
			if rng.IntN(2) == 0 {
				final = psFailed
			}
		}
		attempts := []int8{final}
		if rng.Float64() < retryRate {
			attempts = []int8{psFailed, final}
		}
		for _, st := range attempts {
			if err := g.boundary(); err != nil {
				return err
			}
			seq++
			a := g.arena()
			var r rec
			r.upd = t
			r.v[paID] = put(a, func(x []byte) []byte {
				return appendDayID(x, paymentPrefix, b.day.compact, int64(seq), paymentWidth)
			})
			r.v[paOrder] = w.putOrderID(a, b.day, s)
			r.v[paMethod] = w.methods[rng.IntN(len(w.methods))]
			r.v[paAmount] = putMoney(a, o.total)
			r.v[paStatus] = w.paymentSt[st]
			r.v[paTS] = putTS(a, b.day.tsHead, t)
			pres[paOrder] = !b.rejected[s]
			if _, err := g.emit(&r, &pres); err != nil {
				return err
			}
			t = clampSec(t + 30 + rng.Int32N(300))
		}
	}
	return nil
}

func (w *world) genShipments(g *tableGen, b *orderBook) error {
	rng := w.rng(tShipments, b.day)
	var pres [maxCols]bool
	g.vary = func(r *rec) {
		i := slices.IndexFunc(w.carriers, func(c []byte) bool { return string(c) == string(r.v[shCarrier]) })
		r.v[shCarrier] = w.carriers[(i+1)%len(w.carriers)]
	}
	seq := 0
	for s := range b.orders {
		o := &b.orders[s]
		if o.status != osPaid && o.status != osShipped && o.status != osDelivered {
			continue
		}
		if err := g.boundary(); err != nil {
			return err
		}
		seq++
		a := g.arena()
		var r rec
		r.v[shID] = put(a, func(x []byte) []byte {
			return appendDayID(x, shipmentPrefix, b.day.compact, int64(seq), shipmentWidth)
		})
		r.v[shOrder] = w.putOrderID(a, b.day, s)
		r.v[shCarrier] = w.carriers[rng.IntN(len(w.carriers))]
		shipped := clampSec(o.upd + 600 + rng.Int32N(4*3600))
		delivered := clampSec(shipped + 1800 + rng.Int32N(6*3600))
		switch o.status {
		case osPaid:
			r.v[shStatus] = w.shipmentSt[ssLabelCreated]
		case osShipped:
			r.v[shStatus] = w.shipmentSt[ssInTransit]
			if rng.Float64() < lostShipmentRate {
				r.v[shStatus] = w.shipmentSt[ssLost]
			}
			r.v[shShipped] = putTS(a, b.day.tsHead, shipped)
		default:
			r.v[shStatus] = w.shipmentSt[ssDelivered]
			r.v[shShipped] = putTS(a, b.day.tsHead, shipped)
			r.v[shDelivered] = putTS(a, b.day.tsHead, delivered)
		}
		pres[shOrder] = !b.rejected[s]
		if _, err := g.emit(&r, &pres); err != nil {
			return err
		}
	}
	return nil
}

// genReturns returns items of the previous day's delivered orders (of the
// same day's on the first day).
func (w *world) genReturns(g *tableGen, d *dayInfo, today *orderBook) error {
	rng := w.rng(tReturns, d)
	src := today
	if w.prev != nil {
		src = w.prev
	}
	var pres [maxCols]bool
	g.vary = func(r *rec) {
		i := slices.IndexFunc(w.reasons, func(c []byte) bool { return string(c) == string(r.v[reReason]) })
		r.v[reReason] = w.reasons[(i+1)%len(w.reasons)]
	}
	delivered := 0
	for i := range src.orders {
		if src.orders[i].status == osDelivered {
			delivered++
		}
	}
	if delivered == 0 {
		return nil
	}
	// Selection sampling: exactly want of the delivered orders, in order.
	want := min(delivered, max(minReturns, int(math.Round(returnRate*float64(len(src.orders))))))
	seq := 0
	for s := range src.orders {
		o := &src.orders[s]
		if o.status != osDelivered {
			continue
		}
		pick := rng.IntN(delivered) < want
		delivered--
		if !pick {
			continue
		}
		want--
		if err := g.boundary(); err != nil {
			return err
		}
		it := &src.items[o.first+rng.Int32N(int32(o.nItems))]
		qty := 1 + rng.Int32N(it.qty)
		refund := int64(qty)*int64(it.price) - int64(it.disc)*int64(qty)/int64(it.qty)
		lo := int32(minSec)
		if src == today {
			lo = clampSec(o.upd + 60)
		}
		seq++
		a := g.arena()
		var r rec
		r.v[reID] = put(a, func(x []byte) []byte {
			return appendDayID(x, returnPrefix, d.compact, int64(seq), returnWidth)
		})
		r.v[reOrder] = w.putOrderID(a, src.day, s)
		r.v[reProduct] = put(a, func(x []byte) []byte { return appendProductID(x, it.prod) })
		r.v[reQty] = putInt(a, int64(qty))
		r.v[reRefund] = putMoney(a, refund)
		r.v[reReason] = w.reasons[rng.IntN(len(w.reasons))]
		r.v[reTS] = putTS(a, d.tsHead, lo+rng.Int32N(lastSecOfDay-lo+1))
		pres[reOrder] = !src.rejected[s]
		pres[reProduct] = w.prodFS[it.prod] >= 0
		if _, err := g.emit(&r, &pres); err != nil {
			return err
		}
	}
	return nil
}

// ---- cart events ----

type cartEvent struct {
	typ  int8
	prod int32 // -1: none
}

// genCartEvents gives every order's customer a session in the hours before the
// order, across one to three channels and ending in checkout_started, and adds
// anonymous browsing sessions.
func (w *world) genCartEvents(g *tableGen, b *orderBook) error {
	rng := w.rng(tCartEvents, b.day)
	d := b.day
	var pres [maxCols]bool
	var evs []cartEvent
	var chans []int
	ev, sess := 0, 0

	emitSession := func(cust int32, times []int32, chanOf func(k int) int) error {
		sess++
		a := g.arena()
		sid := put(a, func(x []byte) []byte { return appendDayID(x, sessionPrefix, d.compact, int64(sess), sessionWidth) })
		var cid []byte
		pres[ceCustomer] = true
		if cust >= 0 {
			cid = put(a, func(x []byte) []byte { return appendCustomerID(x, cust) })
			pres[ceCustomer] = w.custFS[cust] >= 0
		}
		for k, e := range evs {
			ev++
			var r rec
			r.v[ceID] = put(a, func(x []byte) []byte { return appendDayID(x, eventPrefix, d.compact, int64(ev), eventWidth) })
			r.v[ceSession] = sid
			r.v[ceCustomer] = cid
			pres[ceProduct] = true
			if e.prod >= 0 {
				r.v[ceProduct] = put(a, func(x []byte) []byte { return appendProductID(x, e.prod) })
				pres[ceProduct] = w.prodFS[e.prod] >= 0
			}
			r.v[ceType] = w.eventTy[e.typ]
			r.v[ceChannel] = w.channels[chanOf(k)]
			r.v[ceTS] = putTS(a, d.tsHead, times[k])
			if _, err := g.emit(&r, &pres); err != nil {
				return err
			}
		}
		return nil
	}
	pickChannels := func(n int) {
		chans = chans[:0]
		n = min(n, len(w.channels))
		for len(chans) < n {
			c := rng.IntN(len(w.channels))
			if !slices.Contains(chans, c) {
				chans = append(chans, c)
			}
		}
	}
	var times []int32

	for s := range b.orders {
		if err := g.boundary(); err != nil {
			return err
		}
		o := &b.orders[s]
		evs = append(evs[:0], cartEvent{etPageView, -1})
		for k := range int32(o.nItems) {
			p := b.items[o.first+k].prod
			if rng.IntN(2) == 0 {
				evs = append(evs, cartEvent{etProductView, p})
			}
			evs = append(evs, cartEvent{etAddToCart, p})
		}
		if rng.IntN(10) == 0 {
			p := w.active[rng.IntN(len(w.active))]
			evs = append(evs, cartEvent{etProductView, p}, cartEvent{etAddToCart, p}, cartEvent{etRemoveFromCart, p})
		}
		evs = append(evs, cartEvent{etCheckoutStarted, -1})
		// Spread the events evenly over the session, which ends just before the order.
		end := o.ts - 1
		start := max(minSec, o.ts-600-rng.Int32N(3*3600-600))
		times = times[:0]
		n := int32(len(evs))
		for k := range n {
			times = append(times, start+(end-start)*k/(n-1))
		}
		pickChannels(1 + weighted(rng, []int{50, 35, 15}))
		nc := len(chans)
		if err := emitSession(o.cust, times, func(k int) int { return chans[k*nc/len(evs)] }); err != nil {
			return err
		}

		if rng.Float64() < anonSessionRate {
			if err := g.boundary(); err != nil {
				return err
			}
			m := 2 + rng.IntN(5)
			evs = append(evs[:0], cartEvent{etPageView, -1})
			for len(evs) < m {
				p := w.active[rng.IntN(len(w.active))]
				if rng.IntN(10) < 3 && evs[len(evs)-1].typ == etProductView {
					evs = append(evs, cartEvent{etAddToCart, evs[len(evs)-1].prod})
				} else {
					evs = append(evs, cartEvent{etProductView, p})
				}
			}
			t := minSec + rng.Int32N(lastSecOfDay-minSec-1800)
			times = times[:0]
			for range evs {
				times = append(times, t)
				t = clampSec(t + 10 + rng.Int32N(290))
			}
			pickChannels(1 + weighted(rng, []int{80, 20}))
			nc := len(chans)
			if err := emitSession(-1, times, func(k int) int { return chans[k*nc/len(evs)] }); err != nil {
				return err
			}
		}
	}
	return nil
}
