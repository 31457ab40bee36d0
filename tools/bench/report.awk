# SPDX-License-Identifier: LGPL-2.1-or-later
# report.awk RAW: the table of make bench from run-bench's raw results
# ("provider round scenario metric value" lines, "#" lines for the set-up).
#
# Per scenario and metric, one row per provider: the median over the rounds,
# min-max, and two ratios: against the best peer (the best median among
# winpr, libuv, glib and wine: the pools we compare ourselves with) and
# against the floor.  A ratio is "times better": above 1 means faster (or
# smaller) than the reference, whichever way the metric runs.  Then the
# issue's targets, each marked met or MISSED, and by how much.

function fmt(v,    a) {
    a = v < 0 ? -v : v
    if (a >= 1e7) return sprintf("%.1fM", v / 1e6)
    if (a >= 1e6) return sprintf("%.2fM", v / 1e6)
    if (a >= 1e5) return sprintf("%.0fk", v / 1e3)
    if (a >= 1e4) return sprintf("%.1fk", v / 1e3)
    if (a >= 100) return sprintf("%.0f", v)
    if (a >= 10) return sprintf("%.1f", v)
    return sprintf("%.2f", v)
}

function sort_values(arr, n,    i, j, t) {
    for (i = 2; i <= n; i++) {
        t = arr[i]
        for (j = i - 1; j >= 1 && arr[j] > t; j--)
            arr[j + 1] = arr[j]
        arr[j + 1] = t
    }
}

# Median, min and max of the values of key k.
function stats(k,    n, i, vals) {
    n = split(values[k], vals, " ")
    for (i = 1; i <= n; i++)
        vals[i] += 0
    sort_values(vals, n)
    med[k] = n % 2 ? vals[(n + 1) / 2] : (vals[n / 2] + vals[n / 2 + 1]) / 2
    lo[k] = vals[1]
    hi[k] = vals[n]
    cnt[k] = n
}

# "times better" of a against reference b for metric m.
function better(m, a, b) {
    if (a <= 0 || b <= 0) return ""
    return higher[m] ? a / b : b / a
}

function have(s, m, p) {
    return ((s SUBSEP m SUBSEP p) in med)
}

function get(s, m, p) {
    return med[s, m, p]
}

# The best peer's provider name for scenario s, metric m ("" when none).
function best_peer(s, m,    i, p, best, bp) {
    bp = ""
    for (i = 1; i <= npeers; i++) {
        p = peers[i]
        if (!have(s, m, p)) continue
        if (bp == "" || (higher[m] ? get(s, m, p) > best : get(s, m, p) < best)) {
            best = get(s, m, p)
            bp = p
        }
    }
    return bp
}

function target(label, s, m, p, cmp, goal, unit,    v, ok, by, shown) {
    if (!have(s, m, p)) {
        printf "  %-46s %14s  not measured (%s: %s)\n", label, "-", p, \
            (p in built) ? "no result" : "not run"
        return
    }
    v = get(s, m, p)
    ok = cmp == ">=" ? v >= goal : v <= goal
    by = cmp == ">=" ? (goal - v) / goal * 100 : (v - goal) / goal * 100
    shown = fmt(v) unit
    if (ok)
        printf "  %-46s %14s  met\n", label, shown
    else
        printf "  %-46s %14s  MISSED by %.0f%%\n", label, shown, by
}

# A target on the plain quotient of p's median over reference q's.
function target_rel(label, s, m, p, q, cmp, goal,    v, ok, by) {
    if (!have(s, m, p) || !have(s, m, q)) {
        printf "  %-46s %14s  not measured (%s: %s)\n", label, "-", \
            !have(s, m, p) ? p : q, (!have(s, m, p) ? p : q) in built ? "no result" : "not run"
        return
    }
    v = get(s, m, p) / get(s, m, q)
    ok = cmp == ">=" ? v >= goal : v <= goal
    by = cmp == ">=" ? (goal - v) / goal * 100 : (v - goal) / goal * 100
    if (ok)
        printf "  %-46s %13.2fx  met\n", label, v
    else
        printf "  %-46s %13.2fx  MISSED by %.0f%%\n", label, v, by
}

