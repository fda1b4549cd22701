#!/bin/sh
# replay-ab.sh: wall time of `replay` for builds side by side, on a machine
# whose speed drifts. Each round runs every build once, on one core and on
# two, in an order that alternates from round to round, so a slow spell
# hits all of them; medians over the rounds, for each build the median of
# its per-round two-core speed-up, and for each build after the first the
# median of its per-round time over the first's.
#
#   tools/replay-ab.sh ROUNDS LOG BIN...
#   tools/replay-ab.sh 25 /tmp/big.log /tmp/se-old bin/session-exporter
#
# LOG is read as FORMAT (combined unless set) and should be uncompressed:
# lines/s are its `wc -l` over the wall time.
set -eu
format=${FORMAT:-combined}
[ $# -ge 3 ] || { echo "usage: $0 ROUNDS LOG BIN..." >&2; exit 2; }
rounds=$1 log=$2
shift 2
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
r=1
while [ "$r" -le "$rounds" ]; do
	order=$*
	if [ $((r % 2)) = 0 ]; then # the other way round
		order=$(for b in "$@"; do echo "$b"; done | awk '{l[NR]=$0} END {for (i = NR; i > 0; i--) print l[i]}')
	fi
	for b in $order; do
		for p in 1 2; do
			/usr/bin/time -a -o "$raw" -f "$r $b $p %e %U %S" env GOMAXPROCS=$p "$b" replay -format "$format" -o json "$log" > /dev/null ||
				{ echo "$0: $b failed on $log (GOMAXPROCS=$p)" >&2; exit 1; }
		done
	done
	r=$((r + 1))
done
lines=$(wc -l < "$log")
awk -v lines="$lines" -v first="$1" '
	function median(a, n,    i, j, t) {
		for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
		return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
	}
	{ wall[$2, $3, $1] = $4; cpu[$2, $3, $1] = $5 + $6; bins[$2] = 1; rounds[$1] = 1 }
	END {
		for (b in bins) {
			for (p = 1; p <= 2; p++) {
				n = 0; for (r in rounds) { w[++n] = wall[b, p, r]; c[n] = cpu[b, p, r] }
				mw[p] = median(w, n); mc = median(c, n)
				printf "%s, %d core%s: median %.3f s wall (%.2f M lines/s), %.3f s CPU\n", b, p, (p > 1 ? "s" : ""), mw[p], lines / mw[p] / 1e6, mc
			}
			n = 0; for (r in rounds) s[++n] = wall[b, 1, r] / wall[b, 2, r]
			printf "%s: two cores %.2f x one core (ratio of the medians), %.2f x (median of the rounds)\n", b, mw[1] / mw[2], median(s, n)
			if (b == first) continue
			for (p = 1; p <= 2; p++) {
				n = 0; for (r in rounds) s[++n] = wall[b, p, r] / wall[first, p, r]
				printf "%s, %d core%s: %.3f of %s'"'"'s time (median of the rounds)\n", b, p, (p > 1 ? "s" : ""), median(s, n), first
			}
		}
	}' "$raw"
