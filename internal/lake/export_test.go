package lake

// NewGCSWithRetry opens a GCS lake with a retry budget (tests of the budget).
var NewGCSWithRetry = newGCS
