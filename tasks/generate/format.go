package generate

import (
	"strconv"
	"time"
)

// secondsPerDay bounds every timestamp offset: values stay inside their partition's day.
const secondsPerDay = 86400

// dayInfo is one generated day, with the strings its ids and timestamps start with.
type dayInfo struct {
	index   int       // 0 for the first generated day
	date    time.Time // midnight UTC
	iso     string    // 2026-11-20, the partition value
	compact string    // 20261120, inside order, event and session ids
	tsHead  string    // 2026-11-20T
}

func newDayInfo(start time.Time, i int) dayInfo {
	d := start.AddDate(0, 0, i)
	return dayInfo{
		index:   i,
		date:    d,
		iso:     d.Format(time.DateOnly),
		compact: d.Format("20060102"),
		tsHead:  d.Format("2006-01-02") + "T",
	}
}

// appendTS appends an ISO timestamp (2026-11-20T10:15:00Z) sec seconds into the day.
func appendTS(b []byte, head string, sec int32) []byte {
	if sec < 0 {
		sec = 0
	}
	if sec >= secondsPerDay {
		sec = secondsPerDay - 1
	}
	h, m, s := sec/3600, sec/60%60, sec%60
	b = append(b, head...)
	b = append(b, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10), ':', byte('0'+s/10), byte('0'+s%10), 'Z')
	return b
}

// appendMoney appends cents as a decimal string with two decimals ("12.50", "-3.05").
func appendMoney(b []byte, cents int64) []byte {
	if cents < 0 {
		b = append(b, '-')
		cents = -cents
	}
	b = strconv.AppendInt(b, cents/100, 10)
	c := cents % 100
	return append(b, '.', byte('0'+c/10), byte('0'+c%10))
}

// appendID appends prefix and n zero-padded to width digits (C000123, P00042).
func appendID(b []byte, prefix string, n int64, width int) []byte {
	b = append(b, prefix...)
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], n, 10)
	for i := len(d); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, d...)
}

// Id widths and prefixes of the shop's keys.
const (
	customerPrefix = "C"
	customerWidth  = 6
	productPrefix  = "P"
	productWidth   = 5
	orderPrefix    = "O" // O20261120-000001
	orderWidth     = 6
	paymentPrefix  = "PAY" // PAY20261120-0000001
	paymentWidth   = 7
	shipmentPrefix = "SHP"
	shipmentWidth  = 7
	returnPrefix   = "R"
	returnWidth    = 6
	eventPrefix    = "E"
	eventWidth     = 8
	sessionPrefix  = "S"
	sessionWidth   = 7
)

func appendCustomerID(b []byte, idx int32) []byte {
	return appendID(b, customerPrefix, int64(idx)+1, customerWidth)
}

func appendProductID(b []byte, idx int32) []byte {
	return appendID(b, productPrefix, int64(idx)+1, productWidth)
}

// appendDayID appends prefix+yyyymmdd+"-"+seq (orders, payments, shipments, ...).
func appendDayID(b []byte, prefix, compact string, seq int64, width int) []byte {
	b = append(b, prefix...)
	b = append(b, compact...)
	return appendID(b, "-", seq, width)
}

// Orphan keys look like real ones but can never exist: a real id would need
// hundreds of millions of customers, products or orders of one day.
func orphanCustomerID(b []byte, n uint64) []byte {
	return appendID(b, customerPrefix+"9", int64(n%100_000_000), 8)
}

func orphanProductID(b []byte, n uint64) []byte {
	return appendID(b, productPrefix+"9", int64(n%10_000_000), 7)
}

func orphanOrderID(b []byte, compact string, n uint64) []byte {
	b = append(b, orderPrefix...)
	b = append(b, compact...)
	return appendID(b, "-9", int64(n%100_000_000), 8)
}
