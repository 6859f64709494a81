# Plot a rusty-audio spectrum CSV with gnuplot, as --plot does in SVG:
# log frequency from 20 Hz, dB, one line per column.
#
#   gnuplot -e "csv='song.spectrum.csv'" -e "out='song.svg'" scripts/plot-spectrum.gp
#
# Without out= it draws on gnuplot's default terminal. A CSV written with
# --spectrum-of both also has delta, target and error columns: pass
# cols='2:5' to plot only some of them (here the in and out columns of a
# stereo file).
if (!exists("csv")) {
	print "usage: gnuplot -e \"csv='FILE.csv'\" [-e \"out='FILE.svg'\"] [-e \"cols='2:5'\"] plot-spectrum.gp"
	exit
}
set datafile separator ","
set datafile commentschars "#"
set datafile columnheaders
stats csv using 1 nooutput
nyquist = STATS_max
stats csv nooutput
last = STATS_columns
first = 2
if (exists("cols")) {
	first = int(word(system("echo '".cols."' | tr ':' ' '"), 1))
	last = int(word(system("echo '".cols."' | tr ':' ' '"), 2))
}
if (exists("out")) {
	set terminal svg size 960,540 dynamic background rgb "white"
	set output out
}
set title csv noenhanced
set logscale x
set xrange [20:nyquist]
set grid xtics mxtics ytics
set xlabel "frequency (Hz)"
set ylabel "dB"
set key outside right top noenhanced
plot for [i=first:last] csv using 1:i with lines title columnhead(i)