# The growth of a per-object figure from the smallest size (a) to the
# largest (c) of a scale family, on the best round of each size (on a
# shared machine the minimum is the run least disturbed, the one that shows
# the cost of the code), against n log n's: flat when it grows by at
# most half, "<= n log n" when by at most 1.5 times log(n_c)/log(n_a) (the
# per-object cost of an n log n total), GROWS beyond.  Memory figures below
# 64 bytes per object at both ends are page-granularity noise: "flat".
function scale_summary(    f, fam, nm, mm, mi, m, pi, p, a, c, g, bound, verdict, any) {
    for (f = 9; f <= 12; f++) {
        fam = "S" f
        if (!((fam "a") in nof) || !((fam "c") in nof)) continue
        bound = log(nof[fam "c"]) / log(nof[fam "a"] > 1 ? nof[fam "a"] : 2)
        any = 0
        nm = split(scale_metrics[fam], mm, " ")
        for (mi = 1; mi <= nm; mi++) {
            m = mm[mi]
            for (pi = 1; pi <= nprov; pi++) {
                p = order[pi]
                if (!have(fam "a", m, p) || !have(fam "c", m, p)) continue
                if (!any) {
                    printf "\n%s scaling: per-object figures, best round, at N = %s, %s, %s " \
                        "(growth c/a; n log n allows %.2fx)\n", fam, nof[fam "a"], nof[fam "b"], \
                        nof[fam "c"], bound
                    any = 1
                }
                a = lo[fam "a", m, p]
                c = lo[fam "c", m, p]
                g = a > 0 ? c / a : (c > 0 ? -1 : 1)
                if ((g >= 0 && g <= 1.5) || (m ~ /bytes/ && a < 64 && c < 64))
                    verdict = "flat"
                else if (g >= 0 && g <= 1.5 * bound)
                    verdict = "<= n log n"
                else
                    verdict = "GROWS"
                scale_checked[p]++
                if (verdict == "GROWS")
                    scale_grows[p] = scale_grows[p] " " fam ":" m
                printf "  %-17s %-8s %9s %9s %9s  %7s  %s\n", label[m], p, fmt(a), \
                    have(fam "b", m, p) ? fmt(lo[fam "b", m, p]) : "-", fmt(c), \
                    (g >= 0 ? sprintf("%.2fx", g) : "-"), verdict
            }
        }
    }
}

# The log2 histogram of the lateness (S2, S7a, S7b): per provider the
# median over the rounds of the callbacks in each bucket, so that the tail
# behind p99 shows (how far it reaches, and how many are there).
function lateness_histogram(s,    b, pi, p, k, line) {
    if (!((s, "lat_b00") in seen)) return
    printf "  lateness histogram, callbacks per bucket (us), medians of the rounds\n"
    line = sprintf("  %-13s %-8s", "", "")
    for (b = 0; b < nlat; b++)
        line = line sprintf(" %5s", latname[b])
    print line
    for (pi = 1; pi <= nprov; pi++) {
        p = order[pi]
        if (!have(s, "lat_b00", p)) continue
        line = sprintf("  %-13s %-8s", "", p)
        for (b = 0; b < nlat; b++) {
            k = s SUBSEP sprintf("lat_b%02d", b) SUBSEP p
            line = line sprintf(" %5s", (k in med) ? fmt_count(med[k]) : "-")
        }
        print line
    }
}

# A count in at most 5 characters.
function fmt_count(v) {
    if (v >= 1e5) return sprintf("%.0fk", v / 1e3)
    if (v >= 1e4) return sprintf("%.1fk", v / 1e3)
    return sprintf("%.0f", v)
}

function scale_target(p,    n, k) {
    if (!scale_checked[p]) return
    n = scale_checked[p]
    k = split(scale_grows[p], grows_list, " ")
    if (k == 0)
        printf "  %-46s %14s  met\n", "S9-S12 " p " flat or <= n log n", n " figures"
    else
        printf "  %-46s %14s  MISSED:%s\n", "S9-S12 " p " flat or <= n log n", \
            k " of " n " grow", scale_grows[p]
}

