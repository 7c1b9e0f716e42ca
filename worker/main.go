package main

import (
	_ "github.com/duckdb/duckdb-go/v2"
	_ "github.com/lmittmann/tint"
	_ "github.com/parquet-go/parquet-go"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/urfave/cli/v2"
	_ "gopkg.in/yaml.v3"
)

func main() {}
