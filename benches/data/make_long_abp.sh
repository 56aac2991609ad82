#!/bin/sh
# Builds the 2-hour arterial pressure records of docs/performance.md from tests/data only:
#   OUT/abp125.{hea,dat}  TestICU's arterial pressure (signal index 2) repeated 24 times: 900,000 samples at 125 Hz
#   OUT/abp1k.{hea,dat}   the same linearly interpolated to 1 kHz (7.2 M samples; gain 8/mmHg, so exact)
# One signal each (`heracles analyze OUT/abp125.hea --signal abp=0`, `wabp -r abp125 -s 0`).
# Usage: benches/data/make_long_abp.sh OUT_DIR
set -eu
out=${1:?usage: make_long_abp.sh OUT_DIR}
here=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out"
perl -e '
    use strict; use warnings;
    my ($dat, $out) = @ARGV;
    open(my $in, "<:raw", $dat) or die "$dat: $!";
    local $/; my $bytes = <$in>; close $in;
    my @all = unpack("s<*", $bytes);
    my @abp = @all[grep { $_ % 6 == 2 } 0 .. $#all];     # 6 interleaved signals, index 2
    my @long = (@abp) x 24;
    open(my $o, ">:raw", "$out/abp125.dat") or die; print $o pack("s<*", @long); close $o;
    my $n = @long;
    # WFDB checksum: the 16-bit sum of the samples, as a signed number.
    sub checksum { my $s = 0; $s = ($s + $_) & 0xffff for @_; return $s >= 0x8000 ? $s - 0x10000 : $s }
    my $c125 = checksum(@long);
    open(my $h, ">", "$out/abp125.hea") or die;
    print $h "abp125 1 125 $n\nabp125.dat 16 1/mmHg 16 0 $long[0] $c125 0 ABP\n"; close $h;
    # 1 kHz: 8 output samples per input sample, linear; stored x8 (gain 8), so every value is a whole number.
    my @up;
    for my $i (0 .. $n - 2) {
        my ($a, $b) = ($long[$i], $long[$i + 1]);
        push @up, map { 8 * $a + $_ * ($b - $a) } 0 .. 7;
    }
    push @up, 8 * $long[-1];
    my $m = @up;
    my $c1k = checksum(@up);
    open($o, ">:raw", "$out/abp1k.dat") or die; print $o pack("s<*", @up); close $o;
    open($h, ">", "$out/abp1k.hea") or die;
    print $h "abp1k 1 1000 $m\nabp1k.dat 16 8/mmHg 16 0 $up[0] $c1k 0 ABP\n"; close $h;
' "$here/tests/data/wfdb/TestICU.dat" "$out"
