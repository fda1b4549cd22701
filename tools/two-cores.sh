#!/bin/sh
# two-cores.sh: the replay's two-core speed-up beside the one the machine
# gives work that shares nothing. Each round runs, in an order that
# alternates from round to round: the build alone on one core
# (GOMAXPROCS=1); two copies of it at once, each with GOMAXPROCS=1, which
# share nothing but the machine; and the build on two cores. On a machine
# whose two cores slow each other down when both are busy (two virtual
# cores on one physical core, a shared memory bus), the pair shows it:
# two copies take longer than one alone. The pair is not a strict bound
# for one replay split over two cores (its copies start up at once and
# read the file twice), but it is what the machine gives.
#
#   tools/two-cores.sh ROUNDS LOG BIN
#   tools/two-cores.sh 25 /tmp/big.log bin/session-exporter
#
# Printed, as medians of the per-round figures:
#   the machine: 2 x (one alone) / (the pair, from the start of both to
#                the end of both), the speed-up two cores give two
#                independent one-core replays;
#   the replay:  (one alone) / (the build on two cores);
#   the share:   the replay's speed-up over the machine's, round by round
#                (1.0: the replay gains from the second core what two
#                independent replays do);
#   CPU:         each copy of the pair's CPU time over the one alone's.
# LOG is read as FORMAT (combined unless set).
set -eu
format=${FORMAT:-combined}
[ $# -eq 3 ] || { echo "usage: $0 ROUNDS LOG BIN" >&2; exit 2; }
rounds=$1 log=$2 bin=$3
case $rounds in '' | *[!0-9]* | 0) echo "$0: ROUNDS must be a positive number, not '$rounds'" >&2; exit 2 ;; esac
raw=$(mktemp)
trap 'rm -f "$raw" "$raw".a "$raw".b' EXIT
now() { date +%s%N; }
run() { # run GOMAXPROCS OUT: CPU seconds into OUT
	/usr/bin/time -o "$2" -f "%U %S" env GOMAXPROCS="$1" "$bin" replay -format "$format" -o json "$log" > /dev/null ||
		{ echo "$0: $bin failed on $log (GOMAXPROCS=$1)" >&2; exit 1; }
}
alone() {
	t0=$(now); run 1 "$raw".a; t1=$(now)
	echo "$r alone $(((t1 - t0) / 1000000)) $(cat "$raw".a)" >> "$raw"
}
pair() {
	t0=$(now)
	run 1 "$raw".a & pa=$!
	run 1 "$raw".b & pb=$!
	ok=0; wait "$pa" || ok=1; wait "$pb" || ok=1
	[ "$ok" = 0 ] || { echo "$0: a copy of the pair failed" >&2; exit 1; }
	t1=$(now)
	echo "$r pair $(((t1 - t0) / 1000000)) $(cat "$raw".a) $(cat "$raw".b)" >> "$raw"
}
two() {
	t0=$(now); run 2 "$raw".a; t1=$(now)
	echo "$r two $(((t1 - t0) / 1000000)) $(cat "$raw".a)" >> "$raw"
}
r=1
while [ "$r" -le "$rounds" ]; do
	if [ $((r % 2)) = 1 ]; then alone; pair; two; else two; pair; alone; fi
	r=$((r + 1))
done
awk '
	function median(a, n,    i, j, t) {
		for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
		return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
	}
	$2 == "alone" { aw[$1] = $3 / 1000; ac[$1] = $4 + $5 }
	$2 == "pair"  { pw[$1] = $3 / 1000; pc[$1] = ($4 + $5 + $6 + $7) / 2 }
	$2 == "two"   { tw[$1] = $3 / 1000 }
	END {
		n = 0
		for (r in aw) {
			n++; a[n] = aw[r]; p[n] = pw[r]; t[n] = tw[r]
			m[n] = 2 * aw[r] / pw[r]; s[n] = aw[r] / tw[r]; f[n] = s[n] / m[n]; c[n] = pc[r] / ac[r]
		}
		printf "one alone %.3f s, the pair %.3f s, two cores %.3f s (medians of %d rounds)\n", median(a, n), median(p, n), median(t, n), n
		printf "the machine: two cores give %.2f x one (two independent replays at once)\n", median(m, n)
		printf "the replay:  two cores give %.2f x one\n", median(s, n)
		printf "the share:   the replay gets %.2f of the machine'"'"'s speed-up\n", median(f, n)
		printf "CPU:         each copy of the pair used %.2f x the CPU time of the one alone\n", median(c, n)
	}' "$raw"
