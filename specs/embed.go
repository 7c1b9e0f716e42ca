// Package specs embeds the reference pipeline specs into the worker binary.
package specs

import (
	"embed"
	"io/fs"
)

//go:embed shop
var files embed.FS

// Shop is the reference shop pipeline spec folder (pipeline.yaml and sql/).
func Shop() fs.FS {
	sub, err := fs.Sub(files, "shop")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder exists
	}
	return sub
}

// ShopDisplay is how messages name the embedded spec folder.
const ShopDisplay = "specs/shop"
