# gnuplot script of tests/bench/run.sh:
#   gnuplot -e "dat='DIR'; out='FILE.png'" tests/bench/plot.gp
# Reads DIR/s1.dat, s2.dat, s3.dat, s4.dat (those present) written by bench.py report.
set terminal pngcairo size 1500,520 font "sans,10"
set output out
set multiplot layout 1,3
set grid
set key bottom right

have(f) = system("test -s ".f." && echo 1 || echo 0") + 0

set title "Rate-limited: utilization of the 200/s limit"
set xlabel "replicas"
set ylabel "utilization of ideal (%)"
set yrange [0:110]
set ytics 0,20,100
set key below horizontal
set xrange [0.5:4.5]
set xtics (1, 2, 4)
set style fill solid 0.6
set boxwidth 0.35
s1 = dat."/s1.dat"; s2 = dat."/s2.dat"
if (have(s1) && have(s2)) {
  plot s1 using ($1-0.2):2 with boxes title "budget = limit (200/s)", \
       s2 using ($1+0.2):2 with boxes title "budget 2x (400/s)", \
       98 with lines dt 2 lc rgb "red" title "target 98 %"
} else { if (have(s1)) {
  plot s1 using 1:2 with boxes title "budget = limit (200/s)", \
       98 with lines dt 2 lc rgb "red" title "target 98 %"
} else { if (have(s2)) {
  plot s2 using 1:2 with boxes title "budget 2x (400/s)"
} else { set title "scenario 1 not run"; unset key; plot 2 with lines notitle } } }

set title "Unlimited: CPU per update / per request"
set xlabel "in flight (worker) / connections (wrk)"
set ylabel "CPU µs"
set logscale x 2
set xrange [40:1600]
set xtics (64, 256, 1024)
set autoscale y
set yrange [0:*]
set key inside top left vertical
s3 = dat."/s3.dat"
if (have(s3)) {
  plot s3 using 1:2 with linespoints pt 7 title "worker CPU µs / update", \
       s3 using 1:3 with linespoints pt 5 title "wrk CPU µs / request", \
       s3 using 1:($3*3) with lines dt 2 lc rgb "red" title "3x wrk (target)"
} else { set title "scenario 3 not run"; unset key; plot 2 with lines notitle }
unset logscale x

set title "Backlog: worker VmRSS over time"
set xlabel "seconds since start"
set ylabel "VmRSS (MiB)"
set autoscale x
set xtics autofreq
set key below horizontal
set yrange [0:*]
set offsets 0, 0, graph 0.1, 0
s4 = dat."/s4.dat"
if (have(s4)) {
  bound = system("awk '/^# bound/ { print $3 }' ".s4) + 0
  plot s4 using 1:2 with linespoints pt 7 ps 0.5 title "VmRSS", \
       bound with lines dt 2 lc rgb "red" title "idle base + 16 MiB"
} else { set title "scenario 4 not run"; unset key; plot 2 with lines notitle }
unset multiplot
