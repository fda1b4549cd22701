package main

import (
	"errors"
	"io"
)

func runLive(args []string, stdout, stderr io.Writer) int {
	return fail(stderr, exitFailure, errors.New("live mode: not built yet"))
}

func runDemo(args []string, stdout, stderr io.Writer) int {
	return fail(stderr, exitFailure, errors.New("demo: not built yet"))
}
