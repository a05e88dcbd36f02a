// How a running QEMU app's volumes are copied without holding it paused for the copy: QEMU's
// own backup job (QMP `blockdev-backup`, sync "full"). A job started while the VM is paused
// copies the disk as it was at that instant; a guest write to a part not yet copied first has
// the old data copied out (copy-before-write), so the VM runs on while the copy is made. The
// pause lasts a few QMP round trips instead of the time `cp` takes to write the whole volume
// (seconds per GiB on these machines without reflinks, about a minute on an SD card).
//
// QEMU 7.2's job writes a hole of the volume as allocated zeros (unwritten extents, which
// `fallocate --dig-holes` does not give back), so the copy takes the volume's whole size on the
// device until the run removes it; where that much room is not free, cp (sparse) does the copy.
//
// The snapshot worker (volume-scripts.ts) uses it only for a QEMU app whose QMP socket is there
// and whose drive QEMU names by its file; otherwise (Solo5, Xen, an app that does not run, a
// QEMU that refuses the job, a copy the disk has no room for unsparse) it copies with `cp`
// while the app is paused, as before. The jobs are named after the volume's place in the list
// (the copy lock makes one worker per app at a time), so leftovers of a killed worker are
// found and cleared by the next.
//
// The functions need `qmp` (the app's qmp helper, beside its socket) and `spec`; they set `live`.
import { qmpSocketName } from '../runtimes/qemu-launcher';

