// Package input reads access-log lines from what is not a plain file:
// syslog datagrams (RFC 3164, as nginx's access_log syslog: sends them) and
// the wrappers container runtimes put around each line a container writes
// (CRI's "TIMESTAMP STREAM F|P line" and Docker's json-file records), with
// partial lines joined. Each function here takes one record and returns the
// log line inside it without allocating; the caller feeds that line to the
// same counting path the file tailer feeds.
package input
