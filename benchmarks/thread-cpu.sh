#!/usr/bin/env bash
# Where a process's CPU goes, by thread: the time each of its threads ran (the kernel's schedstat, in ns) over a
# window, in ms of CPU per second, threads of one pool summed (their names' trailing numbers dropped), and the
# number of times they were switched in (a thread woken for little work costs mostly its wake-ups).
#
#   benchmarks/thread-cpu.sh <pid> [seconds (10)] [delay before the window, seconds (0)]
set -euo pipefail
pid="$1"
seconds="${2:-10}"
[ "$seconds" -ge 1 ] || { echo "thread-cpu: seconds=$seconds must be at least 1" >&2; exit 2; }
sleep "${3:-0}"
snap() { # -> tid ns-on-cpu switches-in name
    for task in /proc/"$pid"/task/*; do
        read -r ns _ slices < "$task/schedstat" || continue
        echo "${task##*/} $ns $slices $(tr ' ' '_' < "$task/comm")"
    done 2>/dev/null | sort
}
before="$(snap)"
sleep "$seconds"
after="$(snap)"
echo "# CPU by thread over ${seconds} s (pid $pid): ms/s, wake-ups/s, threads"
join <(echo "$before") <(echo "$after") | awk -v s="$seconds" '
    { name = $4; sub(/[-_]?[0-9]+$/, "", name); ms[name] += ($5 - $2) / 1e6 / s; wk[name] += ($6 - $3) / s; n[name]++
      total += ($5 - $2) / 1e6 / s; wakes += ($6 - $3) / s }
    END { for (k in ms) if (ms[k] >= 0.1) printf "%9.1f %9.0f %4d  %s\n", ms[k], wk[k], n[k], k
          printf "%9.1f %9.0f       TOTAL\n", total, wakes }' | sort -rn
