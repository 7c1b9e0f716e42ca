package lake

// NewLocalLinking is NewLocal with link standing in for os.Link, so a test can
// make the file system refuse hard links (another device, no link support).
func NewLocalLinking(dir string, link func(oldname, newname string) error) (*Local, error) {
	l, err := NewLocal(dir)
	if err != nil {
		return nil, err
	}
	l.link = link
	return l, nil
}

// NewGCSWithRetry opens a GCS lake with a retry budget (tests of the budget).
var NewGCSWithRetry = newGCS