BEGIN {
    title["S1"] = "one TP_WORK submitted N times"
    title["S1b"] = "N TrySubmitThreadpoolCallback"
    title["S2"] = "idle wake-up: pause, submit, callback start"
    title["S5s"] = "fan-in: ReleaseSemaphoreWhenCallbackReturns, N callbacks"
    title["S5e"] = "fan-in: SetEventWhenCallbackReturns, batches of 64"
    title["S6"] = "N work objects created, all alive, then closed; twice, the second timed"
    title["S7a"] = "N one-shot timers due within one second (lateness in us)"
    title["S7b"] = "N one-shot timers due within one second (lateness in us)"
    title["S8a"] = "N auto-reset events each with a wait, all set, then all signalled"
    title["S8b"] = "N auto-reset events each with a wait, all set, then all signalled"
    for (i = split("a b c", sfx, " "); i >= 1; i--) {
        title["S9" sfx[i]] = "scale: N one-shot timers armed, half due in 0.5-1.5 s and fired, half cancelled"
        title["S10" sfx[i]] = "scale: N registered waits on distinct events, all signalled"
        title["S11" sfx[i]] = "scale: N pools (min 1, max 2 threads), 100 posts of a work object each"
        title["S12" sfx[i]] = "scale: N overlapped 1-byte pipe reads pending through TP_IO, then completed"
    }
    # Per-object figures of the scale families, checked across their sizes.
    scale_metrics["S9"] = "create_ns set_ns cancel_ns close_ns bytes_per_obj bytes_per_armed"
    scale_metrics["S10"] = "create_ns set_ns dispatch_ns close_ns bytes_per_obj bytes_per_armed"
    scale_metrics["S11"] = "create_us close_us kib_per_pool threads_per_pool"
    scale_metrics["S12"] = "start_ns complete_ns bytes_per_pending"
    nmetrics = split("cb_per_s submit_ns total_ms overrun_ms set_ns p50_us p99_us early create_ns " \
                     "close_ns create_cold_ns bytes_per_obj signal_ns threads_added threads " \
                     "rss_growth_mib peak_rss_mib cancel_ns dispatch_ms dispatch_ns bytes_per_armed " \
                     "create_us run_ms close_us kib_per_pool threads_per_pool start_ns write_ns " \
                     "complete_ms complete_ns bytes_per_pending", metrics, " ")
    label["cb_per_s"] = "callbacks/s";  higher["cb_per_s"] = 1; ratio["cb_per_s"] = 1
    label["submit_ns"] = "submit ns";   ratio["submit_ns"] = 1
    label["p50_us"] = "p50 us";         ratio["p50_us"] = 1
    label["p99_us"] = "p99 us";         ratio["p99_us"] = 1
    label["total_ms"] = "total ms";     ratio["total_ms"] = 1
    label["overrun_ms"] = "overrun ms"; ratio["overrun_ms"] = 1
    label["set_ns"] = "set ns";         ratio["set_ns"] = 1
    label["early"] = "early"
    label["create_ns"] = "create ns";   ratio["create_ns"] = 1
    label["close_ns"] = "close ns";     ratio["close_ns"] = 1
    label["create_cold_ns"] = "create cold"; ratio["create_cold_ns"] = 1
    label["bytes_per_obj"] = "bytes/object"; ratio["bytes_per_obj"] = 1
    label["threads"] = "threads"
    label["signal_ns"] = "signal ns";   ratio["signal_ns"] = 1
    label["threads_added"] = "threads added"
    label["rss_growth_mib"] = "RSS growth MiB"
    label["peak_rss_mib"] = "peak RSS MiB"
    label["cancel_ns"] = "cancel ns";   ratio["cancel_ns"] = 1
    label["dispatch_ms"] = "dispatch ms"; ratio["dispatch_ms"] = 1
    label["dispatch_ns"] = "dispatch ns"; ratio["dispatch_ns"] = 1
    label["bytes_per_armed"] = "bytes/armed"
    label["create_us"] = "create us";   ratio["create_us"] = 1
    label["run_ms"] = "run ms";         ratio["run_ms"] = 1
    label["close_us"] = "close us";     ratio["close_us"] = 1
    label["kib_per_pool"] = "KiB/pool";  ratio["kib_per_pool"] = 1
    label["threads_per_pool"] = "threads/pool"
    label["start_ns"] = "start ns";     ratio["start_ns"] = 1
    label["write_ns"] = "write ns/pipe"
    label["complete_ms"] = "complete ms"; ratio["complete_ms"] = 1
    label["complete_ns"] = "complete ns"; ratio["complete_ns"] = 1
    label["bytes_per_pending"] = "bytes/pending"; ratio["bytes_per_pending"] = 1
    npeers = split("winpr libuv glib wine", peers, " ")
    # The lateness buckets of bench_report_lateness: below 2 us, then
    # [2^b, 2^(b+1)) us, the last from 4096 us on.
    nlat = split("<2 <4 <8 <16 <32 <64 <128 <256 <512 <1k <2k <4k >=4k", latnames, " ")
    for (b = 0; b < nlat; b++)
        latname[b] = latnames[b + 1]
}

