package silver

import "testing"

// TestCleanText pins the cleaning SQL: one comparison per row and column (NULLIF,
// or a single IN list), whatever the number of tokens.
func TestCleanText(t *testing.T) {
	for _, tc := range []struct {
		tokens []string
		want   string
	}{
		{nil, `trim("x")`},
		{[]string{""}, `NULLIF(trim("x"), '')`},
		{[]string{"", "NA", "it's"}, `CASE WHEN trim("x") IN ('', 'NA', 'it''s') THEN NULL ELSE trim("x") END`},
	} {
		if got := cleanText(`"x"`, tc.tokens); got != tc.want {
			t.Errorf("cleanText(%q) = %s, want %s", tc.tokens, got, tc.want)
		}
	}
}