// A QMP client in Perl for the jobs (perl-base is Essential in Debian, JSON::PP is not: the
// replies are read with patterns, which QEMU's fixed output format allows). No single quotes:
// it is embedded in single quotes.
//   copy SRC DST [SRC DST...]  if the VM runs: finds each SRC's drive, stops the VM, adds each DST
//                              (an existing file) as a node, starts its job, and lets the VM run
//                              on, in one connection. Status 0 done; 10 the VM does not run; 6
//                              nothing stopped (no drive of that file, QEMU gone); 1 the stop
//                              failed (it may have taken effect); 2 the VM is stopped and the
//                              jobs failed; 3 the jobs run and cont went unanswered
//   wait N                     until jobs 0..N-1 have concluded; status 1 and the reason if one failed
//   clean N                    cancels, dismisses and removes whatever of jobs 0..N-1 exists
const liveCopyPerl = [
  'use strict; use IO::Socket::UNIX;',
  'my ($path, $mode, @args) = @ARGV;',
  // How far `copy` got decides its status when QEMU fails to answer: 0 nothing asked yet, 1 the
  // stop asked, 2 the VM stopped, 3 the jobs started.
  'my $phase = 0;',
  'sub fail { print STDERR "qmp: $_[0]\\n"; exit($mode eq "copy" ? (6, 1, 2, 3)[$phase] : 1) }',
  '$SIG{ALRM} = sub { fail("QEMU did not answer") };',
  'alarm 10; my $s = IO::Socket::UNIX->new(Peer => $path) or fail("cannot reach $path: $!");',
  '$s->autoflush(1); my $greeting = <$s>;',
  'sub ask { my ($line) = @_; alarm 10; print $s "$line\\n";',
  '  while (1) { my $l = <$s>; defined $l or fail("QEMU closed the connection");',
  '    next if $l =~ /"event"/; return $l } }',
  'sub job { my ($jobs, $i) = @_; return $jobs =~ /(\\{[^{}]*"id": "hearth-copy-$i"[^{}]*\\})/ ? $1 : "" }',
  'ask(q({"execute":"qmp_capabilities"}));',
  'if ($mode eq "copy") {',
  '  my $status = ask(q({"execute":"query-status"}));',
  '  $status =~ /"running": *true/ or exit 10;',
  '  my $blocks = ask(q({"execute":"query-block"})); my @devs;',
  '  for (my $i = 0; $i * 2 < @args; $i++) { my ($src, $dst) = @args[2 * $i, 2 * $i + 1];',
  '    if ("$src$dst" =~ /["\\\\\\x00-\\x1f]/) { print STDERR "qmp: a path Hearth does not send\\n"; exit 6 }',
  '    $blocks =~ /"device": "([^"]+)"(?:(?!"device":).)*?"file": "\\Q$src\\E"/ or do { print STDERR "qmp: QEMU has no drive for $src\\n"; exit 6 };',
  '    push @devs, $1 }',
  '  $phase = 1; my $r = ask(q({"execute":"stop"}));',
  '  if ($r =~ /"error"/) { print STDERR "qmp: $r"; exit 1 }',
  '  $phase = 2;',
  '  for my $i (0 .. $#devs) { my $dst = $args[2 * $i + 1];',
  // no-flush: the copy is read once and removed, so it need never reach the disk; with flushes
  // QEMU syncs the whole copy as its node is removed, most of the copy's time (a GiB here: 1.7
  // of 2.1 s; on an SD card, longer than the copy itself).
  '    $r = ask(qq({"execute":"blockdev-add","arguments":{"driver":"raw","node-name":"hearth-copy-$i","cache":{"no-flush":true},"file":{"driver":"file","filename":"$dst","cache":{"no-flush":true}}}}));',
  '    if ($r =~ /"error"/) { print STDERR "qmp: $r"; exit 2 }',
  '    my $job = qq("job-id":"hearth-copy-$i","device":"$devs[$i]","target":"hearth-copy-$i","sync":"full","auto-dismiss":false);',
  // copy_file_range: the kernel copies, not QEMU's threads (a third to half the time on these
  // machines). x-perf is experimental: a QEMU that does not know it is asked again without.
  '    $r = ask(qq({"execute":"blockdev-backup","arguments":{$job,"x-perf":{"use-copy-range":true}}}));',
  '    $r = ask(qq({"execute":"blockdev-backup","arguments":{$job}})) if $r =~ /"error".*x-perf/;',
  '    if ($r =~ /"error"/) { print STDERR "qmp: $r"; exit 2 } }',
  '  $phase = 3; $r = ask(q({"execute":"cont"}));',
  '  if ($r =~ /"error"/) { print STDERR "qmp: $r"; exit 3 }',
  '  exit 0 }',
  'my $n = $args[0] // 0; $n =~ /^[0-9]+$/ or exit 2;',
  'if ($mode eq "wait") {',
  '  while (1) { my $jobs = ask(q({"execute":"query-jobs"})); my $done = 0;',
  '    for my $i (0 .. $n - 1) { my $j = job($jobs, $i);',
  '      $j ne "" or do { print STDERR "qmp: the copy job of volume $i is gone\\n"; exit 1 };',
  '      next unless $j =~ /"status": "concluded"/;',
  '      if ($j =~ /"error": "([^"]*)"/) { print STDERR "qmp: $1\\n"; exit 1 }',
  '      $done++ }',
  '    exit 0 if $done == $n; select(undef, undef, undef, 0.1) } }',
  'if ($mode eq "clean") {',
  '  for my $i (0 .. $n - 1) { ask(qq({"execute":"job-cancel","arguments":{"id":"hearth-copy-$i"}})) }',
  '  for my $try (1 .. 50) { my $jobs = ask(q({"execute":"query-jobs"})); my $left = 0;',
  '    for my $i (0 .. $n - 1) { my $j = job($jobs, $i); next if $j eq "";',
  '      if ($j =~ /"status": "concluded"/) { ask(qq({"execute":"job-dismiss","arguments":{"id":"hearth-copy-$i"}})) } else { $left++ } }',
  '    last if $left == 0; select(undef, undef, undef, 0.1) }',
  '  for my $i (0 .. $n - 1) { ask(qq({"execute":"blockdev-del","arguments":{"node-name":"hearth-copy-$i"}})) }',
  '  exit 0 }',
  'exit 2;',
].join(' ');

export const liveCopyFunctions = `# A running QEMU app's volumes are copied by QEMU while it runs (live-copy.ts).
live_how() {
  live=no
  case "$(grep -o '"target":"[a-z0-9]*-' "$spec" 2>/dev/null | head -n 1)" in
    '"target":"qemu-') [ -S "\${qmp%/*}/${qmpSocketName}" ] && live=yes ;;
  esac
}
live_qmp() { perl -e '${liveCopyPerl}' "\${qmp%/*}/${qmpSocketName}" "$@"; }
`;
