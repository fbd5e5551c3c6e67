#!/usr/bin/perl
# SPDX-License-Identifier: BSD-2-Clause
# mailspf_run.pl - bench/ peer: Debian's libmail-spf-perl (Mail::SPF 2.9.0) over a stream.
#
# Reads IP<TAB>SENDER<TAB>HELO lines on stdin, evaluates all of them in this
# one process and prints one result name per line, in order.
#
#   mailspf_run.pl PORT warm   two passes over the stream with one server
#                              object; prints pass 2's results; stderr gets
#                              "elapsed SECONDS" for pass 2. Mail::SPF has no
#                              DNS cache of its own and Net::DNS::Resolver
#                              none either, so "warm" only means a warmed
#                              process: every check still asks DNS.
#   mailspf_run.pl PORT cold   one pass; prints RESULT<TAB>MILLISECONDS
#
# DNS: a Net::DNS::Resolver with nameservers => ['127.0.0.1'] and port =>
# PORT, passed as dns_resolver; no search list, no resolv.conf servers.
use strict;
use warnings;
use Mail::SPF;
use Net::DNS::Resolver;
use Time::HiRes qw(time);

my ($port, $mode) = @ARGV;
my $res = Net::DNS::Resolver->new(
	nameservers => ['127.0.0.1'], port => $port, recurse => 1,
	retry => 2, retrans => 5, tcp_timeout => 10, udp_timeout => 10,
	defnames => 0, dnsrch => 0, searchlist => [], domain => '',
);
$res->nameservers('127.0.0.1');
my $server = Mail::SPF::Server->new(dns_resolver => $res);

my @lines = map { chomp; [split /\t/, $_, -1] } <STDIN>;

sub one {
	my ($f) = @_;
	my ($ip, $sender, $helo) = @$f;
	$helo //= '';
	$sender = "postmaster\@$helo" if $sender eq '' || $sender eq '<>';
	my $r = eval {
		my $req = Mail::SPF::Request->new(scope => 'mfrom', identity => $sender,
			ip_address => $ip, helo_identity => $helo);
		$server->process($req)->code;
	};
	return defined $r ? $r : 'error:' . (ref($@) || 'die');
}

$| = 0;
if ($mode eq 'warm') {
	one($_) for @lines;
	my $t0 = time;
	my @res = map { one($_) } @lines;
	my $el = time - $t0;
	print "$_\n" for @res;
	printf STDERR "elapsed %.6f\n", $el;
} else {
	$| = 1;
	for my $f (@lines) {
		my $t0 = time;
		my $r = one($f);
		printf "%s\t%.3f\n", $r, (time - $t0) * 1000;
	}
}
