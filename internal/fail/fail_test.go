package fail

import (
	"errors"
	"fmt"
	"testing"
)

func TestCodeAndWorst(t *testing.T) {
	base := errors.New("x")
	for _, c := range []struct {
		err  error
		want int
	}{
		{nil, OK},
		{base, Internal},
		{Usage(base), BadUsage},
		{fmt.Errorf("wrapped: %w", Data(base)), BadData},
		{Skip(base), Nothing},
		{Data(Usage(base)), BadData}, // the outermost classification wins
	} {
		if got := Code(c.err); got != c.want {
			t.Errorf("Code(%v) = %d, want %d", c.err, got, c.want)
		}
	}
	if Worst(OK, Nothing) != Nothing || Worst(Nothing, Internal) != Internal || Worst(BadData, BadUsage) != BadData || Worst(Internal, BadUsage) != BadUsage {
		t.Error("Worst ranks 3 over 2 over 1 over 4 over 0")
	}
}
