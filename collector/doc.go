// Package collector runs the counting path for one configuration: lines
// from files, standard input or syslog are parsed (accesslog), classified
// (classify), judged by the clock guard and sessionized (session), and
// counted into metrics (telemetry). Replay runs it over files and returns
// what it counted; Run runs it live beside a web server, following the logs
// (tail), serving /metrics and saving checkpoints (state).
//
// The files, by job:
//
//	collector.go   Collector: the configuration turned into the parts below
//	pipeline.go    the counting path: the per-line step (decoder), the
//	               only caller of the parsers and the classifier, and the
//	               counting half (clock guard, one sessionizer)
//	lines.go       cutting input into lines, in place
//	replay.go      Replay, sequential, and the inputs it opens
//	parallel.go    the parallel replay: decoding on workers, counting in
//	               input order on one goroutine, bounded memory
//	live.go        Run: start-up, inputs, serving and shutdown
//	handler.go     the live side of the counting path: the tailer's lines
//	               and events, the periodic tick
//	checkpoint.go  loading, repairing and saving the state file
//	inputs.go      standard input and syslog sockets
//	wrapper.go     container runtime log records around lines
//	health.go      warnings about missing logs and rejected lines
//	scrape.go      the HTTP handlers: /metrics, /healthz, /
//	sample.go      logging a rejected line's shape, rate-limited
//	rotation.go    the order rotated files are replayed in
//	summary.go     the replay summary the command reports
//
// The OTLP push of the same metrics is telemetry's (telemetry/otlp.go).
//
// The command (cmd/session-exporter) parses flags, loads the configuration,
// and formats the replay summary.
package collector
