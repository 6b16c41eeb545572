# Warm-path latency: p50 bars with a whisker up to p99, per batch size, log scale.
#   gnuplot -e "datafile='bench/results/warm.dat'; outfile='bench/results/warm.png'; subtitle='…'" bench/plot.gp
# (bench/run.sh runs it; warm.dat is written by bench/report.php.)
if (!exists("datafile")) datafile = 'bench/results/warm.dat'
if (!exists("outfile")) outfile = 'bench/results/warm.png'
if (!exists("subtitle")) subtitle = ''

set terminal pngcairo size 1000,600 enhanced font 'DejaVu Sans,11'
set output outfile
set title "vault\\_metadata warm batch: p50 (bar) and p99 (whisker), µs per call, log scale\n{/*0.8 ".subtitle."}"
set style data histograms
set style histogram errorbars gap 2 lw 1.2
set style fill solid 0.85 border -1
set boxwidth 0.9
set xrange [-0.6:2.6]
set logscale y
set yrange [0.05:*]
set ytics format "%g"
set grid ytics mytics lc rgb '#dddddd'
set ylabel 'µs per call'
set xlabel 'ids per batch'
set key below horizontal maxcols 2 reverse Left
set bars front

plot datafile using 2:2:3:xtic(1) title 'vault\_metadata\_fetch\_batch()' lc rgb '#1f77b4', \
     ''       using 4:4:5 title '(a) socket service + userland msgpack' lc rgb '#d62728', \
     ''       using 6:6:7 title '(b) plain PHP: PDO SQLite + msgpack\_unpack' lc rgb '#ff7f0e', \
     ''       using 8:8:9 title 'floor: prebuilt arrays handed over' lc rgb '#7f7f7f'