/^# mode / { mode = $3; next }
/^# reps / { reps = $3; next }
/^# providers / { for (i = 3; i <= NF; i++) { order[++nprov] = $i; built[$i] = 1 } next }
/^# n / { nof[$3] = $4; sorder[++nscen] = $3; next }
/^# pause_us / { pause = $3; next }
/^# seconds / { seconds = $3; next }
/^# took / { took[$3] += $5; next }
/^# xc / { xc = xc sprintf(" %.0f", $4); next }
/^#/ { next }
$4 == "unsupported" || $4 == "failed" {
    why = $5
    for (i = 6; i <= NF; i++) why = why " " $i
    note[$3, $1] = ($4 == "failed" ? "failed in round " $2 ": " : "unsupported: ") why
    next
}
NF == 5 {
    k = $3 SUBSEP $4 SUBSEP $1
    values[k] = values[k] " " $5
    seen[$3, $4] = 1
    next
}

END {
    for (k in values) stats(k)
    printf "make bench (%s): %s rounds, providers interleaved, one process per run.\n", \
        mode, reps
    printf "Medians [min-max]. Ratios are times better (>1: faster or smaller) than the\n"
    printf "best peer (winpr, libuv, glib, wine) and than the floor.\n"
    if (xc != "")
        printf "A cache line's round trip between CPUs 0 and 1, per round (ns):%s\n", xc
    for (si = 1; si <= nscen; si++) {
        s = sorder[si]
        printf "\n%s  %s (N = %s%s)\n", s, title[s], nof[s], s == "S2" ? ", pause " pause " us" : ""
        printf "  %-13s %-8s %9s  %-19s %-16s %s\n", "metric", "provider", "median", \
            "[min-max]", "vs best peer", "vs floor"
        for (mi = 1; mi <= nmetrics; mi++) {
            m = metrics[mi]
            if (!((s, m) in seen)) continue
            bp = best_peer(s, m)
            first = 1
            for (pi = 1; pi <= nprov; pi++) {
                p = order[pi]
                if (!have(s, m, p)) continue
                k = s SUBSEP m SUBSEP p
                r1 = r2 = ""
                if (ratio[m] && bp != "" && p != bp)
                    r1 = sprintf("%.2fx %s", better(m, med[k], get(s, m, bp)), bp)
                else if (ratio[m] && p == bp)
                    r1 = "best"
                if (ratio[m] && have(s, m, "floor") && p != "floor")
                    r2 = sprintf("%.2fx", better(m, med[k], get(s, m, "floor")))
                printf "  %-13s %-8s %9s  %-19s %-16s %s\n", first ? label[m] : "", p, \
                    fmt(med[k]), "[" fmt(lo[k]) "-" fmt(hi[k]) "]", r1, r2
                first = 0
            }
        }
        for (pi = 1; pi <= nprov; pi++)
            if ((s, order[pi]) in note)
                printf "  %-13s %-8s %s\n", "", order[pi], note[s, order[pi]]
        lateness_histogram(s)
    }

    scale_summary()
    printf "\nTargets (issue 5; tp = our libkernel32_tp.so, wine-tp = our DLL under Wine)\n"
    target_rel("S1   tp callbacks/s >= 1.5x libuv", "S1", "cb_per_s", "tp", "libuv", ">=", 1.5)
    target("S1b  tp callbacks/s >= 3M", "S1b", "cb_per_s", "tp", ">=", 3e6, "")
    target("S1b  tp threads <= 4", "S1b", "threads", "tp", "<=", 4, "")
    target("S1b  tp peak RSS <= 16 MiB", "S1b", "peak_rss_mib", "tp", "<=", 16, " MiB")
    target_rel("S2   tp p50 <= 1.5x the floor's", "S2", "p50_us", "tp", "floor", "<=", 1.5)
    target("S5s  tp semaphore fan-in >= 2M/s", "S5s", "cb_per_s", "tp", ">=", 2e6, "")
    target("S6   tp create <= 80 ns", "S6", "create_ns", "tp", "<=", 80, " ns")
    target("S6   tp close <= 40 ns", "S6", "close_ns", "tp", "<=", 40, " ns")
    target("S6   tp bytes per live object <= 160", "S6", "bytes_per_obj", "tp", "<=", 160, " B")
    target_rel("S1   wine-tp callbacks/s >= 5x wine", "S1", "cb_per_s", "wine-tp", "wine", ">=", 5)
    target_rel("S1b  wine-tp callbacks/s >= 5x wine", "S1b", "cb_per_s", "wine-tp", "wine", ">=", 5)
    printf "Targets (issue 6: timers)\n"
    target("S7b  tp 100k timers done within 1020 ms", "S7b", "total_ms", "tp", "<=", 1020, " ms")
    target("S7b  tp lateness p99 <= 500 us", "S7b", "p99_us", "tp", "<=", 500, " us")
    target("S7b  tp set <= 300 ns", "S7b", "set_ns", "tp", "<=", 300, " ns")
    target("S7b  tp pool threads <= 3 (+1 timer thread)", "S7b", "threads", "tp", "<=", 3, "")
    # "5x faster than Wine's pool": the total time cannot go below the
    # one-second schedule, so its ratio is capped at wine's total / 1 s (Wine
    # takes 3.5-4 s, all of it setting the timers: its overrun past the last
    # due time is small).  The set cost and the lateness are what a pool can
    # be faster at.
    target_rel("S7b  wine-tp set <= 0.2x wine's", "S7b", "set_ns", "wine-tp", "wine", "<=", 0.2)
    target_rel("S7b  wine-tp lateness p99 <= 0.2x wine's", "S7b", "p99_us", "wine-tp", "wine", \
               "<=", 0.2)
    printf "Targets (issue 8: waits)\n"
    target_rel("S8b  tp 10k waits dispatched <= libuv's time", "S8b", "total_ms", "tp", "libuv", \
               "<=", 1)
    target("S8b  tp threads added <= 3", "S8b", "threads_added", "tp", "<=", 3, "")
    target("S8b  tp RSS growth <= 8 MiB", "S8b", "rss_growth_mib", "tp", "<=", 8, " MiB")
    target_rel("S8b  wine-tp threads added <= wine's", "S8b", "threads_added", "wine-tp", "wine", \
               "<=", 1)
    target_rel("S8b  wine-tp dispatch time <= wine's", "S8b", "total_ms", "wine-tp", "wine", \
               "<=", 1)
    if (scale_checked["tp"] || scale_checked["wine-tp"]) {
        printf "Targets (issue 17: scale; per-object figures, best rounds, see the scaling lines)\n"
        scale_target("tp")
        scale_target("wine-tp")
    }
    if (seconds != "") {
        printf "\nWall time %d s; per provider:", seconds
        for (pi = 1; pi <= nprov; pi++)
            printf " %s %.0f s", order[pi], took[order[pi]] / 1000
        printf "\n"
    }
}
